"""Volunteers for a waiting person: the person and the weekly time as a ``matching.Need``, the
organisation's available volunteers as ``matching.Volunteer`` (as the matching runs see them),
ranked by the engine (``matching.rank_volunteers``) with its reasons.

The rules: free at the time, within the volunteer's reach, a language the person speaks, and
the booking rules on top (no clash with what the volunteer has taken on, not over their weekly
capacity), so a volunteer's active forløb stays as it is. A volunteer who said no to this
person, or whose forløb with them ended, is not proposed again. The person's own wish about
the volunteer's gender (``Person.wish_gender``) goes to the engine: a rule only where the person
asked for it (``wish_required``: then only volunteers who declared that gender are proposed),
otherwise a small bonus; the explanation names it. The free-text wish is shown beside the
candidates for the coordinator to weigh: only a person can read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

import matching
from volunteer import bookings
from volunteer.auth.models import User
from volunteer.clock import local_today
from volunteer.coordination.proposals import eligible_profiles
from volunteer.extensions import db
from volunteer.needs.eligibility import to_matching_volunteer
from volunteer.pairs.models import Forloeb
from volunteer.pairs.services import Pattern
from volunteer.persons.models import Person

LIMIT = 5


@dataclass(frozen=True)
class Candidate:
    volunteer: User
    km: float
    # The engine's reasons as [code, params] pairs, for ``match_reasons`` and the forløb.
    explanation: list[list[object]]


def person_need(person: Person, pattern: Pattern) -> matching.Need:
    """The person as the engine sees them for a forløb at ``pattern``."""
    return matching.Need(
        id=f"person-{person.id}",
        lat=person.lat,
        lon=person.lon,
        when=matching.Weekly(pattern.weekday, pattern.start_time, pattern.end_time),
        slots=1,
        activity=person.activity_types[0].code if person.activity_types else "",
        languages=frozenset(person.languages or ()),
        wish_gender=person.wish_gender,
        wish_required=person.wish_required and bool(person.wish_gender),
    )


def default_pattern(person: Person, now: datetime) -> Pattern | None:
    """The person's first window that suits them, from the next such weekday."""
    if not person.windows:
        return None
    window = person.windows[0]
    today = local_today(now)
    start = today + timedelta(days=(window.weekday - today.weekday()) % 7)
    return Pattern(window.weekday, window.start_time, window.end_time, start)


def candidates(person: Person, pattern: Pattern, now: datetime) -> list[Candidate]:
    """The best volunteers for the person at ``pattern``, best first, with the reasons."""
    today = local_today(now)
    before = set(
        db.session.scalars(select(Forloeb.volunteer_id).where(Forloeb.person_id == person.id))
    )
    profiles = [
        p for p in eligible_profiles(person.organisation_id, today) if p.user_id not in before
    ]
    need = person_need(person, pattern)
    ranked = matching.rank_volunteers(
        [to_matching_volunteer(p, today) for p in profiles], need, limit=len(profiles) or 1
    )
    by_id = {str(p.user_id): p for p in profiles}
    busy = bookings.commitments([p.user_id for p in profiles], today)
    slot = bookings.Slot(
        0, "", pattern.weekday, pattern.start_time, pattern.end_time, pattern.start_date, None
    )
    found: list[Candidate] = []
    for match in ranked:
        profile = by_id[match.volunteer_id]
        if bookings.conflict(slot, busy[profile.user_id], profile.weekly_capacity):
            continue
        found.append(
            Candidate(
                profile.user,
                match.km,
                [[code, params] for code, params in match.reason_codes],
            )
        )
        if len(found) == LIMIT:
            break
    return found
