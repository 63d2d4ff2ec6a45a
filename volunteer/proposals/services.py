"""Proposals' rules: writing and editing (with the edit history), co-authors, "Jeg er med",
following, comments and their moderation, who sees what, and the lists.

Views call one function each; the functions raise ``ProposalError`` (a field and a code the
view turns into a Danish message) and commit. State changes go through ``states.move``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from volunteer import audit, geo
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import LocalArea, Organisation
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.notifications import links
from volunteer.notifications.links import BearerLink
from volunteer.notifications.services import Addressee, enqueue
from volunteer.proposals import states
from volunteer.proposals.models import (
    AWAITING_ANSWER,
    AuthorState,
    CommentReport,
    EventKind,
    Proposal,
    ProposalAuthor,
    ProposalComment,
    ProposalEvent,
    ProposalFollow,
    ProposalRevision,
    ProposalSchedule,
    ProposalState,
    ProposalSupport,
    SupportKind,
)
from volunteer.urls import external_url

COAUTHOR_LINK = "proposal_coauthor"
COAUTHOR_SALT = "proposal-coauthor"
COAUTHOR_MAX_AGE_S = 14 * 86400
EDITABLE_STATES = frozenset({ProposalState.DRAFT, *AWAITING_ANSWER})
OPEN_FOR_SUPPORT = frozenset({*AWAITING_ANSWER, ProposalState.ADOPTED})
EXCERPT = 200
MAX_AMOUNT_ORE = 100_000_000 * 100  # a hundred million kroner: more is a typing error


class ProposalError(Exception):
    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class ProposalData:
    title: str
    what: str
    postcode: str
    for_whom: str = ""
    local_area_id: int = 0  # 0: the local area of the postcode
    organisation_id: int = 0  # 0: the local area's council
    schedule: str = ProposalSchedule.WEEKLY
    weekday: int | None = None
    start_time: time | None = None
    end_time: time | None = None
    first_date: date | None = None
    helpers_wanted: int = 0
    helper_roles: str = ""
    ask_room: bool = False
    ask_materials: str = ""
    amount_ore: int = 0


# The fields an edit compares (the edit history shows each one that changed).
FIELDS = (
    "title",
    "what",
    "for_whom",
    "local_area_id",
    "postcode",
    "organisation_id",
    "schedule",
    "weekday",
    "start_time",
    "end_time",
    "first_date",
    "helpers_wanted",
    "helper_roles",
    "ask_room",
    "ask_materials",
    "amount_ore",
)


def _clean(value: Any) -> Any:
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


# Who sees what.


def _visible_sql(viewer: User) -> ColumnElement[bool]:
    """Everyone sees every proposal that is not a draft; a draft only its authors (and admins)."""
    if viewer.is_authenticated and viewer.role == Role.ADMIN:
        return Proposal.id.is_not(None)
    if not viewer.is_authenticated:
        return Proposal.state != ProposalState.DRAFT
    co_authored = select(ProposalAuthor.proposal_id).where(
        ProposalAuthor.user_id == viewer.id, ProposalAuthor.state == AuthorState.ACCEPTED
    )
    return or_(
        Proposal.state != ProposalState.DRAFT,
        Proposal.created_by_id == viewer.id,
        Proposal.id.in_(co_authored),
    )


def visible_proposal(viewer: User, proposal_id: int) -> Proposal:
    """The proposal if the viewer may see it (NotFound otherwise: a draft stays secret)."""
    proposal = db.session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id, _visible_sql(viewer))
        .options(
            joinedload(Proposal.local_area),
            joinedload(Proposal.organisation),
            joinedload(Proposal.created_by),
            joinedload(Proposal.answered_by),
            selectinload(Proposal.authors),
        )
    )
    if proposal is None:
        raise NotFound
    return proposal


def public_list(viewer: User, *, local_area_id: int = 0, state: str = "") -> list[Proposal]:
    """Proposals anyone may see (and the viewer's own drafts), the newest first."""
    query = (
        select(Proposal)
        .where(_visible_sql(viewer))
        .options(joinedload(Proposal.local_area), joinedload(Proposal.organisation))
        .order_by(func.coalesce(Proposal.submitted_at, Proposal.created_at).desc(), Proposal.id)
    )
    if local_area_id:
        query = query.where(Proposal.local_area_id == local_area_id)
    if state in set(ProposalState):
        query = query.where(Proposal.state == state)
    return list(db.session.scalars(query.limit(500)))


def answerable_sql(organisation_ids: list[int] | None) -> ColumnElement[bool]:
    """The proposals coordinators of these organisations answer (None: all, for admins)."""
    if organisation_ids is None:
        return Proposal.id.is_not(None)
    if not organisation_ids:
        return false()
    councils = select(LocalArea.id).where(LocalArea.organisation_id.in_(organisation_ids))
    return or_(Proposal.organisation_id.in_(organisation_ids), Proposal.local_area_id.in_(councils))


def _organisation_ids(viewer: User) -> list[int] | None:
    if viewer.role == Role.ADMIN:
        return None
    if viewer.role != Role.COORDINATOR:
        return []
    return [o.id for o in viewer.organisations]


def overdue_sql(now: datetime) -> ColumnElement[bool]:
    return Proposal.state.in_(AWAITING_ANSWER) & (Proposal.answer_deadline < local_today(now))


def to_answer(viewer: User, now: datetime) -> list[Proposal]:
    """The proposals the viewer answers that wait for an answer, overdue first (the earliest
    deadline first), then the answered ones."""
    overdue = overdue_sql(now)
    query = (
        select(Proposal)
        .where(answerable_sql(_organisation_ids(viewer)), Proposal.state != ProposalState.DRAFT)
        .options(joinedload(Proposal.local_area), joinedload(Proposal.organisation))
        .order_by(
            overdue.desc(),
            Proposal.state.not_in(AWAITING_ANSWER),
            Proposal.answer_deadline,
            Proposal.id,
        )
    )
    return list(db.session.scalars(query.limit(500)))


def overdue_for(organisation_ids: list[int] | None, now: datetime, limit: int | None = None):  # type: ignore[no-untyped-def]
    """The overdue proposals of these organisations (None: all), the earliest deadline first,
    and how many there are."""
    where = (answerable_sql(organisation_ids), overdue_sql(now))
    total = db.session.scalar(select(func.count(Proposal.id)).where(*where)) or 0
    query = select(Proposal).where(*where).order_by(Proposal.answer_deadline, Proposal.id)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query)), total


