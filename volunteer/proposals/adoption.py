"""Adoption: an adopted proposal becomes one or more needs in its local area, filled in from
the proposal (``need_prefill``), and the proposer becomes each one's *tovholder*
(``ActivityLead``): they see its helpers and confirm its visits (``lead_record_visit``),
nothing else. Everyone who pressed "Jeg er med" as a helper is invited first; the matching
fills the rest (the need is an ordinary open need).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden, NotFound

from volunteer import audit, bookings
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import LocalArea
from volunteer.centres.models import Visit, VisitState
from volunteer.centres.services import MAX_HOURS, TooEarly, default_hours
from volunteer.coordination import proposals as matching_proposals
from volunteer.coordination.models import Assignment, AssignmentSource, AssignmentState
from volunteer.extensions import db
from volunteer.needs import manage
from volunteer.needs.models import Need, Occurrence
from volunteer.proposals import services, states
from volunteer.proposals.models import ActivityLead, Proposal, ProposalNeed, ProposalState

LEAD_OUTCOMES = (VisitState.CONFIRMED, VisitState.NO_SHOW)


class BadOutcome(Exception):
    """A tovholder records only "came" or "did not come"."""


class NotAdopted(Exception):
    """Only an adopted proposal becomes a need."""


def need_prefill(proposal: Proposal, user: User, today: date) -> dict[str, Any]:
    """The need form's values taken from the proposal."""
    organisations = {o.id for o in manage.manageable_organisations(user)}
    organisation_id = next(
        (
            i
            for i in (proposal.organisation_id, _council_id(proposal))
            if i is not None and i in organisations
        ),
        None,
    )
    description = "\n\n".join(
        part for part in (proposal.what, proposal.for_whom, proposal.helper_roles) if part
    )
    first = proposal.first_date if proposal.first_date and proposal.first_date > today else None
    if first is None:
        weekday = proposal.weekday if proposal.weekday is not None else today.weekday()
        first = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return {
        "organisation_id": organisation_id,
        "title": proposal.title[:160],
        "description": description[:4000],
        "centre_id": 0,
        "postcode": proposal.postcode,
        "local_area_id": proposal.local_area_id or 0,
        "schedule": proposal.schedule,
        "weekday": proposal.weekday if proposal.weekday is not None else first.weekday(),
        "first_date": first,
        "start_time": proposal.start_time or time(10),
        "end_time": proposal.end_time or time(12),
        "slots": min(max(proposal.helpers_wanted, 1), 100),
    }


def _council_id(proposal: Proposal) -> int | None:
    area = db.session.get(LocalArea, proposal.local_area_id) if proposal.local_area_id else None
    return area.organisation_id if area else None


@dataclass(frozen=True)
class Adopted:
    need: Need
    invited: int
    skipped: int


def adopt_as_need(
    coordinator: User, proposal: Proposal, data: manage.NeedData, now: datetime, *, open_now: bool
) -> Adopted:
    """Create a need from the adopted proposal (``manage.create_need``: the coordinator's own
    organisation), make the proposer its tovholder, and, when it is open, invite first the
    volunteers who said "Jeg er med" as helpers. Commits; raises NotAdopted, NotAllowed and
    ``manage.NeedError``."""
    if not states.may_answer(coordinator, proposal):
        raise states.NotAllowed
    if proposal.state != ProposalState.ADOPTED:
        raise NotAdopted
    need = manage.create_need(coordinator, data, now, open_now=open_now)
    db.session.add(ProposalNeed(need_id=need.id, proposal_id=proposal.id, created_at=now))
    if proposal.created_by_id is not None:
        db.session.add(
            ActivityLead(need_id=need.id, user_id=proposal.created_by_id, created_at=now)
        )
    audit.record(
        "proposal.need_created", "proposal", proposal.id, actor_id=coordinator.id, need_id=need.id
    )
    db.session.commit()
    if not open_now:
        return Adopted(need, 0, 0)
    ids = []
    for helper in services.helpers(proposal):
        if helper.role != Role.VOLUNTEER or helper.profile is None or not helper.is_active:
            continue
        assignment = bookings.start(
            need.id, helper, AssignmentState.PROPOSED, now, source=AssignmentSource.MANUAL
        )
        ids.append(assignment.id)
    db.session.commit()
    invited, skipped = matching_proposals.approve(coordinator, ids, now) if ids else (0, 0)
    return Adopted(need, invited, skipped)


