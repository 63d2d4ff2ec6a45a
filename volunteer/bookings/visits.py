"""The visit state machine: ``move_visit()`` is the only way a visit's state changes, and
``cancel()`` the only way a booked visit is called off (by the volunteer, their away period,
the end of their assignment, a closed need or a deleted account).

A visit starts *scheduled*. The centre records what happened (confirmed, no-show or cancelled)
and may correct its record later; a volunteer or the system can only cancel a visit that is
still scheduled and has not started (``cancellable``). Call these inside the transaction that
changes the visit; they do not commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from volunteer.auth.models import Role
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_today, to_local
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.needs.models import Occurrence
from volunteer.notifications.services import enqueue

_S, _C, _N, _X = (
    VisitState.SCHEDULED,
    VisitState.CONFIRMED,
    VisitState.NO_SHOW,
    VisitState.CANCELLED,
)
# from → the states it may move to. The centre's record can be corrected (it came after all).
VISIT_MOVES: dict[VisitState, frozenset[VisitState]] = {
    _S: frozenset({_C, _N, _X}),
    _C: frozenset({_N, _X}),
    _N: frozenset({_C, _X}),
    _X: frozenset({_C, _N}),
}


class ForbiddenVisitMove(Exception):
    """A move the visit state table does not allow."""


def move_visit(visit: Visit, to: VisitState) -> VisitState:
    """Move ``visit`` to ``to`` (staying put is allowed); return the state it had."""
    previous = VisitState(visit.state)
    if to != previous and to not in VISIT_MOVES[previous]:
        raise ForbiddenVisitMove(f"{previous} → {to}")
    visit.state = to
    return previous


def cancellable(visit: Visit, now: datetime) -> bool:
    """A volunteer (or the system for them) may call off a visit still booked and ahead."""
    return visit.state == VisitState.SCHEDULED and visit.occurrence.starts_at > now


def booked_ahead(
    now: datetime,
    *,
    volunteer_id: int | None = None,
    need_id: int | None = None,
    occurrence_ids: Iterable[int] | None = None,
) -> list[Visit]:
    """The scheduled visits that have not started, narrowed by volunteer, need or dates."""
    query = (
        select(Visit)
        .join(Visit.occurrence)
        .where(Visit.state == VisitState.SCHEDULED, Occurrence.starts_at > now)
        .options(selectinload(Visit.occurrence).selectinload(Occurrence.need))
        .order_by(Occurrence.starts_at, Visit.id)
    )
    if volunteer_id is not None:
        query = query.where(Visit.volunteer_id == volunteer_id)
    if need_id is not None:
        query = query.where(Occurrence.need_id == need_id)
    if occurrence_ids is not None:
        query = query.where(Visit.occurrence_id.in_(list(occurrence_ids)))
    return list(db.session.scalars(query))


def cancel(
    visit: Visit,
    now: datetime,
    *,
    reason: str | None = None,
    tell_coordinators: bool = False,
    volunteer_name: str | None = None,
) -> None:
    """Call off a booked visit ahead; with ``tell_coordinators`` the need's coordinators get
    the notice (one per visit and coordinator), naming the volunteer and the reason. The
    centre's staff are told when the visit was due today or tomorrow (``tell_centre``)."""
    if not cancellable(visit, now):
        raise ForbiddenVisitMove(f"{visit.state} visit at {visit.occurrence.starts_at}")
    move_visit(visit, VisitState.CANCELLED)
    visit.cancel_reason = reason
    tell_centre(visit, now, volunteer_name=volunteer_name)
    if tell_coordinators:
        need = visit.occurrence.need
        for coordinator in coordinators_of(need.organisation_id):
            enqueue(
                f"visit-cancelled:{visit.id}:{coordinator.id}",
                coordinator,
                "volunteer_visit_cancelled",
                need=need,
                visit=visit,
                volunteer_name=volunteer_name,
                reason=reason,
            )


def tell_centre(visit: Visit, now: datetime, *, volunteer_name: str | None = None) -> None:
    """Tell the staff of the visit's centre that nobody comes, when the visit was due today or
    tomorrow (local dates): later ones they see on their page in time. Only what they need to
    stop expecting the visitor — the name when the caller gives it, never the reason."""
    need = visit.occurrence.need
    if need.centre is None:
        return
    today = local_today(now)
    if to_local(visit.occurrence.starts_at).date() not in (today, today + timedelta(days=1)):
        return
    for staff in need.centre.staff:
        if not staff.is_active or staff.role != Role.CENTRE:
            continue
        enqueue(
            f"visit-cancelled-centre:{visit.id}:{staff.id}",
            staff,
            "centre_visit_cancelled",
            need=need,
            centre=need.centre,
            visit=visit,
            volunteer_name=volunteer_name,
        )