# Writing and editing.


def _resolve(data: ProposalData) -> dict[str, Any]:
    """The stored values of ``data``: checked, with the postcode's town, the local area (given,
    or the postcode's) and the responsible organisation (given, or the area's council)."""
    from volunteer.persons.services import route_postcode

    values = {name: _clean(getattr(data, name)) for name in FIELDS}
    if not values["title"]:
        raise ProposalError("title", "required")
    if not values["what"]:
        raise ProposalError("what", "required")
    place = geo.lookup(values["postcode"] or "")
    if place is None:
        raise ProposalError("postcode", "unknown")
    values["postcode"] = place.code
    if values["schedule"] not in set(ProposalSchedule):
        raise ProposalError("schedule", "unknown")
    if values["weekday"] is not None and not 0 <= values["weekday"] <= 6:
        raise ProposalError("weekday", "unknown")
    if values["start_time"] and values["end_time"] and values["end_time"] <= values["start_time"]:
        raise ProposalError("end_time", "end_before_start")
    if not 0 <= values["helpers_wanted"] <= 500:
        raise ProposalError("helpers_wanted", "range")
    if not 0 <= values["amount_ore"] <= MAX_AMOUNT_ORE:
        raise ProposalError("amount", "range")
    area_id = values["local_area_id"] or route_postcode(place.code).local_area_id
    area = db.session.get(LocalArea, area_id) if area_id else None
    if values["local_area_id"] and area is None:
        raise ProposalError("local_area_id", "unknown")
    values["local_area_id"] = area.id if area else None
    if values["organisation_id"]:
        if db.session.get(Organisation, values["organisation_id"]) is None:
            raise ProposalError("organisation_id", "unknown")
    else:
        values["organisation_id"] = None
    if values["organisation_id"] is None and (area is None or area.organisation_id is None):
        raise ProposalError("organisation_id", "nobody_answers")
    values["town"] = place.town
    return values


