"""Bookings: the one home of the rules about who holds which place on a need.

Every change of ``Assignment.state`` goes through :func:`move` (or :func:`start` for a new row),
which enforces the state table, the seats, time clashes and weekly capacity, and keeps the
need's open/filled status right. Pages, digests and reports read free places from
:func:`free_places` / :func:`free_sql`, and every path that books a volunteer asks
:func:`conflict` whether they are busy then.

- ``locks``   the need's and the volunteer's locks, and the order to take them in
- ``places``  held and free places, the need's open/filled status
- ``clashes`` time clashes and weekly capacity ("Højst hvor mange aktiviteter om ugen?")
- ``states``  ``start()`` and ``move()``: the assignment state machine
- ``visits``  ``move_visit()`` and ``cancel()``: the visit state machine (``tell_centre()``:
  a cancelled visit due today or tomorrow is told to the centre's staff)
"""

from volunteer.bookings.clashes import (
    COMMITTED_STATES,
    PROPOSING_STATES,
    Slot,
    clash,
    commitments,
    conflict,
    conflict_for,
    most_in_one_week,
    slot_of,
)
from volunteer.bookings.locks import lock_need, lock_needs, lock_volunteer, lock_volunteers
from volunteer.bookings.places import (
    HELD_STATES,
    YES_STATES,
    accepted_count,
    bookable_sql,
    free_of,
    free_places,
    free_sql,
    has_dates_ahead,
    held_count,
    held_counts,
    held_sql,
    refresh_status,
    seat_for,
)
from volunteer.bookings.states import (
    INVITATION_DAYS,
    ForbiddenMove,
    Refused,
    move,
    start,
)
from volunteer.bookings.visits import (
    VISIT_MOVES,
    ForbiddenVisitMove,
    booked_ahead,
    cancel,
    cancellable,
    move_visit,
    tell_centre,
)

__all__ = [
    "VISIT_MOVES",
    "ForbiddenVisitMove",
    "booked_ahead",
    "cancel",
    "cancellable",
    "move_visit",
    "tell_centre",
    "COMMITTED_STATES",
    "HELD_STATES",
    "YES_STATES",
    "PROPOSING_STATES",
    "INVITATION_DAYS",
    "ForbiddenMove",
    "Refused",
    "Slot",
    "accepted_count",
    "bookable_sql",
    "clash",
    "commitments",
    "conflict",
    "conflict_for",
    "free_of",
    "free_places",
    "free_sql",
    "has_dates_ahead",
    "held_count",
    "held_counts",
    "held_sql",
    "lock_need",
    "lock_needs",
    "lock_volunteer",
    "lock_volunteers",
    "most_in_one_week",
    "move",
    "refresh_status",
    "seat_for",
    "slot_of",
    "start",
]
