"""The proposal state machine: ``move()`` is the only way a proposal's state changes.

    draft → received                      (an author submits it; the answer deadline starts)
    received → under_review | adopted | declined
    under_review → adopted | declined     (declined needs a public reason)
    adopted → completed

Who may move it: an author submits; everything after is an *answer*, given by a coordinator of
the responsible organisation, a coordinator of the local area's council (the organisation a
``LocalArea`` points at, of kind ``local_council``), or an administrator (``may_answer``).
Call inside the transaction that changes the proposal; ``move`` flushes, never commits.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app

from volunteer import audit
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import LocalArea
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.proposals.models import (
    AuthorState,
    EventKind,
    Proposal,
    ProposalEvent,
    ProposalState,
)

S = ProposalState
TRANSITIONS: dict[ProposalState, frozenset[ProposalState]] = {
    S.DRAFT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.UNDER_REVIEW, S.ADOPTED, S.DECLINED}),
    S.UNDER_REVIEW: frozenset({S.ADOPTED, S.DECLINED}),
    S.ADOPTED: frozenset({S.COMPLETED}),
    S.DECLINED: frozenset(),
    S.COMPLETED: frozenset(),
}
ANSWER_TEXT_MAX = 4000


class ForbiddenMove(Exception):
    """The state table has no such move (e.g. declined → adopted)."""


class NotAllowed(Exception):
    """The actor may not make this move (not an author, not an answerer)."""


class ReasonRequired(Exception):
    """A decline needs a public reason."""


def answering_organisation_ids(proposal: Proposal) -> set[int]:
    """The organisations whose coordinators answer the proposal: the responsible organisation
    and the local area's council."""
    ids = set()
    if proposal.organisation_id is not None:
        ids.add(proposal.organisation_id)
    if proposal.local_area_id is not None:
        area = db.session.get(LocalArea, proposal.local_area_id)
        if area is not None and area.organisation_id is not None:
            ids.add(area.organisation_id)
    return ids


def may_answer(user: User, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.COORDINATOR:
        return False
    return bool({o.id for o in user.organisations} & answering_organisation_ids(proposal))


def is_author(user: User, proposal: Proposal) -> bool:
    """The proposer or a co-author who has accepted."""
    if not user.is_authenticated:
        return False
    if proposal.created_by_id == user.id:
        return True
    return any(a.user_id == user.id and a.state == AuthorState.ACCEPTED for a in proposal.authors)


def answer_deadline(submitted_at: datetime) -> date:
    """The local date by which the proposal must have an answer (``PROPOSAL_ANSWER_DAYS``)."""
    return local_today(submitted_at) + timedelta(days=current_app.config["PROPOSAL_ANSWER_DAYS"])


def is_overdue(proposal: Proposal, now: datetime) -> bool:
    return (
        proposal.state in (S.RECEIVED, S.UNDER_REVIEW)
        and proposal.answer_deadline is not None
        and proposal.answer_deadline < local_today(now)
    )


def move(
    proposal: Proposal, to: ProposalState, actor: User, now: datetime, answer: str = ""
) -> ProposalEvent:
    """Move the proposal to ``to`` if the state table allows it (ForbiddenMove), ``actor`` may
    (NotAllowed) and a decline has a reason (ReasonRequired); nothing changes otherwise.
    Submitting sets the submission time and the answer deadline; an answer stores its text,
    who gave it and when. Records the event the followers are told about, and an audit event."""
    current = ProposalState(proposal.state)
    if to not in TRANSITIONS[current]:
        raise ForbiddenMove(f"{current} → {to}")
    answer = (answer or "").replace("\x00", "").strip()
    if current == S.DRAFT:
        if not is_author(actor, proposal):
            raise NotAllowed
    elif not may_answer(actor, proposal):
        raise NotAllowed
    if to == S.DECLINED and not answer:
        raise ReasonRequired
    proposal.state = to
    if to == S.RECEIVED:
        proposal.submitted_at = now
        proposal.answer_deadline = answer_deadline(now)
    else:
        proposal.answered_by_id = actor.id
        proposal.answered_at = now
        if answer:
            proposal.answer_text = answer[:ANSWER_TEXT_MAX]
    event = ProposalEvent(
        proposal_id=proposal.id,
        kind=EventKind.STATE,
        actor_id=actor.id,
        details={"from": str(current), "to": str(to), "answer": answer[:ANSWER_TEXT_MAX]},
        created_at=now,
    )
    db.session.add(event)
    audit.record(
        "proposal.state",
        "proposal",
        proposal.id,
        actor_id=actor.id,
        **{"from": str(current), "to": str(to)},
    )
    db.session.flush()
    return event