def create_draft(author: User, data: ProposalData, now: datetime) -> Proposal:
    """A new proposal in ``draft``, visible to its authors only. Commits."""
    values = _resolve(data)
    proposal = Proposal(
        **values, state=ProposalState.DRAFT, created_by_id=author.id, created_at=now, updated_at=now
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(ProposalFollow(proposal_id=proposal.id, user_id=author.id, created_at=now))
    audit.record("proposal.created", "proposal", proposal.id, actor_id=author.id)
    db.session.commit()
    return proposal


def _shown(name: str, value: Any) -> Any:
    """A value as the edit history keeps it: names for ids, ISO text for dates and times."""
    if value is None:
        return None
    if name == "local_area_id":
        area = db.session.get(LocalArea, value)
        return area.name if area else None
    if name == "organisation_id":
        org = db.session.get(Organisation, value)
        return org.name if org else None
    if isinstance(value, date | time):
        return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
    return value


def may_edit(user: User, proposal: Proposal) -> bool:
    return proposal.state in EDITABLE_STATES and states.is_author(user, proposal)


def update_proposal(author: User, proposal: Proposal, data: ProposalData, now: datetime) -> bool:
    """Apply an author's edit while no answer is given; records the changed fields (old and
    new) as a revision, and, once submitted, an event for the followers. False when nothing
    changed. Commits."""
    if not may_edit(author, proposal):
        raise ProposalError("proposal", "not_editable")
    values = _resolve(data)
    changes = {
        name: [_shown(name, getattr(proposal, name)), _shown(name, values[name])]
        for name in FIELDS
        if getattr(proposal, name) != values[name]
    }
    if not changes:
        return False
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.updated_at = now
    db.session.add(
        ProposalRevision(
            proposal_id=proposal.id, author_id=author.id, changes=changes, created_at=now
        )
    )
    if proposal.state != ProposalState.DRAFT:
        db.session.add(
            ProposalEvent(
                proposal_id=proposal.id,
                kind=EventKind.EDIT,
                actor_id=author.id,
                details={"fields": sorted(changes)},
                created_at=now,
            )
        )
    audit.record("proposal.edited", "proposal", proposal.id, actor_id=author.id)
    db.session.commit()
    return True


def revisions(proposal: Proposal) -> list[ProposalRevision]:
    return list(
        db.session.scalars(
            select(ProposalRevision)
            .where(ProposalRevision.proposal_id == proposal.id)
            .options(joinedload(ProposalRevision.author))
            .order_by(ProposalRevision.created_at.desc(), ProposalRevision.id.desc())
        )
    )


def submit(author: User, proposal: Proposal, now: datetime) -> None:
    """Send the draft in: it becomes public, ``received``, with its answer deadline. Commits."""
    try:
        states.move(proposal, ProposalState.RECEIVED, author, now)
    except states.ForbiddenMove as exc:
        raise ProposalError("proposal", "submitted_already") from exc
    except states.NotAllowed as exc:
        raise ProposalError("proposal", "not_author") from exc
    db.session.commit()


def answer(
    coordinator: User,
    proposal: Proposal,
    to: str,
    text: str,
    now: datetime,
    grant_ore: int = 0,
) -> ProposalEvent:
    """An official answer (a new state with its text) and, adopting it, a grant of
    ``grant_ore`` from the local area's fund (``pools.grant``), in one transaction. Commits."""
    from volunteer.proposals import pools

    if to not in set(ProposalState):
        raise ProposalError("state", "unknown")
    if grant_ore < 0:
        raise ProposalError("grant", "range")
    if grant_ore and to != ProposalState.ADOPTED:
        raise ProposalError("grant", "not_adopted")
    try:
        event = states.move(proposal, ProposalState(to), coordinator, now, text)
        if grant_ore:
            pools.grant(coordinator, proposal, grant_ore, now)
    except states.ForbiddenMove as exc:
        raise ProposalError("state", "forbidden") from exc
    except states.NotAllowed as exc:
        raise ProposalError("state", "not_answerer") from exc
    except states.ReasonRequired as exc:
        raise ProposalError("text", "reason_required") from exc
    except pools.PoolError as exc:
        db.session.rollback()
        raise ProposalError(exc.field, exc.code) from exc
    db.session.commit()
    return event


# Co-authors.


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=COAUTHOR_SALT)


