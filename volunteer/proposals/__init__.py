"""Proposals (*forslag*): citizens' initiatives with co-authors, supporters, comments and an
official answer by a deadline (``states.move`` is the one way a proposal's state changes)."""
