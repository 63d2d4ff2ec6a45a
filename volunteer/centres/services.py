"""What centre staff see and do: only visits at their own centres.

Staff see what they need to welcome a visitor — the volunteer's full name and phone, for their
own centre's visits only (no email, no address) — and the still-scheduled visits of earlier
days that wait to be confirmed. A visit cancelled for today or tomorrow is emailed to them
(``volunteer.bookings.tell_centre``, called by ``cancel()``).

Rules for recording a visit (``record_visit``):

- Staff may only touch visits at centres they belong to (``User.centres``); any other visit id
  is answered as if it did not exist (NotFound → 404), so ids reveal nothing.
- A visit is *confirmed* (the volunteer came) or *no_show* only once its occurrence has started;
  it can be *cancelled* at any time. The outcome can be corrected later by staff (mistakes
  happen on a busy floor); every change is audited with the old and the new state.
- The same outcome twice changes nothing: a double tap or a second click on an emailed link is
  harmless. (Only new hours for a confirmed visit are taken: that is a correction.)
- Hours are stored only for a confirmed visit (default: the occurrence's length; 0–24) —
  they are what the reports add up. Who recorded the outcome and when is stored for every one.

One-click links (the morning digest) carry a signed token naming the visit, the outcome and the
staff member; the same rules apply, checked against that staff member when the link is used.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload
from werkzeug.exceptions import NotFound

from volunteer import audit, bookings
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType, Centre
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_to_utc, local_today, to_local
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus, Schedule
from volunteer.notifications import links
from volunteer.notifications.links import BearerLink
from volunteer.notifications.services import enqueue
from volunteer.urls import external_url

OUTCOMES = (VisitState.CONFIRMED, VisitState.NO_SHOW, VisitState.CANCELLED)
NOTE_MAX = 500
MAX_HOURS = 24
LINK_SALT = "samskab.visit-action"
VISIT_LINK = "visit-action"
# Long enough for a link in the morning digest to work the rest of the day and the next morning.
LINK_MAX_AGE = timedelta(hours=36)
# How far back unconfirmed visits stay on the staff page, waiting for an answer.
UNRECORDED_DAYS = 60


class TooEarly(Exception):
    """The visit has not started yet, so nobody can say whether the volunteer came."""


class LinkProblem(enum.StrEnum):
    INVALID = "invalid"  # tampered with, or not one of ours
    EXPIRED = "expired"
    NOT_YOURS = "not_yours"  # another centre's visit, a deleted visit, or no longer staff


class BadLink(Exception):
    def __init__(self, problem: LinkProblem):
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class StaffOverview:
    """The staff page: today's visits, the other days of this week, and the visits of earlier
    days nobody has confirmed yet (still *scheduled*: "Besøg der mangler at blive bekræftet")."""

    today: date
    todays: list[Visit]
    week: list[tuple[date, list[Visit]]]
    to_confirm: list[Visit]


@dataclass(frozen=True)
class Recorded:
    visit: Visit
    changed: bool


@dataclass(frozen=True)
class LinkAction:
    visit: Visit
    outcome: VisitState
    staff: User


def _centre_ids(user: User) -> list[int]:
    return [c.id for c in user.centres] if user.role == Role.CENTRE else []


def visits_query(centre_ids: list[int]):  # type: ignore[no-untyped-def]
    """Scheduled dates' visits at these centres, with need, centre and volunteer loaded."""
    return (
        select(Visit)
        .join(Visit.occurrence)
        .join(Occurrence.need)
        .options(
            contains_eager(Visit.occurrence).contains_eager(Occurrence.need),
            joinedload(Visit.occurrence, Occurrence.need, Need.activity_type),
            joinedload(Visit.occurrence, Occurrence.need, Need.centre),
            joinedload(Visit.volunteer),
        )
        .where(Need.centre_id.in_(centre_ids), Occurrence.status == OccurrenceStatus.SCHEDULED)
    )