def make_coauthor_token(author: ProposalAuthor) -> str:
    return _signer().dumps({"a": author.id, "e": author.email})


@links.minter(COAUTHOR_LINK)
def _coauthor_link(author_id: int) -> str | None:
    author = db.session.get(ProposalAuthor, author_id)
    if author is None or author.state != AuthorState.INVITED:
        return None
    return external_url("proposals.coauthor", token=make_coauthor_token(author))


def invite_coauthor(inviter: User, proposal: Proposal, email: str, now: datetime) -> ProposalAuthor:
    """Invite a co-author by email (a signed link, minted when the email is sent). Only an
    author may invite, and only while the proposal can be edited. Commits."""
    from volunteer.auth.services import find_user_by_email, normalise_email

    if not may_edit(inviter, proposal):
        raise ProposalError("email", "not_editable")
    email = normalise_email(email)
    if proposal.created_by is not None and proposal.created_by.email == email:
        raise ProposalError("email", "already_author")
    if any(a.email == email for a in proposal.authors):
        raise ProposalError("email", "invited_already")
    author = ProposalAuthor(
        proposal_id=proposal.id, email=email, invited_by_id=inviter.id, created_at=now
    )
    db.session.add(author)
    db.session.flush()
    user = find_user_by_email(email)
    recipient: User | Addressee = user if user is not None else Addressee(email=email, name="")
    enqueue(
        f"proposal-coauthor:{author.id}",
        recipient,
        "proposal_coauthor",
        proposal=proposal,
        inviter=inviter,
        link=BearerLink(COAUTHOR_LINK, author_id=author.id),
        max_age_days=COAUTHOR_MAX_AGE_S // 86400,
    )
    audit.record("proposal.coauthor_invited", "proposal", proposal.id, actor_id=inviter.id)
    db.session.commit()
    return author


def read_coauthor_token(token: str) -> ProposalAuthor:
    """The open invitation of a valid link (ProposalError otherwise)."""
    try:
        data = _signer().loads(token, max_age=COAUTHOR_MAX_AGE_S)
    except (SignatureExpired, BadSignature) as exc:
        raise ProposalError("token", "invalid") from exc
    author_id = data.get("a") if isinstance(data, dict) else None
    author = db.session.get(ProposalAuthor, author_id) if isinstance(author_id, int) else None
    if author is None or author.email != data.get("e") or author.state != AuthorState.INVITED:
        raise ProposalError("token", "invalid")
    return author


