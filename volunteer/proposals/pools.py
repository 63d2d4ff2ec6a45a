"""Local-area funds (*puljer*): what each pool has, granted and has left, the council's grant
(given with the proposal's answer) and the residents' approval vote.

A proposal draws on the pool of its local area for the year it was sent (Copenhagen year).
The council are the proposal's answerers (``states.may_answer``). A grant is at most what the
pool has left; it is audited. Where the pool says so, the area's residents (accounts whose
volunteer profile is in the pool's local area) approve proposals while the vote is open: each
account approves a proposal once (approval voting: several proposals, once each), guarded by
a unique constraint so two requests at once cannot count twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import User
from volunteer.catalogue.models import LocalArea
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.proposals import states
from volunteer.proposals.models import (
    AWAITING_ANSWER,
    Pool,
    PoolGrant,
    PoolVote,
    Proposal,
    ProposalState,
)
from volunteer.volunteers.models import VolunteerProfile


class PoolError(Exception):
    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class PoolSummary:
    pool: Pool
    granted_ore: int
    left_ore: int
    grants: list[PoolGrant]


def proposal_year(proposal: Proposal, now: datetime) -> int:
    return local_today(proposal.submitted_at or now).year


def pool_for(proposal: Proposal, now: datetime) -> Pool | None:
    """The pool the proposal draws on: its local area's, for the year it was sent."""
    if proposal.local_area_id is None:
        return None
    return db.session.scalar(
        select(Pool).where(
            Pool.local_area_id == proposal.local_area_id,
            Pool.year == proposal_year(proposal, now),
        )
    )


def granted_ore(pool: Pool) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(PoolGrant.amount_ore), 0)).where(
                PoolGrant.pool_id == pool.id
            )
        )
        or 0
    )


def left_ore(pool: Pool) -> int:
    return pool.amount_ore - granted_ore(pool)


def grant_of(proposal: Proposal) -> PoolGrant | None:
    return db.session.scalar(select(PoolGrant).where(PoolGrant.proposal_id == proposal.id))


def grant(
    council: User, proposal: Proposal, amount_ore: int, now: datetime, *, commit: bool = False
) -> PoolGrant:
    """Grant the adopted proposal ``amount_ore`` from its pool: only its answerers, once, at
    most what is left. Audited; flushes (commits when asked)."""
    if not states.may_answer(council, proposal):
        raise PoolError("grant", "not_answerer")
    if proposal.state not in (ProposalState.ADOPTED, ProposalState.COMPLETED):
        raise PoolError("grant", "not_adopted")
    pool = pool_for(proposal, now)
    if pool is None:
        raise PoolError("grant", "no_pool")
    if amount_ore <= 0:
        raise PoolError("grant", "positive")
    if grant_of(proposal) is not None:
        raise PoolError("grant", "granted_already")
    if amount_ore > left_ore(pool):
        raise PoolError("grant", "too_much")
    made = PoolGrant(
        pool_id=pool.id,
        proposal_id=proposal.id,
        amount_ore=amount_ore,
        granted_by_id=council.id,
        created_at=now,
    )
    db.session.add(made)
    db.session.flush()
    audit.record(
        "pool.grant",
        "proposal",
        proposal.id,
        actor_id=council.id,
        pool_id=pool.id,
        amount_ore=amount_ore,
    )
    if commit:
        db.session.commit()
    return made


def is_resident(user: User, pool: Pool) -> bool:
    """An account whose volunteer profile is in the pool's local area (or, with no local area
    on the profile, has the area's postcode)."""
    if not user.is_authenticated:
        return False
    profile = db.session.scalar(select(VolunteerProfile).where(VolunteerProfile.user_id == user.id))
    if profile is None:
        return False
    if profile.local_area_id is not None:
        return profile.local_area_id == pool.local_area_id
    area = db.session.get(LocalArea, pool.local_area_id)
    return area is not None and area.postcode is not None and area.postcode == profile.postcode


