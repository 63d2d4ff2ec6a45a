"""What centre staff see: only occurrences and visits at their own centres."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from volunteer.auth.models import User
from volunteer.centres.models import Visit
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence, OccurrenceStatus


@dataclass(frozen=True)
class ExpectedOccurrence:
    occurrence: Occurrence
    visits: list[Visit]


def expected_at_my_centres(user: User, now: datetime, days: int = 7) -> list[ExpectedOccurrence]:
    """Occurrences at the user's centres from now for ``days`` days, with their visits."""
    centre_ids = [c.id for c in user.centres]
    if not centre_ids:
        return []
    occurrences = db.session.scalars(
        select(Occurrence)
        .join(Occurrence.need)
        .where(
            Need.centre_id.in_(centre_ids),
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.ends_at >= now,
            Occurrence.starts_at < now + timedelta(days=days),
        )
        .options(joinedload(Occurrence.need).joinedload(Need.activity_type))
        .order_by(Occurrence.starts_at)
    ).all()
    visits = db.session.scalars(
        select(Visit)
        .where(Visit.occurrence_id.in_([o.id for o in occurrences]))
        .options(selectinload(Visit.volunteer))
    ).all()
    by_occurrence: dict[int, list[Visit]] = {}
    for visit in visits:
        by_occurrence.setdefault(visit.occurrence_id, []).append(visit)
    return [ExpectedOccurrence(o, by_occurrence.get(o.id, [])) for o in occurrences]