def needs_of(proposal: Proposal) -> list[Need]:
    return list(
        db.session.scalars(
            select(Need)
            .join(ProposalNeed, ProposalNeed.need_id == Need.id)
            .where(ProposalNeed.proposal_id == proposal.id)
            .order_by(Need.id)
        )
    )


def lead_needs(user: User, proposal: Proposal) -> list[Need]:
    """The proposal's needs the user may follow as tovholder: those they lead; all of them
    for a coordinator who manages them (and admins)."""
    needs = needs_of(proposal)
    if not user.is_authenticated:
        return []
    led = set(
        db.session.scalars(select(ActivityLead.need_id).where(ActivityLead.user_id == user.id))
    )
    return [n for n in needs if n.id in led or manage.may_manage(user, n)]


def may_lead(user: User, proposal: Proposal) -> bool:
    if not user.is_authenticated:
        return False
    if user.role in (Role.COORDINATOR, Role.ADMIN) and states.may_answer(user, proposal):
        return True
    return bool(lead_needs(user, proposal))


@dataclass(frozen=True)
class LeadView:
    needs: list[Need]
    helpers: dict[int, list[Assignment]]
    visits: dict[int, list[Visit]]


def lead_view(user: User, proposal: Proposal, now: datetime) -> LeadView:
    """For the tovholder page: each need's helpers (invited, accepted or waiting) and its visits
    of the last and next four weeks."""
    if not may_lead(user, proposal):
        raise Forbidden
    needs = lead_needs(user, proposal)
    ids = [n.id for n in needs]
    helpers: dict[int, list[Assignment]] = {i: [] for i in ids}
    for assignment in db.session.scalars(
        select(Assignment)
        .where(
            Assignment.need_id.in_(ids),
            Assignment.state.in_(
                (AssignmentState.INVITED, AssignmentState.ACCEPTED, AssignmentState.PENDING)
            ),
        )
        .options(joinedload(Assignment.volunteer))
        .order_by(Assignment.id)
    ):
        helpers[assignment.need_id].append(assignment)
    visits: dict[int, list[Visit]] = {i: [] for i in ids}
    for visit in db.session.scalars(
        select(Visit)
        .join(Visit.occurrence)
        .where(
            Occurrence.need_id.in_(ids),
            Occurrence.starts_at >= now - timedelta(days=28),
            Occurrence.starts_at <= now + timedelta(days=28),
        )
        .options(joinedload(Visit.occurrence), joinedload(Visit.volunteer))
        .order_by(Occurrence.starts_at, Visit.id)
    ):
        visits[visit.occurrence.need_id].append(visit)
    return LeadView(needs, helpers, visits)


def lead_record_visit(user: User, visit_id: int, outcome: str, now: datetime) -> Visit:
    """The tovholder (or a coordinator of the need) records that a helper came or not.
    Forbidden for any other visit; TooEarly before it has started. Commits."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound
    need = visit.occurrence.need
    leads = db.session.get(ActivityLead, (need.id, user.id)) is not None
    if not (
        leads or (user.role in (Role.COORDINATOR, Role.ADMIN) and manage.may_manage(user, need))
    ):
        raise Forbidden
    if outcome not in {str(o) for o in LEAD_OUTCOMES}:
        raise BadOutcome
    if now < visit.occurrence.starts_at:
        raise TooEarly
    state = VisitState(outcome)
    previous = bookings.move_visit(visit, state)
    visit.hours = min(default_hours(visit), MAX_HOURS) if state == VisitState.CONFIRMED else None
    visit.confirmed_by_id = user.id
    visit.confirmed_at = now
    audit.record(
        f"visit.{state}", "visit", visit.id, actor_id=user.id, previous=previous, by="tovholder"
    )
    db.session.commit()
    return visit


def proposal_of(visit_id: int) -> int | None:
    """The proposal whose need the visit belongs to (None for any other visit)."""
    return db.session.scalar(
        select(ProposalNeed.proposal_id)
        .join(Occurrence, Occurrence.need_id == ProposalNeed.need_id)
        .join(Visit, Visit.occurrence_id == Occurrence.id)
        .where(Visit.id == visit_id)
    )
