"""A volunteer's own history: past visits, hours per year, and a certificate of volunteering.

Only the volunteer sees this. Hours count only confirmed visits; a no-show is shown to the
volunteer themselves (it is their data) but never on the certificate, and nowhere to other
volunteers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from volunteer.auth.models import User
from volunteer.catalogue.models import ActivityType, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import to_local
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence
from volunteer.reports.periods import bucket

HISTORY_LIMIT = 500


@dataclass(frozen=True)
class YearSummary:
    year: int
    hours: float
    visits: int


@dataclass(frozen=True)
class CertificateLine:
    organisation: str
    activity: ActivityType
    first: date
    last: date
    visits: int
    hours: float


@dataclass(frozen=True)
class Certificate:
    volunteer: User
    lines: list[CertificateLine]
    first: date | None
    last: date | None
    hours: float


def past_visits(user: User, now: datetime) -> list[Visit]:
    """The volunteer's visits that have started, newest first (the last ``HISTORY_LIMIT``)."""
    return list(
        db.session.scalars(
            select(Visit)
            .join(Visit.occurrence)
            .join(Occurrence.need)
            .options(
                contains_eager(Visit.occurrence).contains_eager(Occurrence.need),
                joinedload(Visit.occurrence, Occurrence.need, Need.activity_type),
                joinedload(Visit.occurrence, Occurrence.need, Need.organisation),
            )
            .where(Visit.volunteer_id == user.id, Occurrence.starts_at < now)
            .order_by(Occurrence.starts_at.desc(), Visit.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )


def yearly_summary(user: User) -> list[YearSummary]:
    """Hours and visits given per local calendar year, newest first, summed in SQL."""
    confirmed = (Visit.volunteer_id == user.id) & (Visit.state == VisitState.CONFIRMED)
    earliest, latest = db.session.execute(
        select(func.min(Occurrence.starts_at), func.max(Occurrence.starts_at))
        .join(Visit.occurrence)
        .where(confirmed)
    ).one()
    if earliest is None:
        return []
    years = list(range(to_local(earliest).year, to_local(latest).year + 1))
    year = bucket(Occurrence.starts_at, [date(y, 1, 1) for y in years], [str(y) for y in years])
    rows = db.session.execute(
        select(year, func.coalesce(func.sum(Visit.hours), 0), func.count(Visit.id))
        .join(Visit.occurrence)
        .where(confirmed)
        .group_by(year)
        .order_by(year.desc())
    ).all()
    return [YearSummary(int(label), float(hours), count) for label, hours, count in rows]


def certificate(user: User) -> Certificate:
    """What the volunteer has done, per organisation and activity, from confirmed visits only:
    the period (first and last visit) and the hours. Grouped in SQL."""
    rows = db.session.execute(
        select(
            Organisation.name,
            ActivityType,
            func.min(Occurrence.starts_at),
            func.max(Occurrence.starts_at),
            func.count(Visit.id),
            func.coalesce(func.sum(Visit.hours), 0),
        )
        .select_from(Visit)
        .join(Visit.occurrence)
        .join(Occurrence.need)
        .join(Need.organisation)
        .join(Need.activity_type)
        .where(Visit.volunteer_id == user.id, Visit.state == VisitState.CONFIRMED)
        .group_by(Organisation.name, ActivityType.id)
        .order_by(func.min(Occurrence.starts_at))
    ).all()
    lines = [
        CertificateLine(
            organisation,
            activity,
            to_local(first).date(),
            to_local(last).date(),
            visits,
            float(hours),
        )
        for organisation, activity, first, last, visits, hours in rows
    ]
    return Certificate(
        user,
        lines,
        min((line.first for line in lines), default=None),
        max((line.last for line in lines), default=None),
        sum(line.hours for line in lines),
    )
