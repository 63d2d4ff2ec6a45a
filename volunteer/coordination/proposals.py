"""The coordinator's matching: load an organisation's open needs and eligible volunteers, ask
the ``matching`` engine for the best pairs, and keep them as proposals for the coordinator.

Accepted pairs go to the engine as ``existing`` so they stay put (continuity); the engine is
told each need's full slots and each volunteer's full weekly capacity, so it also respects time
clashes with what volunteers have already taken on. Only new pairs become proposals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import selectinload

import matching
from volunteer import audit, bookings
from volunteer.auth.models import Role, User
from volunteer.clock import local_today
from volunteer.coordination.models import (
    Assignment,
    AssignmentSource,
    AssignmentState,
    MatchRun,
)
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.needs.eligibility import to_matching_need, to_matching_volunteer
from volunteer.needs.models import Need
from volunteer.notifications.services import notify
from volunteer.volunteers.models import AwayPeriod, VolunteerProfile, organisation_volunteers

MATCH_TIME_LIMIT_S = 20.0
# How far ahead an away period makes a volunteer unavailable for this run's proposals.
AWAY_WINDOW = timedelta(days=7)


class NotAllowed(Exception):
    """The user may not run matching for that organisation."""


def check_organisation(user: User, organisation_id: int) -> None:
    """Raise NotAllowed unless ``user`` manages the organisation (admins manage all)."""
    ids = organisation_ids(user)
    if ids is not None and organisation_id not in ids:
        raise NotAllowed(organisation_id)


def _open_needs(
    organisation_id: int, local_area_id: int | None, activity_type_id: int | None, now: datetime
) -> list[Need]:
    query = (
        select(Need)
        .where(Need.organisation_id == organisation_id, bookings.bookable_sql(now))
        .options(selectinload(Need.activity_type))
        .order_by(Need.id)
    )
    if local_area_id:
        query = query.where(Need.local_area_id == local_area_id)
    if activity_type_id:
        query = query.where(Need.activity_type_id == activity_type_id)
    return list(db.session.scalars(query))


def eligible_profiles(organisation_id: int, today: date) -> list[VolunteerProfile]:
    """Members of the organisation who are active, have confirmed their email address, and are
    not paused nor away this week (nor kept by a coordinator, who signs them up instead)."""
    away = exists().where(
        AwayPeriod.profile_id == VolunteerProfile.id,
        AwayPeriod.start_date <= today + AWAY_WINDOW,
        AwayPeriod.end_date >= today,
    )
    return list(
        db.session.scalars(
            select(VolunteerProfile)
            .join(VolunteerProfile.user)
            .join(
                organisation_volunteers,
                organisation_volunteers.c.profile_id == VolunteerProfile.id,
            )
            .where(
                organisation_volunteers.c.organisation_id == organisation_id,
                User.role == Role.VOLUNTEER,
                User.active.is_(True),
                User.deleted_at.is_(None),
                User.identity_confirmed,
                # A kept account cannot answer an emailed invitation: its coordinator signs
                # it up (``auth.managed``).
                ~User.managed,
                (VolunteerProfile.paused_until.is_(None)) | (VolunteerProfile.paused_until < today),
                ~away,
            )
            .options(
                selectinload(VolunteerProfile.availability),
                selectinload(VolunteerProfile.interests),
                # The age assurance (the lektiecafé rule), in bulk.
                selectinload(VolunteerProfile.user).selectinload(User.oidc_links),
            )
            .order_by(VolunteerProfile.user_id)
        )
    )


def solve_run(run: MatchRun, now: datetime) -> None:
    """Match the open needs in the run's scope (organisation, and area and activity if set),
    store the new pairs as proposals (unless the run is a dry run) and the engine's figures on
    the run. Earlier proposals for these needs are replaced. Flushes; the caller commits, with
    the run's move to done (``volunteer.coordination.runs``)."""
    today = local_today(now)
    needs = _open_needs(run.organisation_id, run.local_area_id, run.activity_type_id, now)
    profiles = eligible_profiles(run.organisation_id, today)
    need_ids = [n.id for n in needs]
    rows = db.session.scalars(select(Assignment).where(Assignment.need_id.in_(need_ids))).all()
    accepted = [(str(a.volunteer_id), str(a.need_id)) for a in rows if a.state == "accepted"]
    held = Counter(a.need_id for a in rows if a.state in bookings.HELD_STATES)
    # Anyone with a row for a need (declined, withdrawn, waiting…) is not proposed for it again.
    taken = {(a.volunteer_id, a.need_id) for a in rows if a.state != AssignmentState.PROPOSED}

    result = matching.solve(
        [to_matching_volunteer(p, today) for p in profiles],
        [to_matching_need(n) for n in needs],
        existing=accepted,
        config=matching.MatchConfig(time_limit_s=MATCH_TIME_LIMIT_S),
    )
    by_id = {n.id: n for n in needs}
    free = {n.id: bookings.free_of(n.slots, held[n.id]) for n in needs}
    # The engine sees only this run's needs; the booking rule also knows the volunteers'
    # other commitments and the needs' dates, and has the last word.
    busy = bookings.commitments([p.user_id for p in profiles], today)
    capacity = {p.user_id: p.weekly_capacity for p in profiles}
    slots = {n.id: bookings.slot_of(n, today) for n in needs}
    proposals: list[tuple[int, int, matching.Match]] = []
    for match in result.matches:
        volunteer_id, need_id = int(match.volunteer_id), int(match.need_id)
        if (volunteer_id, need_id) in taken or free[need_id] == 0:
            continue
        slot = slots[need_id]
        if slot is None or bookings.conflict(slot, busy[volunteer_id], capacity[volunteer_id]):
            continue
        busy[volunteer_id].append(slot)
        free[need_id] -= 1
        proposals.append((volunteer_id, need_id, match))

    run.status = result.status
    run.gap = result.gap
    run.seconds = float(result.stats.get("seconds", 0.0))
    run.needs = len(needs)
    run.volunteers = len(profiles)
    run.proposals = len(proposals)
    run.stats = {k: float(v) for k, v in result.stats.items()}
    run.unmatched = {
        str(need_id): {
            "open": count,
            "reason": unmatched_reason(by_id[need_id], profiles, today),
        }
        for need_id, count in free.items()
        if count > 0
    }
    if not run.dry_run:
        db.session.execute(
            delete(Assignment).where(
                Assignment.need_id.in_(need_ids), Assignment.state == AssignmentState.PROPOSED
            )
        )
        db.session.flush()
        volunteers = {p.user_id: p.user for p in profiles}
        for volunteer_id, need_id, match in proposals:
            bookings.start(
                need_id,
                volunteers[volunteer_id],
                AssignmentState.PROPOSED,
                now,
                match_run=run,
                source=AssignmentSource.MATCHING,
                km=match.km,
                score=match.km,
                explanation=[[code, params] for code, params in match.reason_codes],
            )
    db.session.flush()
    audit.record(
        "matching.run",
        "match_run",
        run.id,
        actor_id=run.created_by_id,
        proposals=len(proposals),
        dry_run=run.dry_run,
    )