def voting_open(pool: Pool, now: datetime) -> bool:
    return pool.voting and (
        pool.voting_closes_on is None or local_today(now) <= pool.voting_closes_on
    )


def votes_for(proposal: Proposal) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(PoolVote).where(PoolVote.proposal_id == proposal.id)
        )
        or 0
    )


def has_voted(user: User, pool: Pool, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            select(PoolVote.id).where(
                PoolVote.pool_id == pool.id,
                PoolVote.proposal_id == proposal.id,
                PoolVote.user_id == user.id,
            )
        )
        is not None
    )


def vote(user: User, proposal: Proposal, now: datetime) -> PoolVote:
    """A resident approves the proposal in its pool's open vote, once. Commits."""
    pool = pool_for(proposal, now)
    if pool is None or not pool.voting:
        raise PoolError("vote", "no_vote")
    if not voting_open(pool, now) or proposal.state not in AWAITING_ANSWER:
        raise PoolError("vote", "vote_closed")
    if not is_resident(user, pool):
        raise PoolError("vote", "not_resident")
    if has_voted(user, pool, proposal):
        raise PoolError("vote", "voted_already")
    made = PoolVote(pool_id=pool.id, proposal_id=proposal.id, user_id=user.id, created_at=now)
    db.session.add(made)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise PoolError("vote", "voted_already") from exc
    audit.record("pool.vote", "proposal", proposal.id, actor_id=user.id, pool_id=pool.id)
    db.session.commit()
    return made


def summaries() -> list[PoolSummary]:
    """Every pool, the newest year first, with what it granted and has left."""
    pools = db.session.scalars(
        select(Pool).options(joinedload(Pool.local_area)).order_by(Pool.year.desc(), Pool.id)
    )
    return [summary(pool) for pool in pools]


def summary(pool: Pool) -> PoolSummary:
    grants = list(
        db.session.scalars(
            select(PoolGrant)
            .where(PoolGrant.pool_id == pool.id)
            .options(joinedload(PoolGrant.proposal))
            .order_by(PoolGrant.created_at, PoolGrant.id)
        )
    )
    spent = sum(g.amount_ore for g in grants)
    return PoolSummary(
        pool=pool, granted_ore=spent, left_ore=pool.amount_ore - spent, grants=grants
    )


def get_pool(pool_id: int) -> Pool:
    pool = db.session.get(Pool, pool_id)
    if pool is None:
        raise NotFound
    return pool


def vote_results(pool: Pool) -> list[tuple[Proposal, int]]:
    """The public result of the pool's vote: each proposal with its approvals, most first."""
    rows = db.session.execute(
        select(Proposal, func.count(PoolVote.id))
        .join(PoolVote, PoolVote.proposal_id == Proposal.id)
        .where(PoolVote.pool_id == pool.id)
        .group_by(Proposal.id)
        .order_by(func.count(PoolVote.id).desc(), Proposal.id)
    ).all()
    return [(proposal, int(count)) for proposal, count in rows]


def create_pool(
    admin: User,
    local_area_id: int,
    year: int,
    amount_ore: int,
    voting: bool,
    voting_closes_on: date | None,
) -> Pool:
    """A new fund for a local area and year (one per area and year). Audited. Commits."""
    if db.session.get(LocalArea, local_area_id) is None:
        raise PoolError("local_area_id", "unknown")
    if not 2000 <= year <= 2100:
        raise PoolError("year", "range")
    if not 0 <= amount_ore <= 2_000_000_000:
        raise PoolError("amount", "range")
    pool = Pool(
        local_area_id=local_area_id,
        year=year,
        amount_ore=amount_ore,
        voting=voting,
        voting_closes_on=voting_closes_on if voting else None,
    )
    db.session.add(pool)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise PoolError("year", "pool_exists") from exc
    audit.record(
        "pool.create", "pool", pool.id, actor_id=admin.id, year=year, amount_ore=amount_ore
    )
    db.session.commit()
    return pool