def staff_overview(user: User, now: datetime) -> StaffOverview:
    """Visits at the user's centres: today, the other days of this ISO week (Monday–Sunday,
    local time), and the still-scheduled visits of earlier days (up to ``UNRECORDED_DAYS``
    back) that wait to be confirmed. A past day's unconfirmed visit is listed only there."""
    today = local_today(now)
    monday = today - timedelta(days=today.weekday())
    since = min(monday, today - timedelta(days=UNRECORDED_DAYS))
    centre_ids = _centre_ids(user)
    if not centre_ids:
        return StaffOverview(today, [], [], [])
    visits = db.session.scalars(
        visits_query(centre_ids)
        .where(
            Occurrence.starts_at >= local_to_utc(since, time(0)),
            Occurrence.starts_at < local_to_utc(monday + timedelta(days=7), time(0)),
            # Before this week only what still waits for an answer.
            or_(
                Occurrence.starts_at >= local_to_utc(monday, time(0)),
                Visit.state == VisitState.SCHEDULED,
            ),
        )
        .order_by(Occurrence.starts_at, Visit.id)
    ).unique()
    todays: list[Visit] = []
    week: dict[date, list[Visit]] = {}
    to_confirm: list[Visit] = []
    for visit in visits:
        day = to_local(visit.occurrence.starts_at).date()
        if day == today:
            todays.append(visit)
        elif day < today and visit.state == VisitState.SCHEDULED:
            to_confirm.append(visit)
        elif day >= monday:
            week.setdefault(day, []).append(visit)
    return StaffOverview(today, todays, sorted(week.items()), to_confirm)


def staff_visit(user: User, visit_id: int) -> Visit:
    """A visit at one of the user's centres; NotFound for every other id."""
    visit = db.session.scalar(visits_query(_centre_ids(user)).where(Visit.id == visit_id))
    if visit is None:
        raise NotFound
    return visit


def default_hours(visit: Visit) -> float:
    return round(visit.occurrence.hours, 2)


def record_visit(
    user: User,
    visit_id: int,
    outcome: str,
    now: datetime,
    hours: float | None = None,
    note: str | None = None,
) -> Recorded:
    """Record that the volunteer came (confirmed), did not come (no_show) or that the visit was
    cancelled, following the rules in the module docstring. Commits when something changed.

    Raises NotFound (not the user's centre, or an unknown outcome) and TooEarly.
    """
    visit = staff_visit(user, visit_id)
    if outcome not in OUTCOMES:
        raise NotFound
    state = VisitState(outcome)
    if hours is not None and not 0 <= hours <= MAX_HOURS:
        raise ValueError(hours)
    if visit.state == state and not (
        state == VisitState.CONFIRMED and hours is not None and hours != visit.hours
    ):
        return Recorded(visit, changed=False)
    if state != VisitState.CANCELLED and now < visit.occurrence.starts_at:
        raise TooEarly
    previous = bookings.move_visit(visit, state)
    if state == VisitState.CONFIRMED:
        visit.hours = hours if hours is not None else default_hours(visit)
    else:
        visit.hours = None
    visit.note = (note or "").strip()[:NOTE_MAX] or None
    visit.confirmed_by_id = user.id
    visit.confirmed_at = now
    audit.record(
        f"visit.{state}", "visit", visit.id, actor_id=user.id, previous=previous, hours=visit.hours
    )
    db.session.commit()
    return Recorded(visit, changed=True)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def action_token(staff: User, visit: Visit, outcome: str) -> str:
    """A signed token for one action on one visit by one staff member (for emailed links)."""
    return _action_token(staff.id, visit.id, outcome)


def _action_token(staff_id: int, visit_id: int, outcome: str) -> str:
    return str(_serializer().dumps([visit_id, str(VisitState(outcome)), staff_id]))


def action_link(staff: User, visit: Visit, outcome: str) -> BearerLink:
    """The one-click link for an email: stored as a marker, minted when the email is sent."""
    return BearerLink(VISIT_LINK, staff_id=staff.id, visit_id=visit.id, outcome=str(outcome))


@links.minter(VISIT_LINK)
def _visit_link(staff_id: int, visit_id: int, outcome: str) -> str:
    return external_url("centres.visit_link", token=_action_token(staff_id, visit_id, outcome))


