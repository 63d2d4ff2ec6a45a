"""A year of plausible history for the demo world, so the reports, the charts and the committee
page have something to show the moment ``make run`` starts.

Called by ``demo.seed`` once the present-day world exists. Deterministic: its own generator
(``random.Random(f"{SEED}-history")``, so the rest of the world is unchanged by it) and every
instant worked out from ``today`` in Copenhagen wall-clock time, so two seeds on the same day
give the same figures.

What it makes, over the last ``HISTORY_DAYS``:

- volunteers signed up over the last year and a half (``created_at``), Karen among the first;
- most weekly needs opened months ago (``opened_at``, ``first_date``), the filled ones filled a
  few weeks later;
- for every accepted volunteer, a visit at each past weekly occurrence since they started, and a
  few more volunteers who helped for a season and stopped (``ended`` assignments): mostly
  confirmed with the hours given, about 6 % no-shows and 8 % cancelled with a reason, a week
  off now and then; the last week's visits are still waiting for the centre's answer;
- Saturday Green Team clean-ups in the past, each with a handful of confirmed helpers.

The states are written directly, as the rest of the seed does: this is history, not a booking.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from volunteer import geo
from volunteer.auth.models import User
from volunteer.catalogue.models import ActivityType, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_to_utc
from volunteer.coordination.models import Assignment, AssignmentSource, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Occurrence, Schedule

HISTORY_DAYS = 365
UNANSWERED_DAYS = 7  # the centre has not yet said how the last week's visits went
NO_SHOW = 0.06
CANCELLED = 0.08
WEEK_OFF = 0.05
ENDED_ASSIGNMENTS = 16
CANCEL_REASONS = [
    "Syg",
    "Forkølet, vil ikke smitte",
    "Bortrejst",
    "Barnebarnets fødselsdag",
    "Bilen ville ikke starte",
    "Beboeren havde besøg af familien",
]
CLEAN_UPS = [
    ("Affaldsindsamling ved Juelsminde Strand", "7130"),
    ("Green Team i Hedensted Plantage", "8722"),
    ("Strandrensning ved Stouby", "7140"),
    ("Green Team langs Gudenåen", "7160"),
    ("Affaldsindsamling i Hornsyld", "8783"),
    ("Green Team ved Uldum Kær", "7171"),
]


def seed_history(
    seed: int, today: date, needs: list[Need], people: list[User], lokalraad: Organisation
) -> None:
    """Add the past to a freshly seeded demo world (``needs`` and ``people`` as created). Does
    not commit."""
    rng = random.Random(f"{seed}-history")
    start = today - timedelta(days=HISTORY_DAYS)
    for index, person in enumerate(people):
        days_ago = 480 if index == 0 else rng.randint(0, 540)
        joined = _at(today - timedelta(days=days_ago), rng.randint(8, 21), rng.choice([0, 30]))
        person.created_at = joined
        if person.profile is not None:
            person.profile.created_at = joined

    weekly = [n for n in needs if n.schedule == Schedule.WEEKLY and n.status != NeedStatus.DRAFT]
    began: dict[int, date] = {}
    for need in weekly:
        if rng.random() < 0.8:  # most began during the year, more of them early on
            later = int(rng.triangular(0, 270, 0))
            first = _on_weekday(start + timedelta(days=later), need.weekday)
        else:
            first = need.first_date
        need.first_date = first
        began[need.id] = first
        need.opened_at = _at(first - timedelta(days=rng.randint(7, 21)), 10)
        if need.status == NeedStatus.FILLED:
            need.filled_at = _at(first - timedelta(days=rng.randint(0, 5)), 14)
        else:
            need.filled_at = None
    for need in needs:
        if need.schedule == Schedule.ONCE:
            need.opened_at = _at(today - timedelta(days=rng.randint(3, 30)), 10)

    occurrences: dict[tuple[int, date], Occurrence] = {}

    def occurrence(need: Need, day: date) -> Occurrence:
        key = (need.id, day)
        if key not in occurrences:
            occurrences[key] = Occurrence(
                need=need,
                starts_at=local_to_utc(day, need.start_time),
                ends_at=local_to_utc(day, need.end_time),
            )
            db.session.add(occurrences[key])
        return occurrences[key]

    def visits(assignment: Assignment, need: Need, first: date, last: date) -> None:
        day = _on_weekday(first, need.weekday)
        while day <= last:
            if rng.random() >= WEEK_OFF:
                db.session.add(_visit(rng, occurrence(need, day), assignment, need, today))
            day += timedelta(days=7)

    yesterday = today - timedelta(days=1)
    accepted = db.session.scalars(
        select(Assignment).where(Assignment.state == AssignmentState.ACCEPTED)
    ).all()
    taken = {(a.need_id, a.volunteer_id) for a in accepted}
    for assignment in sorted(accepted, key=lambda a: a.id):
        need = assignment.need
        first = max(began.get(need.id, need.first_date), start)
        assignment.created_at = _at(first - timedelta(days=rng.randint(3, 10)), 11)
        assignment.responded_at = assignment.created_at + timedelta(hours=rng.randint(2, 48))
        visits(assignment, need, first, yesterday)

    # Volunteers who helped for a season and stopped.
    ended = 0
    while ended < ENDED_ASSIGNMENTS and weekly and len(people) > 1:
        need = rng.choice(weekly)
        volunteer = rng.choice(people[1:])
        if (need.id, volunteer.id) in taken:
            continue
        taken.add((need.id, volunteer.id))
        first = max(began[need.id], start) + timedelta(days=rng.randint(0, 120))
        last = min(first + timedelta(days=rng.randint(42, 150)), yesterday - timedelta(days=21))
        if last <= first:
            continue
        assignment = Assignment(
            need=need,
            volunteer=volunteer,
            state=AssignmentState.ENDED,
            source=AssignmentSource.MANUAL,
            created_at=_at(first - timedelta(days=7), 11),
            responded_at=_at(first - timedelta(days=6), 9),
            ended_at=_at(last + timedelta(days=2), 16),
        )
        db.session.add(assignment)
        visits(assignment, need, first, last)
        ended += 1

    _clean_ups(rng, today, people, lokalraad)


def _clean_ups(
    rng: random.Random,
    today: date,
    people: list[User],
    lokalraad: Organisation,
) -> None:
    """Past Saturday clean-ups, one every other month, each with 4–9 helpers who came."""
    green = db.session.scalar(select(ActivityType).where(ActivityType.code == "green-team"))
    if green is None or len(people) < 10:
        return
    for number, (title, code) in enumerate(CLEAN_UPS):
        day = today - timedelta(days=30 + 55 * number)
        day -= timedelta(days=(day.weekday() - 5) % 7)  # the Saturday before
        place = geo.lookup(code)
        assert place is not None, code
        need = Need(
            organisation=lokalraad,
            activity_type=green,
            title=title,
            description="Vi mødtes kl. 10, fik handsker og poser, og sluttede med en sandwich.",
            postcode=place.code,
            town=place.town,
            lat=place.lat,
            lon=place.lon,
            schedule=Schedule.ONCE,
            weekday=day.weekday(),
            start_time=time(10),
            end_time=time(13),
            first_date=day,
            last_date=day,
            slots=rng.randint(6, 12),
            status=NeedStatus.CLOSED,
            opened_at=_at(day - timedelta(days=rng.randint(14, 28)), 10),
        )
        db.session.add(need)
        happened = Occurrence(
            need=need, starts_at=local_to_utc(day, time(10)), ends_at=local_to_utc(day, time(13))
        )
        db.session.add(happened)
        helpers = rng.sample(people[1:], rng.randint(4, min(9, need.slots)))
        need.filled_at = need.opened_at + timedelta(days=rng.randint(3, 10))
        for helper in helpers:
            assignment = Assignment(
                need=need,
                volunteer=helper,
                state=AssignmentState.ENDED,
                source=AssignmentSource.MANUAL,
                created_at=need.opened_at + timedelta(days=1),
                responded_at=need.opened_at + timedelta(days=1),
                ended_at=local_to_utc(day, time(13)),
            )
            db.session.add(assignment)
            db.session.add(
                Visit(
                    occurrence=happened,
                    volunteer=helper,
                    assignment=assignment,
                    state=VisitState.CONFIRMED,
                    hours=3.0,
                    confirmed_at=local_to_utc(day + timedelta(days=1), time(9)),
                    created_at=assignment.created_at,
                )
            )


def _visit(
    rng: random.Random, occurrence: Occurrence, assignment: Assignment, need: Need, today: date
) -> Visit:
    """A past visit, made in the state the centre recorded (a new row, not a move: the state
    machine in ``bookings.visits`` changes visits that exist)."""
    fields: dict[str, Any] = {}
    if occurrence.starts_at >= local_to_utc(today - timedelta(days=UNANSWERED_DAYS), time(0)):
        state = VisitState.SCHEDULED  # the last days: not answered by the centre yet
    else:
        roll = rng.random()
        if roll < NO_SHOW:
            state = VisitState.NO_SHOW
        elif roll < NO_SHOW + CANCELLED:
            state = VisitState.CANCELLED
            fields["cancel_reason"] = rng.choice(CANCEL_REASONS)
        else:
            state = VisitState.CONFIRMED
            planned = (occurrence.ends_at - occurrence.starts_at).total_seconds() / 3600
            fields["hours"] = max(0.5, planned + rng.choice([0, 0, 0, 0, 0.5, -0.5]))
        if state != VisitState.CANCELLED:
            fields["confirmed_at"] = occurrence.ends_at + timedelta(hours=rng.randint(1, 40))
    return Visit(
        occurrence=occurrence,
        volunteer=assignment.volunteer,
        assignment=assignment,
        created_at=assignment.created_at,
        state=state,
        **fields,
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(day, time(hour, minute))


def _on_weekday(day: date, weekday: int) -> date:
    """The first ``weekday`` on or after ``day``."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)