def unmatched_reason(need: Need, profiles: list[VolunteerProfile], today: date) -> str:
    """The first hurdle nobody (or not enough people) cleared: no one within reach, no one free
    then, no one with the certificate or language, or all suitable volunteers are busy."""
    target = to_matching_need(need)
    hurdles = Counter()
    for profile in profiles:
        reasons = matching.explain_infeasible(to_matching_volunteer(profile, today), target)
        hurdles[reasons[0] if reasons else "busy"] += 1
    if not profiles:
        return "no_volunteers"
    if hurdles["busy"]:
        return "busy"
    for code in ("certificate_missing", "language", "not_free", "too_far"):
        if hurdles[code]:
            return code
    return "no_volunteers"


@dataclass(frozen=True)
class Review:
    run: MatchRun
    groups: list[tuple[Need, list[Assignment]]]
    unmatched: list[tuple[Need, int, str]]


def review(user: User, run_id: int) -> Review | None:
    """The run's proposals grouped by need, and the needs left open with why; None when the
    run is not one of the user's organisations'."""
    run = db.session.get(MatchRun, run_id)
    if run is None:
        return None
    try:
        check_organisation(user, run.organisation_id)
    except NotAllowed:
        return None
    proposals = db.session.scalars(
        select(Assignment)
        .where(Assignment.match_run_id == run.id)
        .options(selectinload(Assignment.volunteer), selectinload(Assignment.need))
        .order_by(Assignment.need_id, Assignment.km)
    ).all()
    groups: dict[int, tuple[Need, list[Assignment]]] = {}
    for proposal in proposals:
        groups.setdefault(proposal.need_id, (proposal.need, []))[1].append(proposal)
    unmatched_needs = {
        n.id: n
        for n in db.session.scalars(
            select(Need).where(Need.id.in_([int(i) for i in run.unmatched]))
        )
    }
    unmatched = [
        (unmatched_needs[int(i)], info["open"], info["reason"])
        for i, info in run.unmatched.items()
        if int(i) in unmatched_needs
    ]
    return Review(run, list(groups.values()), unmatched)


def _own_proposals(user: User, ids: list[int]) -> list[Assignment]:
    rows = db.session.scalars(
        select(Assignment)
        .where(Assignment.id.in_(ids), Assignment.state == AssignmentState.PROPOSED)
        .options(selectinload(Assignment.need))
        .execution_options(populate_existing=True)
    ).all()
    allowed = organisation_ids(user)
    return [a for a in rows if allowed is None or a.need.organisation_id in allowed]


