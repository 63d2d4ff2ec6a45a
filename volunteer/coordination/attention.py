"""What needs a coordinator's attention now: the start page (/koordinator/).

Six kinds, each only for the viewer's own organisations (admins: all of them):

- overdue proposals (forslag): their answer deadline has passed without an answer, from the
  organisations and local councils the viewer answers for, the earliest deadline first;
- new referrals (henvisninger) waiting for a coordinator, the oldest first;
- forløb check-in answers other than "good" that nobody has handled, the oldest first;
- needs without helpers: open needs with a free place (``bookings.free_sql``) and a date ahead
  (``bookings.bookable_sql``), the soonest first;
- invitations about to expire: invited volunteers whose answer is due within 48 hours;
- unconfirmed visits: visits still *scheduled* after they ended (the centre has not recorded
  them), the latest first;
- cancellations today: visits called off for today's (Copenhagen) date;
- first logins waiting: a volunteer's first login through an identity provider (MitID) that
  asks a coordinator to approve the link to their account (``oidc.links_waiting_for``).

Each kind is counted in full and listed up to ``LIMIT`` rows, in a fixed number of queries
whatever the numbers. Reads only; nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from volunteer.auth import oidc
from volunteer.auth.models import OidcLink, User
from volunteer.bookings import bookable_sql, free_of, free_sql, held_sql
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_day_bounds
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence, OccurrenceStatus
from volunteer.pairs import checkins
from volunteer.persons.models import Referral, ReferralState
from volunteer.proposals.models import Proposal
from volunteer.proposals.services import overdue_for
from volunteer.volunteers.staff import visible_user_ids

LIMIT = 10
EXPIRY_WINDOW = timedelta(hours=48)

T = TypeVar("T")


@dataclass(frozen=True)
class Section(Generic[T]):
    """Up to ``LIMIT`` rows of one kind, and how many there are in all."""

    rows: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class OpenNeed:
    need: Need
    free: int
    next_starts_at: datetime | None


@dataclass(frozen=True)
class Attention:
    open_needs: Section[OpenNeed]
    expiring: Section[Assignment]
    unconfirmed: Section[Visit]
    cancelled_today: Section[Visit]
    # Volunteers the viewer may open (``coordination.volunteer_detail``); others get no link.
    visible_volunteers: frozenset[int] = field(default_factory=frozenset)
    new_referrals: Section[Referral] = field(default_factory=lambda: Section([], 0))
    # Check-in answers other than good (``volunteer.pairs.checkins``).
    forloeb_tasks: Section[Any] = field(default_factory=lambda: Section([], 0))
    overdue_proposals: Section[Proposal] = field(default_factory=lambda: Section([], 0))
    waiting_links: Section[OidcLink] = field(default_factory=lambda: Section([], 0))

    @property
    def total(self) -> int:
        return (
            self.overdue_proposals.total
            + self.new_referrals.total
            + self.forloeb_tasks.total
            + self.open_needs.total
            + self.expiring.total
            + self.unconfirmed.total
            + self.cancelled_today.total
            + self.waiting_links.total
        )


def _scoped(query: Select[Any], viewer: User) -> Select[Any]:
    ids = organisation_ids(viewer)
    return query if ids is None else query.where(Need.organisation_id.in_(ids))


def _count(query: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _next_start(now: datetime) -> Any:
    return (
        select(func.min(Occurrence.starts_at))
        .where(
            Occurrence.need_id == Need.id,
            Occurrence.starts_at > now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
        .correlate(Need)
        .scalar_subquery()
    )


def open_needs(viewer: User, now: datetime) -> Section[OpenNeed]:
    """Open needs with a free place and a date ahead, the soonest first."""
    where = _scoped(select(Need.id).where(bookable_sql(now), free_sql() > 0), viewer)
    next_start = _next_start(now)
    rows = db.session.execute(
        _scoped(
            select(Need, held_sql().label("held"), next_start.label("next_start"))
            .where(bookable_sql(now), free_sql() > 0)
            .options(joinedload(Need.organisation), joinedload(Need.activity_type)),
            viewer,
        )
        .order_by(next_start, Need.id)
        .limit(LIMIT)
    ).all()
    return Section(
        [OpenNeed(need, free_of(need.slots, held), starts) for need, held, starts in rows],
        _count(where),
    )


def expiring_invitations(viewer: User, now: datetime) -> Section[Assignment]:
    """Invitations still open whose answer is due within ``EXPIRY_WINDOW``, the soonest first."""
    query = _scoped(
        select(Assignment)
        .join(Assignment.need)
        .where(
            Assignment.state == AssignmentState.INVITED,
            Assignment.invite_expires_at > now,
            Assignment.invite_expires_at <= now + EXPIRY_WINDOW,
        ),
        viewer,
    )
    rows = db.session.scalars(
        query.options(joinedload(Assignment.volunteer), joinedload(Assignment.need))
        .order_by(Assignment.invite_expires_at, Assignment.id)
        .limit(LIMIT)
    ).all()
    return Section(list(rows), _count(query))


def _visits(viewer: User, *where: Any) -> Select[tuple[Visit]]:
    return _scoped(
        select(Visit).join(Visit.occurrence).join(Occurrence.need).where(*where),
        viewer,
    )


def _load_visits(query: Select[tuple[Visit]], *order: Any) -> list[Visit]:
    return list(
        db.session.scalars(
            query.options(
                joinedload(Visit.volunteer),
                joinedload(Visit.occurrence).joinedload(Occurrence.need),
            )
            .order_by(*order, Visit.id)
            .limit(LIMIT)
        ).all()
    )


def unconfirmed_visits(viewer: User, now: datetime) -> Section[Visit]:
    """Visits that have ended but are still *scheduled* (not recorded), the latest first."""
    query = _visits(
        viewer,
        Visit.state == VisitState.SCHEDULED,
        Occurrence.ends_at <= now,
        Occurrence.status == OccurrenceStatus.SCHEDULED,
    )
    return Section(_load_visits(query, Occurrence.starts_at.desc()), _count(query))


def cancelled_today(viewer: User, now: datetime) -> Section[Visit]:
    """Visits cancelled for a date that is today in Copenhagen, in the order of the day."""
    _today, start, end = local_day_bounds(now)
    query = _visits(
        viewer,
        Visit.state == VisitState.CANCELLED,
        Occurrence.starts_at >= start,
        Occurrence.starts_at < end,
    )
    return Section(_load_visits(query, Occurrence.starts_at), _count(query))


def new_referrals(viewer: User) -> Section[Referral]:
    """Referrals no coordinator has answered yet, the oldest first."""
    query = select(Referral).where(Referral.state == ReferralState.NEW)
    ids = organisation_ids(viewer)
    if ids is not None:
        query = query.where(Referral.organisation_id.in_(ids))
    rows = db.session.scalars(query.order_by(Referral.created_at, Referral.id).limit(LIMIT)).all()
    return Section(list(rows), _count(query))


def overdue_proposals(viewer: User, now: datetime) -> Section[Proposal]:
    """Proposals whose answer deadline has passed without an answer, the earliest first."""
    rows, total = overdue_for(organisation_ids(viewer), now, LIMIT)
    return Section(rows, total)


def attention_for(viewer: User, now: datetime) -> Attention:
    """Everything the start page shows for ``viewer`` at ``now``."""
    expiring = expiring_invitations(viewer, now)
    unconfirmed = unconfirmed_visits(viewer, now)
    cancelled = cancelled_today(viewer, now)
    waiting = Section(*oidc.links_waiting_for(viewer, LIMIT))
    people = {a.volunteer_id for a in expiring.rows}
    people |= {v.volunteer_id for v in unconfirmed.rows + cancelled.rows}
    people |= {link.user_id for link in waiting.rows}
    return Attention(
        open_needs=open_needs(viewer, now),
        expiring=expiring,
        unconfirmed=unconfirmed,
        cancelled_today=cancelled,
        visible_volunteers=frozenset(visible_user_ids(viewer, people)),
        new_referrals=new_referrals(viewer),
        forloeb_tasks=Section(*checkins.tasks(viewer, LIMIT)),
        overdue_proposals=overdue_proposals(viewer, now),
        waiting_links=waiting,
    )