def answer_coauthor(user: User, token: str, accept: bool, now: datetime) -> ProposalAuthor:
    """Accept (the signed-in user becomes a co-author and follows it) or decline. Commits."""
    author = read_coauthor_token(token)
    proposal = author.proposal
    if accept and proposal.created_by_id == user.id:
        raise ProposalError("token", "already_author")
    author.state = AuthorState.ACCEPTED if accept else AuthorState.DECLINED
    author.answered_at = now
    if accept:
        author.user_id = user.id
        _follow(proposal.id, user.id, now)
    audit.record(
        "proposal.coauthor_accepted" if accept else "proposal.coauthor_declined",
        "proposal",
        proposal.id,
        actor_id=user.id,
    )
    db.session.commit()
    return author


# Supporters and followers.


def _follow(proposal_id: int, user_id: int, now: datetime) -> None:
    if db.session.get(ProposalFollow, (proposal_id, user_id)) is None:
        db.session.add(ProposalFollow(proposal_id=proposal_id, user_id=user_id, created_at=now))


def support_of(user: User, proposal: Proposal) -> ProposalSupport | None:
    if not user.is_authenticated:
        return None
    return db.session.scalar(
        select(ProposalSupport).where(
            ProposalSupport.proposal_id == proposal.id, ProposalSupport.user_id == user.id
        )
    )


def set_support(user: User, proposal: Proposal, kind: str, now: datetime) -> None:
    """ "Jeg er med" as a helper or participant (one per user: a new choice replaces the old),
    or "" to withdraw. Joining also follows the proposal. Commits."""
    if proposal.state not in OPEN_FOR_SUPPORT:
        raise ProposalError("kind", "closed")
    existing = support_of(user, proposal)
    if not kind:
        if existing is not None:
            db.session.delete(existing)
        db.session.commit()
        return
    if kind not in set(SupportKind):
        raise ProposalError("kind", "unknown")
    if existing is None:
        db.session.add(
            ProposalSupport(proposal_id=proposal.id, user_id=user.id, kind=kind, created_at=now)
        )
    else:
        existing.kind = kind
    _follow(proposal.id, user.id, now)
    db.session.commit()


def support_counts(proposal: Proposal) -> dict[str, int]:
    rows = db.session.execute(
        select(ProposalSupport.kind, func.count())
        .where(ProposalSupport.proposal_id == proposal.id)
        .group_by(ProposalSupport.kind)
    ).all()
    counts = {str(kind): 0 for kind in SupportKind}
    counts.update({kind: n for kind, n in rows})
    return counts


def helpers(proposal: Proposal) -> list[User]:
    """Who pressed "Jeg er med" as a helper, the first first."""
    return list(
        db.session.scalars(
            select(User)
            .join(ProposalSupport, ProposalSupport.user_id == User.id)
            .where(
                ProposalSupport.proposal_id == proposal.id,
                ProposalSupport.kind == SupportKind.HELPER,
            )
            .order_by(ProposalSupport.created_at, ProposalSupport.id)
        )
    )