def approve(user: User, assignment_ids: list[int], now: datetime) -> tuple[int, int]:
    """Turn proposals into invitations (emailed to the volunteers). A proposal that no longer
    fits (the need has filled up, or the volunteer is busy then or has a full week) stays a
    proposal. A need whose places are all held is filled at once. Returns (invited, skipped).
    Commits."""
    invited = skipped = 0
    # Every need before any volunteer (the order of ``bookings.locks``), then the proposals as
    # they are under the locks (a swap or a rejection may have just changed them).
    bookings.lock_needs(a.need_id for a in _own_proposals(user, assignment_ids))
    proposals = _own_proposals(user, assignment_ids)
    bookings.lock_volunteers(a.volunteer_id for a in proposals)
    for assignment in proposals:
        try:
            bookings.move(assignment, AssignmentState.INVITED, now)
        except bookings.Refused:
            skipped += 1
            continue
        assignment.decided_by_id = user.id
        notify(
            f"invitation:{assignment.id}:{int(now.timestamp())}",
            assignment.volunteer,
            "invitation",
            need=assignment.need,
            assignment=assignment,
        )
        audit.record("assignment.invited", "assignment", assignment.id, actor_id=user.id)
        invited += 1
        db.session.flush()
    db.session.commit()
    return invited, skipped


def reject(user: User, assignment_ids: list[int], now: datetime) -> int:
    """The coordinator turns proposals down; they are not proposed again. Commits."""
    rows = _own_proposals(user, assignment_ids)
    for assignment in rows:
        bookings.move(assignment, AssignmentState.DECLINED, now)
        assignment.decided_by_id = user.id
        audit.record("assignment.rejected", "assignment", assignment.id, actor_id=user.id)
    db.session.commit()
    return len(rows)


def _free_to_take(
    need: Need,
    pool: list[tuple[VolunteerProfile, matching.Volunteer]],
    today: date,
    busy: dict[int, list[bookings.Slot]],
) -> list[tuple[VolunteerProfile, matching.Volunteer]]:
    """The pool without anyone busy at the need's time (``busy``: accepted, invited or
    proposed elsewhere) or at their weekly capacity: the booking rule."""
    target = bookings.slot_of(need, today)
    if target is None:
        return []
    return [
        (p, v)
        for p, v in pool
        if bookings.conflict(target, busy[p.user_id], p.weekly_capacity) is None
    ]


def _busy(pool: list[tuple[VolunteerProfile, matching.Volunteer]], today: date):  # type: ignore[no-untyped-def]
    return bookings.commitments(
        [p.user_id for p, _v in pool], today, states=bookings.PROPOSING_STATES
    )


def shortlists(
    needs: list[Need], today: date, limit: int = 5
) -> dict[int, list[tuple[VolunteerProfile, float]]]:
    """For each need, other volunteers who could take it, best first as the engine ranks a
    vacancy (``matching.fill_vacancy``: feasible, then distance less the interest bonus),
    leaving out anyone busy then or with a full week.

    A fixed number of queries however many needs and volunteers there are.
    """
    taken = set(
        db.session.execute(
            select(Assignment.need_id, Assignment.volunteer_id).where(
                Assignment.need_id.in_([n.id for n in needs])
            )
        ).all()
    )
    pools = {
        org_id: [(p, to_matching_volunteer(p, today)) for p in eligible_profiles(org_id, today)]
        for org_id in {n.organisation_id for n in needs}
    }
    busy = _busy([member for pool in pools.values() for member in pool], today)
    result = {}
    for need in needs:
        pool = [(p, v) for p, v in pools[need.organisation_id] if (need.id, p.user_id) not in taken]
        pool = _free_to_take(need, pool, today, busy)
        profiles = {v.id: p for p, v in pool}
        candidates = [v for _p, v in pool]
        target = to_matching_need(need, slots=1)
        ranked: list[tuple[VolunteerProfile, float]] = []
        while len(ranked) < limit:
            best = matching.fill_vacancy(candidates, [target], (), target.id)
            if best is None:
                break
            ranked.append((profiles[best.volunteer_id], best.km))
            candidates = [v for v in candidates if v.id != best.volunteer_id]
        result[need.id] = ranked
    return result


def swap(user: User, assignment_id: int, volunteer_id: int, now: datetime) -> Assignment | None:
    """Replace a proposal's volunteer with one who could take it (as on the shortlist: the
    engine finds them feasible, and they are not busy then nor at their weekly capacity).
    None when that is not so. Commits."""
    rows = _own_proposals(user, [assignment_id])
    if not rows:
        return None
    proposal = rows[0]
    need = bookings.lock_need(proposal.need_id)
    today = local_today(now)
    taken = db.session.scalar(
        select(Assignment.id).where(
            Assignment.need_id == need.id, Assignment.volunteer_id == volunteer_id
        )
    )
    pool = [
        (p, to_matching_volunteer(p, today))
        for p in eligible_profiles(need.organisation_id, today)
        if p.user_id == volunteer_id
    ]
    target = to_matching_need(need, slots=1)
    best = None
    if taken is None and pool:
        best = matching.fill_vacancy(
            [v for _p, v in _free_to_take(need, pool, today, _busy(pool, today))],
            [target],
            (),
            target.id,
        )
    if best is None:
        db.session.rollback()
        return None
    proposal.volunteer_id = volunteer_id
    proposal.km = best.km
    proposal.explanation = [["distance", {"km": round(best.km, 1)}], ["manual", {}]]
    proposal.source = AssignmentSource.MANUAL
    proposal.decided_by_id = user.id
    db.session.commit()
    return proposal