def read_action_link(token: str, now: datetime) -> LinkAction:
    """What a one-click link asks for, checked: the signature, its age (``LINK_MAX_AGE`` at
    ``now``), and that the staff member still works at the visit's centre. Raises BadLink."""
    try:
        payload, issued = _serializer().loads(token, return_timestamp=True)
        visit_id, outcome, staff_id = payload
        state = VisitState(outcome)
    except (BadSignature, TypeError, ValueError) as exc:
        raise BadLink(LinkProblem.INVALID) from exc
    if state not in OUTCOMES:
        raise BadLink(LinkProblem.INVALID)
    if now - issued > LINK_MAX_AGE:
        raise BadLink(LinkProblem.EXPIRED)
    staff = db.session.get(User, staff_id)
    if staff is None or not staff.is_active:
        raise BadLink(LinkProblem.NOT_YOURS)
    try:
        visit = staff_visit(staff, visit_id)
    except NotFound as exc:
        raise BadLink(LinkProblem.NOT_YOURS) from exc
    return LinkAction(visit, state, staff)


def record_from_link(
    token: str, now: datetime, hours: float | None = None, note: str | None = None
) -> Recorded:
    """Apply a one-click link as its staff member (``record_visit``'s rules). Commits."""
    action = read_action_link(token, now)
    return record_visit(action.staff, action.visit.id, action.outcome, now, hours, note)


@dataclass(frozen=True)
class HelpRequest:
    centre_id: int
    activity_type_id: int
    weekday: int
    start_time: time
    end_time: time
    slots: int
    text: str


class HelpRequestError(Exception):
    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def help_centres(user: User) -> list[Centre]:
    return sorted(user.centres, key=lambda c: c.name) if user.role == Role.CENTRE else []


def activity_types() -> list[ActivityType]:
    return list(
        db.session.scalars(
            select(ActivityType)
            .where(ActivityType.active.is_(True))
            .order_by(ActivityType.sort_order, ActivityType.id)
        )
    )


def ask_for_help(user: User, request: HelpRequest, now: datetime) -> Need:
    """Staff ask for a volunteer: a weekly *draft* need at their centre for the centre's
    organisation, which its coordinators then check, edit and open (staff cannot publish).
    The coordinators are told through the outbox. Commits; raises HelpRequestError (the field
    at fault) or NotFound for a centre that is not the user's.
    """
    centre = next((c for c in help_centres(user) if c.id == request.centre_id), None)
    if centre is None:
        raise NotFound
    activity = db.session.get(ActivityType, request.activity_type_id)
    if activity is None or not activity.active:
        raise HelpRequestError("activity_type_id")
    if request.end_time <= request.start_time:
        raise HelpRequestError("end_time")
    today = local_today(now)
    text = request.text.strip()
    need = Need(
        organisation_id=centre.organisation_id,
        centre=centre,
        activity_type=activity,
        local_area_id=centre.local_area_id,
        created_by_id=user.id,
        title=f"{activity.name_da}, {centre.name}"[:160],
        description=text,
        postcode=centre.postcode,
        town=centre.town,
        lat=centre.lat,
        lon=centre.lon,
        schedule=Schedule.WEEKLY,
        weekday=request.weekday,
        start_time=request.start_time,
        end_time=request.end_time,
        # The first such weekday after today: a coordinator adjusts it when opening the need.
        first_date=today + timedelta(days=(request.weekday - today.weekday() - 1) % 7 + 1),
        slots=request.slots,
        requires_child_certificate=activity.requires_child_certificate,
        status=NeedStatus.DRAFT,
    )
    db.session.add(need)
    db.session.flush()
    for coordinator in coordinators_of(centre.organisation_id):
        enqueue(
            f"centre-help:{need.id}:{coordinator.id}",
            coordinator,
            "centre_help_request",
            need=need,
            centre=centre,
            staff=user,
        )
    audit.record("need.requested", "need", need.id, actor_id=user.id, centre_id=centre.id)
    db.session.commit()
    return need
