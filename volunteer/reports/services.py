"""What volunteering achieved, for coordinators (their organisations) and admins (all, or one
organisation).

Definitions (the same on the page, in the charts and in the exports):

- *visits held*: confirmed visits whose occurrence starts in the group (month in Copenhagen
  time, activity type, local area of the need); *hours*: the hours recorded on those visits.
- *no-show rate*: no-shows ÷ (confirmed + no-shows); cancelled visits count in neither.
- *cancelled visits*: visits called off before they began (by the volunteer — on Min side,
  from a reminder's "Kan ikke komme" link, for an away period — or because the need closed).
- *active volunteers*: distinct volunteers with at least one visit held in the group.
- *new volunteers*: volunteer accounts created in the month (per month only: a new volunteer
  has no activity or area yet). For a coordinator: those who joined their organisations or
  took one of their needs.
- *needs opened*: needs published (``opened_at``) in the group; *filled*: how many of those
  have since had all places taken (``filled_at``); *fill rate*: filled ÷ opened.
- *waiting needs*: open needs with free places today, with the days since they were opened.

A deleted volunteer's visits still count (the account is anonymised, not removed). Every figure
is aggregated in SQL with GROUP BY; Python only puts the groups in order and fills in the
months without data.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, exists, func, null, select
from werkzeug.exceptions import NotFound

from volunteer import audit, bookings
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType, LocalArea, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_today, to_local
from volunteer.coordination.models import Assignment
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence
from volunteer.reports.periods import Period, bucket, month_label
from volunteer.volunteers.models import (
    VolunteerProfile,
    organisation_volunteers,
    volunteer_interests,
)


class Dimension(enum.StrEnum):
    MONTH = "month"
    ACTIVITY = "activity"
    AREA = "area"


@dataclass(frozen=True)
class Scope:
    """Whose figures: ``organisation_ids`` None means every organisation (an admin's view)."""

    organisation_ids: list[int] | None
    organisation: Organisation | None = None


@dataclass(frozen=True)
class Row:
    key: Any  # a month (date), an activity type / local area id, or None for "none"/"total"
    label: str = ""
    active_volunteers: int = 0
    new_volunteers: int | None = None
    needs_opened: int = 0
    needs_filled: int = 0
    visits_held: int = 0
    no_shows: int = 0
    cancelled: int = 0
    hours: float = 0.0

    @property
    def fill_rate(self) -> float | None:
        return self.needs_filled / self.needs_opened if self.needs_opened else None

    @property
    def no_show_rate(self) -> float | None:
        answered = self.visits_held + self.no_shows
        return self.no_shows / answered if answered else None


@dataclass(frozen=True)
class WaitingNeed:
    need: Need
    free_slots: int
    days_waiting: int


@dataclass(frozen=True)
class Report:
    scope: Scope
    period: Period
    total: Row
    by_month: list[Row]
    by_activity: list[Row]
    by_area: list[Row]
    waiting: list[WaitingNeed]


def scope_for(user: User, organisation_id: int | None = None) -> Scope:
    """A coordinator sees their organisations (or one of them); an admin all (or one).
    Another organisation's id is NotFound."""
    allowed = organisation_ids(user)
    if organisation_id is None:
        return Scope(allowed)
    if allowed is not None and organisation_id not in allowed:
        raise NotFound
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound
    return Scope([organisation_id], organisation)


def organisations_for(user: User) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    allowed = organisation_ids(user)
    if allowed is not None:
        query = query.where(Organisation.id.in_(allowed))
    return list(db.session.scalars(query))


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    if scope.organisation_ids is None:
        return Need.id.is_not(None)
    return Need.organisation_id.in_(scope.organisation_ids)


def _month_key(period: Period, column: Any) -> ColumnElement[str]:
    months = period.months
    return bucket(column, months, [m.isoformat() for m in months])


def _group(dimension: Dimension | None, period: Period, instant: Any) -> Any:
    """The SQL expression a query groups by (None: no grouping, one total row)."""
    if dimension == Dimension.MONTH:
        return _month_key(period, instant)
    if dimension == Dimension.ACTIVITY:
        return Need.activity_type_id
    if dimension == Dimension.AREA:
        return Need.local_area_id
    return None


def _rows(
    dimension: Dimension | None,
    period: Period,
    instant: Any,
    rows: Select[Any],
    aggregates: Callable[[Any], list[Any]],
) -> dict[Any, tuple[Any, ...]]:
    """Aggregate the ``rows`` (a SELECT of plain columns) grouped by the dimension's key of
    ``instant``; returns {key: figures}, month keys as dates.

    The key is computed in a subquery and grouped by name: a CASE repeated in GROUP BY would
    carry its own bound parameters, which PostgreSQL cannot match to the SELECT's."""
    key = _group(dimension, period, instant)
    sub = rows.add_columns((null() if key is None else key).label("key")).subquery()
    # The total groups by a NULL key: one row, or none when nothing matched.
    query = select(sub.c.key, *aggregates(sub.c)).group_by(sub.c.key)
    result = {}
    for first, *figures in db.session.execute(query):
        result[date.fromisoformat(first) if dimension == Dimension.MONTH else first] = tuple(
            figures
        )
    return result


def _visit_figures(
    scope: Scope, period: Period, dimension: Dimension | None
) -> dict[Any, tuple[Any, ...]]:
    """(active volunteers, visits held, no-shows, cancelled, hours) per group."""
    rows = (
        select(Visit.id, Visit.state, Visit.volunteer_id, Visit.hours)
        .join(Visit.occurrence)
        .join(Occurrence.need)
        .where(_in_scope(scope), period.contains(Occurrence.starts_at))
    )

    def aggregates(c: Any) -> list[Any]:
        confirmed = c.state == VisitState.CONFIRMED
        return [
            func.count(distinct(case((confirmed, c.volunteer_id)))),
            func.count(case((confirmed, c.id))),
            func.count(case((c.state == VisitState.NO_SHOW, c.id))),
            func.count(case((c.state == VisitState.CANCELLED, c.id))),
            func.coalesce(func.sum(case((confirmed, c.hours))), 0),
        ]

    return _rows(dimension, period, Occurrence.starts_at, rows, aggregates)


def _need_figures(
    scope: Scope, period: Period, dimension: Dimension | None
) -> dict[Any, tuple[Any, ...]]:
    """(needs opened, of those filled) per group."""
    rows = select(Need.id, Need.filled_at).where(_in_scope(scope), period.contains(Need.opened_at))
    return _rows(
        dimension,
        period,
        Need.opened_at,
        rows,
        lambda c: [func.count(c.id), func.count(c.filled_at)],
    )


def _new_volunteers(scope: Scope, period: Period, dimension: Dimension | None) -> dict[Any, int]:
    """New volunteer accounts per month (or in all); for a coordinator's organisations, those
    who have joined them or taken one of their needs. Deleted accounts still count: they did
    sign up."""
    rows = select(User.id).where(User.role == Role.VOLUNTEER, period.contains(User.created_at))
    if scope.organisation_ids is not None:
        joined = (
            exists()
            .where(
                VolunteerProfile.user_id == User.id,
                organisation_volunteers.c.profile_id == VolunteerProfile.id,
                organisation_volunteers.c.organisation_id.in_(scope.organisation_ids),
            )
            .correlate(User)
        )
        # An assignment outlives a deleted account's profile, so deleted volunteers still count.
        took_part = (
            exists()
            .where(
                Assignment.volunteer_id == User.id,
                Assignment.need_id == Need.id,
                Need.organisation_id.in_(scope.organisation_ids),
            )
            .correlate(User)
        )
        rows = rows.where(joined | took_part)
    # Month keys come from the account's creation, not from a need: group by a month of it.
    key_dimension = dimension if dimension == Dimension.MONTH else None
    figures = _rows(
        key_dimension,
        period,
        User.created_at,
        rows,
        lambda c: [func.count(c.id)],
    )
    return {key: count for key, (count,) in figures.items()}


def _table(scope: Scope, period: Period, dimension: Dimension | None) -> dict[Any, Row]:
    visits = _visit_figures(scope, period, dimension)
    needs = _need_figures(scope, period, dimension)
    new = (
        _new_volunteers(scope, period, dimension) if dimension in (Dimension.MONTH, None) else None
    )
    rows = {}
    for key in visits.keys() | needs.keys() | (new.keys() if new else set()):
        active, held, no_shows, cancelled, hours = visits.get(key, (0, 0, 0, 0, 0))
        opened, filled = needs.get(key, (0, 0))
        rows[key] = Row(
            key=key,
            active_volunteers=active,
            new_volunteers=new.get(key, 0) if new is not None else None,
            needs_opened=opened,
            needs_filled=filled,
            visits_held=held,
            no_shows=no_shows,
            cancelled=cancelled,
            hours=float(hours),
        )
    return rows


def _labelled(rows: dict[Any, Row], names: dict[Any, str], none_label: str) -> list[Row]:
    labelled = [replace(row, label=names.get(key, none_label)) for key, row in rows.items()]
    return sorted(labelled, key=lambda row: (row.key is None, row.label.casefold()))


def report(
    scope: Scope, period: Period, now: datetime, locale: str, *, none_label: str = "–"
) -> Report:
    """Every figure for the scope and period (see the module docstring for the definitions)."""
    by_month = _table(scope, period, Dimension.MONTH)
    months = [
        replace(
            by_month.get(month, Row(key=month, new_volunteers=0)), label=month_label(month, locale)
        )
        for month in period.months
    ]
    activities = {a.id: a.name(locale) for a in db.session.scalars(select(ActivityType))}
    areas = {a.id: a.name for a in db.session.scalars(select(LocalArea))}
    total = _table(scope, period, None).get(None, Row(key=None, new_volunteers=0))
    return Report(
        scope=scope,
        period=period,
        total=total,
        by_month=months,
        by_activity=_labelled(_table(scope, period, Dimension.ACTIVITY), activities, none_label),
        by_area=_labelled(_table(scope, period, Dimension.AREA), areas, none_label),
        waiting=waiting_needs(scope, now),
    )


def report_for(
    user: User,
    organisation_id: int | None,
    period: Period,
    now: datetime,
    locale: str,
    *,
    none_label: str = "–",
) -> Report:
    """The report the user may see: their organisations (an admin: all), or one of them."""
    return report(scope_for(user, organisation_id), period, now, locale, none_label=none_label)


def waiting_needs(scope: Scope, now: datetime) -> list[WaitingNeed]:
    """Needs volunteers can still take (open, a date ahead: ``bookings.bookable_sql``) with
    free places, longest waiting first. A finished one-off need is no longer waiting."""
    today = local_today(now)
    rows = db.session.execute(
        select(Need, bookings.free_sql())
        .where(_in_scope(scope), bookings.bookable_sql(now), bookings.free_sql() > 0)
        .order_by(Need.opened_at, Need.id)
    ).all()
    return [
        WaitingNeed(
            need,
            free,
            (today - to_local(need.opened_at).date()).days if need.opened_at else 0,
        )
        for need, free in rows
    ]


def volunteer_list(viewer: User, organisation_id: int | None) -> list[tuple[str, str, str, str]]:
    """The volunteers who let the viewer's organisations (or the one chosen) contact them, for
    a coordinator to call: name, email, phone and the activities they are interested in —
    nothing else (no certificates, no notes). Admins: every active volunteer, or one
    organisation's. The export is audited. Commits."""
    scope = scope_for(viewer, organisation_id)
    query = (
        select(User.name, User.email, User.phone, VolunteerProfile.id)
        .join(VolunteerProfile, VolunteerProfile.user_id == User.id)
        .where(User.active.is_(True), User.deleted_at.is_(None))
        .order_by(User.name, User.id)
    )
    if scope.organisation_ids is not None:
        query = query.where(
            exists().where(
                organisation_volunteers.c.profile_id == VolunteerProfile.id,
                organisation_volunteers.c.organisation_id.in_(scope.organisation_ids),
            )
        )
    people = db.session.execute(query).all()
    interests = _interests([profile_id for *_, profile_id in people])
    audit.record(
        "volunteers.exported",
        "organisation",
        scope.organisation.id if scope.organisation else None,
        actor_id=viewer.id,
        organisations=scope.organisation_ids,
        count=len(people),
    )
    db.session.commit()
    return [
        (name, email, phone or "", ", ".join(interests.get(profile_id, [])))
        for name, email, phone, profile_id in people
    ]


def _interests(profile_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(volunteer_interests.c.profile_id, ActivityType.name_da)
        .join(ActivityType, ActivityType.id == volunteer_interests.c.activity_type_id)
        .where(volunteer_interests.c.profile_id.in_(profile_ids))
        .order_by(ActivityType.sort_order, ActivityType.name_da)
    )
    result: dict[int, list[str]] = {}
    for profile_id, name in rows:
        result.setdefault(profile_id, []).append(name)
    return result
