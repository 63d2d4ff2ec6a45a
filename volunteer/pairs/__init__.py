"""Forløb: a volunteer and a person we help, paired for months (#13, parts 3 and 4).

- ``models``   the forløb and its check-ins
- ``states``   ``move()``: the one way a forløb's state changes, with its state table
- ``services`` who sees a forløb, proposing, accepting, pausing, ending, the lists
- ``candidates`` volunteers for a waiting person, from the ``matching`` engine, with reasons
- ``checkins`` "Hvordan går det?" 4 weeks after the start and every 3 months, one-click answers
"""
