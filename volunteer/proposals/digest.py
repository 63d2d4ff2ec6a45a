"""The followers' digest: everyone who follows a proposal, and its authors, get one email per
run with every change since the last one, in words ("Status ændret fra Modtaget til Under
behandling: …", "Ny kommentar af …: …"); nobody is told of their own change.

Exactly once: the run takes the events not yet digested, keys each message by the recipient and
the run's first and last event (``proposal-digest:<user>:<first>-<last>``), and marks the events
digested in the same transaction. A second scheduler running at the same moment takes the same
events and makes the same keys, so the outbox keeps one message each.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from volunteer.auth.models import User
from volunteer.extensions import db
from volunteer.notifications.services import enqueue
from volunteer.proposals.models import (
    AuthorState,
    ProposalAuthor,
    ProposalEvent,
    ProposalFollow,
)


def _audience(proposal_ids: set[int]) -> dict[int, set[int]]:
    """proposal id → the users told: its followers, its proposer and accepted co-authors."""
    audience: dict[int, set[int]] = defaultdict(set)
    for proposal_id, user_id in db.session.execute(
        select(ProposalFollow.proposal_id, ProposalFollow.user_id).where(
            ProposalFollow.proposal_id.in_(proposal_ids)
        )
    ):
        audience[proposal_id].add(user_id)
    for proposal_id, user_id in db.session.execute(
        select(ProposalAuthor.proposal_id, ProposalAuthor.user_id).where(
            ProposalAuthor.proposal_id.in_(proposal_ids),
            ProposalAuthor.state == AuthorState.ACCEPTED,
            ProposalAuthor.user_id.is_not(None),
        )
    ):
        audience[proposal_id].add(user_id)
    return audience


def proposal_digests(app: Flask, now: datetime) -> dict[str, int]:
    events = list(
        db.session.scalars(
            select(ProposalEvent)
            .where(ProposalEvent.digested_at.is_(None), ProposalEvent.created_at <= now)
            .options(selectinload(ProposalEvent.proposal), selectinload(ProposalEvent.actor))
            .order_by(ProposalEvent.id)
            .with_for_update()
        )
    )
    if not events:
        return {"events": 0, "messages": 0}
    audience = _audience({e.proposal_id for e in events})
    for event in events:
        if event.proposal.created_by_id is not None:
            audience[event.proposal_id].add(event.proposal.created_by_id)
    per_user: dict[int, list[ProposalEvent]] = defaultdict(list)
    for event in events:
        for user_id in audience[event.proposal_id]:
            if user_id != event.actor_id:
                per_user[user_id].append(event)
    span = f"{events[0].id}-{events[-1].id}"
    messages = 0
    users = db.session.scalars(select(User).where(User.id.in_(per_user))).all()
    for user in sorted(users, key=lambda u: u.id):
        if not user.is_active:
            continue
        by_proposal: dict[int, list[ProposalEvent]] = defaultdict(list)
        for event in per_user[user.id]:
            by_proposal[event.proposal_id].append(event)
        enqueue(
            f"proposal-digest:{user.id}:{span}",
            user,
            "proposal_digest",
            proposals=[(evs[0].proposal, evs) for evs in by_proposal.values()],
        )
        messages += 1
    for event in events:
        event.digested_at = now
    db.session.commit()
    return {"events": len(events), "messages": messages}