def is_following(user: User, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    return db.session.get(ProposalFollow, (proposal.id, user.id)) is not None


def set_following(user: User, proposal: Proposal, follow: bool, now: datetime) -> None:
    if proposal.state == ProposalState.DRAFT:
        raise ProposalError("follow", "closed")
    existing = db.session.get(ProposalFollow, (proposal.id, user.id))
    if follow:
        _follow(proposal.id, user.id, now)
    elif existing is not None:
        db.session.delete(existing)
    db.session.commit()


# Comments.

COMMENT_MAX = 4000


def comments(proposal: Proposal) -> list[ProposalComment]:
    return list(
        db.session.scalars(
            select(ProposalComment)
            .where(ProposalComment.proposal_id == proposal.id)
            .options(joinedload(ProposalComment.author), joinedload(ProposalComment.hidden_by))
            .order_by(ProposalComment.created_at, ProposalComment.id)
        )
    )


def add_comment(user: User, proposal: Proposal, body: str, now: datetime) -> ProposalComment:
    """A comment on a public proposal; its followers are told with an excerpt. Commits."""
    body = _clean(body or "")
    if proposal.state == ProposalState.DRAFT:
        raise ProposalError("body", "closed")
    if not body:
        raise ProposalError("body", "required")
    if len(body) > COMMENT_MAX:
        raise ProposalError("body", "too_long")
    comment = ProposalComment(proposal_id=proposal.id, author_id=user.id, body=body, created_at=now)
    db.session.add(comment)
    db.session.flush()
    db.session.add(
        ProposalEvent(
            proposal_id=proposal.id,
            kind=EventKind.COMMENT,
            actor_id=user.id,
            details={"comment_id": comment.id, "excerpt": excerpt(body)},
            created_at=now,
        )
    )
    db.session.commit()
    return comment


def excerpt(text: str, length: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def comment_for(comment_id: int, viewer: User) -> ProposalComment:
    comment = db.session.get(ProposalComment, comment_id)
    if comment is None:
        raise NotFound
    visible_proposal(viewer, comment.proposal_id)  # NotFound for a draft's (there are none)
    return comment


def report_comment(user: User, comment_id: int, reason: str, now: datetime) -> ProposalComment:
    """Report a comment as abusive (once per person; a second report changes nothing). The
    coordinators who answer the proposal see the reports. Commits."""
    comment = comment_for(comment_id, user)
    reason = _clean(reason or "")[:1000]
    exists = db.session.scalar(
        select(CommentReport.id).where(
            CommentReport.comment_id == comment.id, CommentReport.reporter_id == user.id
        )
    )
    if exists is None:
        db.session.add(
            CommentReport(comment_id=comment.id, reporter_id=user.id, reason=reason, created_at=now)
        )
        audit.record("proposal.comment_reported", "proposal_comment", comment.id, actor_id=user.id)
    db.session.commit()
    return comment


def hide_comment(coordinator: User, comment_id: int, reason: str, now: datetime) -> ProposalComment:
    """Hide an abusive comment; the reason is shown where it was. Only those who answer the
    proposal may. Commits."""
    comment = comment_for(comment_id, coordinator)
    proposal = db.session.get(Proposal, comment.proposal_id)
    assert proposal is not None
    if not states.may_answer(coordinator, proposal):
        raise ProposalError("reason", "not_answerer")
    reason = _clean(reason or "")
    if not reason:
        raise ProposalError("reason", "required")
    comment.hidden_reason = reason[:1000]
    comment.hidden_by_id = coordinator.id
    comment.hidden_at = now
    # A digest not yet sent must not carry the hidden text.
    for event in db.session.scalars(
        select(ProposalEvent).where(
            ProposalEvent.proposal_id == proposal.id,
            ProposalEvent.kind == EventKind.COMMENT,
            ProposalEvent.digested_at.is_(None),
        )
    ):
        if (event.details or {}).get("comment_id") == comment.id:
            db.session.delete(event)
    audit.record("proposal.comment_hidden", "proposal_comment", comment.id, actor_id=coordinator.id)
    db.session.commit()
    return comment


def reported_comments(viewer: User) -> list[tuple[ProposalComment, int]]:
    """Visible comments with reports on the proposals the viewer answers, and how many."""
    reports = func.count(CommentReport.id)
    rows = db.session.execute(
        select(ProposalComment, reports)
        .join(CommentReport, CommentReport.comment_id == ProposalComment.id)
        .join(Proposal, Proposal.id == ProposalComment.proposal_id)
        .where(answerable_sql(_organisation_ids(viewer)), ProposalComment.hidden_at.is_(None))
        .group_by(ProposalComment.id)
        .order_by(reports.desc(), ProposalComment.id)
        .limit(100)
    ).all()
    return [(comment, n) for comment, n in rows]


def answerers(proposal: Proposal) -> list[Organisation]:
    """The organisations whose coordinators answer it (what the proposer is shown)."""
    ids = states.answering_organisation_ids(proposal)
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))
