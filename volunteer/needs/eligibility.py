"""Who may take which need: the web app's adapter to the matching engine's feasibility rules.

The same rules decide what the need page says to a volunteer and what the matching proposes,
because both go through ``matching`` with the dataclasses built here.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

import matching
from volunteer import bookings
from volunteer.auth import oidc
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus
from volunteer.volunteers.models import VolunteerProfile

CHILD_CERTIFICATE = "child"
# The lektiecafé rule: a need with children (one that asks for a child certificate, such as a
# lektiecafé) needs an adult helper. Only a MitID login's age assurance can say a volunteer is
# not: without one, nobody is held back (``oidc.age_assured`` None counts as adult).
ADULT = "adult"


def requirements(requires_child_certificate: bool) -> frozenset[str]:
    """What a need asks of its helper, for the engine: the one home of the lektiecafé rule."""
    return frozenset({CHILD_CERTIFICATE, ADULT} if requires_child_certificate else ())


def held_by(profile: VolunteerProfile, on: date, ask_age: bool = True) -> frozenset[str]:
    """What the volunteer brings on ``on``: a child certificate while it is valid, and being an
    adult unless a MitID login said otherwise (asked only with ``ask_age``: for needs with
    children; other needs do not ask, and cost no query for it)."""
    held = {CHILD_CERTIFICATE} if profile.has_valid_child_certificate(on) else set()
    if not ask_age or oidc.age_assured(profile.user) is not False:
        held.add(ADULT)
    return frozenset(held)


def need_weekly(need: Need) -> matching.Weekly:
    return matching.Weekly(weekday=need.weekday, start=need.start_time, end=need.end_time)


def to_matching_need(need: Need, slots: int | None = None) -> matching.Need:
    return matching.Need(
        id=str(need.id),
        lat=need.lat,
        lon=need.lon,
        when=need_weekly(need),
        slots=need.slots if slots is None else slots,
        activity=need.activity_type.code,
        requires=requirements(need.requires_child_certificate),
        languages=frozenset(need.languages or ()),
    )


def to_matching_volunteer(
    profile: VolunteerProfile, on: date, capacity: int | None = None, ask_age: bool = True
) -> matching.Volunteer:
    """The volunteer as the engine sees them on ``on`` (a certificate counts only while valid)."""
    return matching.Volunteer(
        id=str(profile.user_id),
        lat=profile.lat,
        lon=profile.lon,
        max_km=profile.max_km,
        availability=tuple(
            matching.Weekly(weekday=w.weekday, start=w.start_time, end=w.end_time)
            for w in profile.availability
        ),
        capacity=profile.weekly_capacity if capacity is None else capacity,
        interests=frozenset(a.code for a in profile.interests),
        languages=frozenset(profile.languages or ()),
        certificates=held_by(profile, on, ask_age),
        gender=profile.gender,
    )


def reasons_not_eligible(user: User, need: Need, now: datetime) -> tuple[str, ...]:
    """Why ``user`` cannot sign up for ``need`` now; empty when they can.

    Codes: not_volunteer, not_open, finished, email_unconfirmed, paused, too_far, not_free,
    certificate_missing, under_18 (the lektiecafé rule), language, clash, over_capacity. A full
    need is not a reason: the volunteer joins the waiting list.
    """
    if user.role != Role.VOLUNTEER or user.profile is None:
        return ("not_volunteer",)
    if need.private or need.status not in (NeedStatus.OPEN, NeedStatus.FILLED):
        return ("not_open",)
    if not bookings.has_dates_ahead(need.id, now):
        return ("finished",)
    profile = user.profile
    today = local_today(now)
    reasons: list[str] = []
    if not user.identity_confirmed:
        reasons.append("email_unconfirmed")
    if profile.paused_until is not None and profile.paused_until >= today:
        reasons.append("paused")
    wanted = to_matching_need(need)
    volunteer = to_matching_volunteer(profile, today, ask_age=ADULT in wanted.requires)
    for code in matching.explain_infeasible(volunteer, wanted):
        if code != "certificate_missing":
            reasons.append(code)
            continue
        missing = wanted.requires - volunteer.certificates
        if CHILD_CERTIFICATE in missing:
            reasons.append("certificate_missing")
        if ADULT in missing:
            reasons.append("under_18")
    busy = bookings.conflict_for(user, need, now)
    if busy is not None:
        reasons.append(busy)
    return tuple(reasons)


@dataclass(frozen=True)
class _Candidate:
    """What the suggestions need of a candidate need (the attributes ``bookings.slot_of``
    reads, plus the engine's inputs): read as plain rows, not ORM objects, since a volunteer
    within reach of a big municipality has hundreds of candidates and sees five."""

    id: int
    title: str
    weekday: int
    start_time: time
    end_time: time
    first_date: date
    last_date: date | None
    lat: float
    lon: float
    activity: str
    requires_child_certificate: bool
    languages: list[str] | None

    def to_matching(self) -> matching.Need:
        """``to_matching_need`` with one slot, for this row."""
        return matching.Need(
            id=str(self.id),
            lat=self.lat,
            lon=self.lon,
            when=matching.Weekly(weekday=self.weekday, start=self.start_time, end=self.end_time),
            slots=1,
            activity=self.activity,
            requires=requirements(self.requires_child_certificate),
            languages=frozenset(self.languages or ()),
        )


# The engine is deterministic (the same input gives the same output), so its answer for one
# volunteer is kept per exact input: a change to the profile, the availability, a need or its
# free places changes the input and so asks the engine again. Bounded, per process.
_SOLVED: OrderedDict[tuple[Any, ...], tuple[matching.Match, ...]] = OrderedDict()
_SOLVED_MAX = 1024


def _solve_one(
    volunteer: matching.Volunteer, needs: tuple[matching.Need, ...], config: matching.MatchConfig
) -> tuple[matching.Match, ...]:
    key = (volunteer, needs, config)
    hit = _SOLVED.get(key)
    if hit is not None:
        _SOLVED.move_to_end(key)
        return hit
    matches = tuple(matching.solve([volunteer], needs, config=config).matches)
    _SOLVED[key] = matches
    if len(_SOLVED) > _SOLVED_MAX:
        _SOLVED.popitem(last=False)
    return matches


def suggestions(user: User, now: datetime, limit: int = 5) -> list[tuple[Need, matching.Match]]:
    """Open needs the volunteer could take now, best first, each with the engine's reasons.

    The engine picks the best set for this one volunteer (no two at clashing times), among
    needs with a free place, within reach and on a day they are free, that they have not
    already been offered or declined.
    """
    profile = user.profile
    if user.role != Role.VOLUNTEER or profile is None or not profile.availability:
        return []
    today = local_today(now)
    if profile.paused_until is not None and profile.paused_until >= today:
        return []
    dlat = profile.max_km / 111.0 + 0.01
    dlon = profile.max_km / (111.0 * math.cos(math.radians(profile.lat))) + 0.01
    mine = select(Assignment.need_id).where(Assignment.volunteer_id == user.id)
    # Plain rows in the session's transaction, without the ORM's per-row work.
    rows = (
        db.session.connection()
        .execute(
            select(
                Need.id,
                Need.title,
                Need.weekday,
                Need.start_time,
                Need.end_time,
                Need.first_date,
                Need.last_date,
                Need.lat,
                Need.lon,
                ActivityType.code,
                Need.requires_child_certificate,
                Need.languages,
            )
            .join(ActivityType, ActivityType.id == Need.activity_type_id)
            .where(
                bookings.bookable_sql(now),
                Need.weekday.in_({w.weekday for w in profile.availability}),
                Need.lat.between(profile.lat - dlat, profile.lat + dlat),
                Need.lon.between(profile.lon - dlon, profile.lon + dlon),
                Need.id.not_in(mine),
                bookings.free_sql() > 0,
            )
            .order_by(Need.id)
        )
        .all()
    )
    candidates = [_Candidate(*row) for row in rows]
    # Nothing at the same time as what they have taken on, nor past their weekly capacity.
    busy = bookings.commitments([user.id], today)[user.id]
    slots = {c.id: bookings.slot_of(c, today) for c in candidates}  # type: ignore[arg-type]
    candidates = [
        c
        for c in candidates
        if (slot := slots[c.id]) is not None
        and bookings.conflict(slot, busy, profile.weekly_capacity) is None
    ]
    if not candidates:
        return []
    matches = _solve_one(
        to_matching_volunteer(
            profile,
            today,
            capacity=limit,
            ask_age=any(c.requires_child_certificate for c in candidates),
        ),
        tuple(c.to_matching() for c in candidates),
        matching.MatchConfig(time_limit_s=2.0),
    )
    chosen = [int(m.need_id) for m in matches]
    by_id = {
        n.id: n
        for n in db.session.scalars(
            select(Need)
            .where(Need.id.in_(chosen))
            .options(selectinload(Need.activity_type), selectinload(Need.centre))
        )
    }
    ranked = sorted(matches, key=lambda m: (m.km, m.need_id))
    return [(by_id[int(m.need_id)], m) for m in ranked]
