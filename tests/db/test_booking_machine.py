"""The core promise under random use: a stateful property test of the booking rules.

Hypothesis drives random sequences of what volunteers and coordinators do — sign-up, matching
runs and approval, swaps, invitation accept/decline, the expiry job and the waiting list,
editing a need's places and times, away periods, withdrawal and cancelled visits — through the
same service functions the pages call, on a small fixed world. A refusal is a fine answer; any
other exception fails. After every step the invariants below are read back from the database:

- no volunteer holds two commitments (accepted or invited) that meet at the same date and time,
  and no volunteer has two scheduled visits at overlapping times;
- accepted ≤ places for every need, and held (accepted + invited) ≤ places — except that a
  coordinator may lower places below the open invitations, and then the held count never grows
  until it is back within the places;
- nobody holds more activities in one calendar week than their weekly capacity;
- free places are the same figure on every page and report that shows them: ``free_places``,
  ``free_sql`` (lists), the need card, the coordinator's need page, the committee report's
  waiting needs and the coordinators' digest (these two list exactly the needs a volunteer can
  still take: open, a date ahead, a place free);
- an open need is filled exactly when it has no free place;
- every state change seen between two steps is one the state table allows.

The checks compute dates and weeks on their own, from the needs' schedules, rather than
calling ``bookings.clashes``, so they test the rule instead of restating it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations

import hypothesis.strategies as st
from flask import current_app
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from support import factories
from volunteer import bookings
from volunteer.clock import local_today
from volunteer.coordination import proposals, runs
from volunteer.coordination.models import TRANSITIONS
from volunteer.extensions import db
from volunteer.jobs.digests import coordinator_digest
from volunteer.jobs.invitations import expire_invitations
from volunteer.models import (
    Assignment,
    AssignmentState,
    NeedStatus,
    Occurrence,
    OccurrenceStatus,
    OutboxMessage,
    Role,
    Schedule,
    User,
    Visit,
)
from volunteer.needs import manage, signup
from volunteer.needs.models import Need
from volunteer.needs.services import cards_for, open_needs_query, sync_occurrences
from volunteer.reports.services import Scope, waiting_needs
from volunteer.volunteers import services as volunteers
from volunteer.volunteers.models import AvailabilityWindow

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday, 10.00 in Copenhagen
LAST = START + timedelta(days=6)  # the clock moves on at most this far
TUESDAY, THURSDAY = 1, 3
HELD = (AssignmentState.ACCEPTED, AssignmentState.INVITED)
CAPACITIES = (1, 2, 3, 2)
# (title, schedule, weekday, date, start, end, places): Thursday evenings that overlap, a
# Tuesday morning, a one-off on a Thursday evening and a one-off Monday afternoon that the
# clock can move past.
NEEDS = (
    ("Bakkegården", Schedule.WEEKLY, THURSDAY, date(2026, 11, 26), (17, 30), (19, 0), 2),
    ("Solvang", Schedule.WEEKLY, THURSDAY, date(2026, 11, 26), (18, 0), (19, 30), 1),
    ("Lindehøj", Schedule.WEEKLY, TUESDAY, date(2026, 11, 24), (10, 0), (12, 0), 1),
    ("Julefrokost", Schedule.ONCE, THURSDAY, date(2026, 12, 3), (17, 0), (18, 0), 2),
    ("Udflugt", Schedule.ONCE, 0, date(2026, 11, 30), (14, 0), (16, 0), 1),
)
TIMES = (
    (time(17, 30), time(19)),
    (time(18), time(19, 30)),
    (time(10), time(12)),
    (time(17), time(18)),
)
ONE_OFF_DATES = (date(2026, 11, 30), date(2026, 12, 3), date(2026, 12, 8))
HORIZON_DAYS = 10 * 7  # far enough that the weekly pattern has repeated
# What a page shows when a service says no: these are answers, not failures.
REFUSALS = (
    bookings.Refused,
    signup.NotEligible,
    signup.AlreadySignedUp,
    signup.InvitationClosed,
    manage.NeedError,
    volunteers.NotAllowed,
    volunteers.DateInPast,
)
# Examples per backend; raise it for a longer hunt (SAMSKAB_MACHINE_EXAMPLES=500).
EXAMPLES = int(os.environ.get("SAMSKAB_MACHINE_EXAMPLES", "20"))
DIGEST_LINE = re.compile(r"^  (?P<title>.+) \((?P<free>\d+) ")


def _wipe() -> None:
    """Empty every table (a fresh world per example, far cheaper than a new schema; a DELETE
    per table, children first, is ten times quicker than TRUNCATE on tables this small)."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def _dates(need: Need, today: date) -> list[date]:
    """The need's dates from today on, on its own weekday grid (holidays included, as the
    booking rule counts them)."""
    if need.schedule == Schedule.ONCE:
        return [need.first_date] if need.first_date >= today else []
    day = max(need.first_date, today)
    last = min(need.last_date or date.max, today + timedelta(days=HORIZON_DAYS))
    found = []
    while day <= last:
        if day.weekday() == need.weekday:
            found.append(day)
        day += timedelta(days=1)
    return found


def _meetings(need: Need, today: date) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.combine(day, need.start_time), datetime.combine(day, need.end_time))
        for day in _dates(need, today)
    ]


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _reachable(before: str, after: str) -> bool:
    """One or two moves of the state table (one service call may move a row twice, e.g.
    signing up again after leaving, then straight on)."""
    first = TRANSITIONS[AssignmentState(before)]
    return after in first or any(after in TRANSITIONS[step] for step in first)


class BookingMachine(RuleBasedStateMachine):
    """One world per example; the machine keeps ids only and loads rows afresh each step, as
    each request of the app does."""

    def __init__(self) -> None:
        super().__init__()
        _wipe()
        self.now = START
        org = factories.organisation("Hedensted Kommune")
        activity = factories.activity_type("spisevenner")
        self.org_id = org.id
        self.coordinator_id = factories.user(
            role=Role.COORDINATOR, organisations=[org], name="Karen Koordinator"
        ).id
        self.volunteer_ids = []
        for capacity in CAPACITIES:
            user = factories.user()
            user.profile.availability = [
                AvailabilityWindow(weekday=day, start_time=time(8), end_time=time(22))
                for day in range(7)
            ]
            user.profile.weekly_capacity = capacity
            user.profile.max_km = 30
            user.profile.organisations.append(org)
            db.session.commit()
            self.volunteer_ids.append(user.id)
        self.need_ids = []
        for title, schedule, weekday, first, start, end, places in NEEDS:
            need = factories.need(
                org,
                activity,
                title=title,
                schedule=schedule,
                weekday=weekday,
                first_date=first,
                last_date=first if schedule == Schedule.ONCE else None,
                start_time=time(*start),
                end_time=time(*end),
                slots=places,
                opened_at=START - timedelta(days=3),
            )
            sync_occurrences(need, local_today(START))
            db.session.commit()
            self.need_ids.append(need.id)
        # Needs whose places were lowered below the places held: the held count allowed.
        self.overheld: dict[int, int] = {}
        self.states: dict[int, str] = {}
        self.steps: list[str] = []
        self._seen = self._counted = -1
        self._counts: dict[str, int] = {}
        self._snap: tuple[dict[int, Need], list[Assignment]] = ({}, [])
        self._free: dict[int, int] = {}  # bookings.free_places of each need, this step
        db.session.remove()

    # Helpers

    def _user(self, index: int) -> User:
        return db.session.get(User, self.volunteer_ids[index])

    def _index(self, volunteer_id: int) -> int:
        return self.volunteer_ids.index(volunteer_id)

    def _coordinator(self) -> User:
        return db.session.get(User, self.coordinator_id)

    def _need(self, index: int) -> Need:
        return db.session.get(Need, self.need_ids[index])

    def _assignments(self, **where: object) -> list[Assignment]:
        query = select(Assignment).order_by(Assignment.id)
        for name, value in where.items():
            column = getattr(Assignment, name)
            query = query.where(column.in_(value) if isinstance(value, tuple) else column == value)
        return list(db.session.scalars(query))

    def _exists(self, *states: str) -> bool:
        """Whether some assignment is in one of ``states`` (steers the rules that need one);
        counted once per step."""
        if self._counted != len(self.steps):
            db.session.remove()
            self._counts = dict(
                db.session.execute(
                    select(Assignment.state, func.count()).group_by(Assignment.state)
                ).all()
            )
            self._counted = len(self.steps)
            db.session.remove()
        return any(self._counts.get(state) for state in states)

    def _call(self, what: str, service, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Call a service as a request would: a refusal is an answer; the session ends after."""
        self.steps.append(what)
        try:
            return service(*args, **kwargs)
        except REFUSALS:
            return None
        finally:
            db.session.remove()

    # Rules: what volunteers do

    @rule(
        choices=st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=3, unique=True
        )
    )
    def sign_up(self, choices: list[tuple[int, int]]) -> None:
        """Volunteers sign up, one request each (a few at once, so bookings pile up)."""
        for volunteer, need in choices:
            self._call(
                f"sign_up(v{volunteer}, n{need})",
                signup.sign_up,
                self._user(volunteer),
                self.need_ids[need],
                self.now,
            )

    @precondition(lambda self: self._exists(AssignmentState.INVITED))
    @rule(pick=st.integers(0, 5), accept=st.booleans())
    def answer_invitation(self, pick: int, accept: bool) -> None:
        invited = self._assignments(state=AssignmentState.INVITED)
        row = invited[pick % len(invited)]
        service = signup.accept_invitation if accept else signup.decline_invitation
        self._call(
            f"{service.__name__}(v{self._index(row.volunteer_id)}, a{row.id})",
            service,
            row.volunteer,
            row.id,
            self.now,
        )

    @precondition(lambda self: self._exists(*HELD, AssignmentState.WAITLISTED))
    @rule(pick=st.integers(0, 9))
    def withdraw(self, pick: int) -> None:
        active = self._assignments(state=(*HELD, AssignmentState.WAITLISTED))
        row = active[pick % len(active)]
        self._call(
            f"withdraw(v{self._index(row.volunteer_id)}, a{row.id} {row.state})",
            volunteers.withdraw,
            row.volunteer,
            row.id,
            self.now,
        )

    @rule(
        volunteer=st.integers(0, 3),
        start=st.integers(0, 8),
        days=st.integers(0, 6),
        cancel=st.sampled_from(["none", "first", "all"]),
    )
    def away(self, volunteer: int, start: int, days: int, cancel: str) -> None:
        user = self._user(volunteer)
        first = local_today(self.now) + timedelta(days=start)
        added = self._call(
            f"away(v{volunteer}, {first}+{days}, cancel {cancel})",
            volunteers.add_away_period,
            user,
            first,
            first + timedelta(days=days),
            local_today(self.now),
        )
        if added is None or cancel == "none":
            return
        period_id, inside = added.period.id, [v.id for v in added.visits_inside]
        chosen = inside[:1] if cancel == "first" else inside
        self._call(
            "cancel_visits_while_away",
            volunteers.cancel_visits_while_away,
            self._user(volunteer),
            period_id,
            chosen,
            self.now,
        )

    @precondition(lambda self: self._exists(AssignmentState.ACCEPTED))
    @rule(pick=st.integers(0, 20))
    def cancel_visit(self, pick: int) -> None:
        visits = list(
            db.session.scalars(select(Visit).where(Visit.state == "scheduled").order_by(Visit.id))
        )
        if not visits:
            return
        visit = visits[pick % len(visits)]
        self._call(
            f"cancel_visit(v{self._index(visit.volunteer_id)}, visit {visit.id})",
            volunteers.cancel_visit,
            db.session.get(User, visit.volunteer_id),
            visit.id,
            "syg",
            self.now,
        )

    # Rules: what coordinators do

    @precondition(lambda self: not self._exists(AssignmentState.PROPOSED))
    @rule()
    def run_matching(self) -> None:
        self._call("run_matching", runs.run_now, self._coordinator(), self.org_id, self.now)

    @precondition(lambda self: self._exists(AssignmentState.PROPOSED))
    @rule(
        picks=st.lists(st.integers(0, 9), min_size=1, max_size=3),
        answers=st.lists(st.sampled_from([None, True, False]), max_size=3),
    )
    def approve(self, picks: list[int], answers: list[bool | None]) -> None:
        """The coordinator approves some proposals; some invitees answer straight away (yes,
        no, or not yet)."""
        proposed = self._assignments(state=AssignmentState.PROPOSED)
        ids = sorted({proposed[p % len(proposed)].id for p in picks})
        self._call(f"approve({ids})", proposals.approve, self._coordinator(), ids, self.now)
        for assignment_id, accept in zip(ids, answers, strict=False):
            row = db.session.get(Assignment, assignment_id)
            if accept is None or row is None or row.state != AssignmentState.INVITED:
                continue
            service = signup.accept_invitation if accept else signup.decline_invitation
            self._call(
                f"{service.__name__}(v{self._index(row.volunteer_id)}, a{row.id})",
                service,
                row.volunteer,
                row.id,
                self.now,
            )
        db.session.remove()

    @precondition(lambda self: self._exists(AssignmentState.PROPOSED))
    @rule(pick=st.integers(0, 9), volunteer=st.integers(0, 3))
    def swap(self, pick: int, volunteer: int) -> None:
        proposed = self._assignments(state=AssignmentState.PROPOSED)
        if not proposed:
            return
        row = proposed[pick % len(proposed)]
        self._call(
            f"swap(a{row.id} → v{volunteer})",
            proposals.swap,
            self._coordinator(),
            row.id,
            self.volunteer_ids[volunteer],
            self.now,
        )

    @rule(
        need=st.integers(0, 4),
        places=st.integers(1, 3),
        times=st.integers(0, len(TIMES) - 1),
        day=st.integers(0, 2),
    )
    def edit_need(self, need: int, places: int, times: int, day: int) -> None:
        row = self._need(need)
        start, end = TIMES[times]
        if row.schedule == Schedule.ONCE:
            first = ONE_OFF_DATES[day]
            weekday = first.weekday()
        else:
            first, weekday = row.first_date, (TUESDAY, THURSDAY, THURSDAY)[day]
        data = manage.NeedData(
            organisation_id=row.organisation_id,
            activity_type_id=row.activity_type_id,
            title=row.title,
            description=row.description,
            centre_id=None,
            postcode=row.postcode,
            address=None,
            local_area_id=None,
            schedule=row.schedule,
            weekday=weekday,
            first_date=first,
            last_date=first if row.schedule == Schedule.ONCE else row.last_date,
            start_time=start,
            end_time=end,
            skip_holidays=row.skip_holidays,
            slots=places,
            requires_child_certificate=False,
            languages=[],
        )
        need_id = row.id
        saved = self._call(
            f"edit(n{need}, places {places}, {first} wd{weekday} {start}-{end})",
            manage.update_need,
            self._coordinator(),
            row,
            data,
            self.now,
        )
        if saved is not None:
            held = bookings.held_count(need_id)
            if held > places:
                self.overheld[need_id] = held
            db.session.remove()

    # Rules: the clock and the jobs

    @rule(hours=st.sampled_from([3, 12, 25, 49, 73]))
    def time_passes(self, hours: int) -> None:
        if self.now + timedelta(hours=hours) > LAST:
            return
        self.now += timedelta(hours=hours)
        self._call(
            f"time_passes(+{hours}h), expire_invitations",
            expire_invitations,
            current_app._get_current_object(),  # type: ignore[attr-defined]
            self.now,
        )

    # Invariants, read back from the database after every step

    def _where(self) -> str:
        return " → ".join(self.steps[-8:])

    def _snapshot(self) -> tuple[dict[int, Need], list[Assignment]]:
        """Every need and assignment as the database has them now (loaded once per step; the
        rules end their sessions, so this is a fresh read)."""
        if self._seen != len(self.steps):
            db.session.remove()
            needs = {n.id: n for n in db.session.scalars(select(Need))}
            self._snap = (needs, self._assignments())
            self._free = {need_id: bookings.free_places(n) for need_id, n in needs.items()}
            self._seen = len(self.steps)
        return self._snap

    def _held_by(self, volunteer_id: int) -> list[tuple[Assignment, Need]]:
        needs, rows = self._snapshot()
        return [
            (a, needs[a.need_id])
            for a in rows
            if a.volunteer_id == volunteer_id and a.state in HELD
        ]

    @invariant()
    def nobody_is_booked_twice_at_one_time(self) -> None:
        today = local_today(self.now)
        for volunteer_id in self.volunteer_ids:
            held = self._held_by(volunteer_id)
            for (a, need_a), (b, need_b) in combinations(held, 2):
                for one in _meetings(need_a, today):
                    for other in _meetings(need_b, today):
                        assert not _overlap(one, other), (
                            f"volunteer {volunteer_id} holds {need_a.title} ({a.state}) and "
                            f"{need_b.title} ({b.state}), both at {one[0]}; after {self._where()}"
                        )
        visits = db.session.execute(
            select(Visit.volunteer_id, Occurrence.starts_at, Occurrence.ends_at, Occurrence.need_id)
            .join(Visit, Visit.occurrence_id == Occurrence.id)
            .where(
                Visit.state == "scheduled",
                Occurrence.status == OccurrenceStatus.SCHEDULED,
                Occurrence.starts_at > self.now,
            )
        ).all()
        for one, other in combinations(visits, 2):
            assert one[0] != other[0] or not _overlap(one[1:3], other[1:3]), (
                f"volunteer {one[0]} is expected at needs {one[3]} and {other[3]} "
                f"at {one[1]}; after {self._where()}"
            )

    @invariant()
    def no_need_has_more_people_than_places(self) -> None:
        needs, rows = self._snapshot()
        for need_id in self.need_ids:
            need = needs[need_id]
            accepted = sum(
                a.state == AssignmentState.ACCEPTED for a in rows if a.need_id == need_id
            )
            held = sum(a.state in HELD for a in rows if a.need_id == need_id)
            assert accepted <= need.slots, (
                f"{need.title}: {accepted} accepted for {need.slots} places; after {self._where()}"
            )
            if held <= need.slots:
                self.overheld.pop(need_id, None)
            else:
                allowed = self.overheld.get(need_id, need.slots)
                assert held <= allowed, (
                    f"{need.title}: {held} places held for {need.slots} places (at most "
                    f"{allowed} after places were lowered); after {self._where()}"
                )
                self.overheld[need_id] = held

    @invariant()
    def weekly_capacity_is_respected(self) -> None:
        today = local_today(self.now)
        for volunteer_id, capacity in zip(self.volunteer_ids, CAPACITIES, strict=True):
            weeks: dict[tuple[int, int], set[str]] = {}
            for _a, need in self._held_by(volunteer_id):
                for day in _dates(need, today):
                    weeks.setdefault(day.isocalendar()[:2], set()).add(need.title)
            for week, titles in weeks.items():
                assert len(titles) <= capacity, (
                    f"volunteer {volunteer_id} (at most {capacity} a week) holds "
                    f"{sorted(titles)} in week {week}; after {self._where()}"
                )

    @invariant()
    def free_places_are_one_figure_everywhere(self) -> None:
        by_id, _rows = self._snapshot()
        needs = [by_id[need_id] for need_id in self.need_ids]
        report = {w.need.id: w.free_slots for w in waiting_needs(Scope(None), self.now)}
        cards = {c.need.id: c.open_slots for c in cards_for(needs, self.now)}
        sql = dict(
            db.session.execute(
                select(Need.id, bookings.free_sql()).where(Need.id.in_(self.need_ids))
            ).all()
        )
        bookable = {n.id for n in db.session.scalars(open_needs_query(self.now)).unique()}
        # The digest renders an email: every third step is enough to keep the test quick.
        digest = self._digest() if len(self.steps) % 3 == 0 else None
        for need in needs:
            free = self._free[need.id]
            people = manage.people_for(need)
            shown = {
                "free_sql": max(0, sql[need.id]),
                "card": cards[need.id],
                "need page": bookings.free_of(need.slots, people.held),
            }
            assert all(figure == free for figure in shown.values()), (
                f"{need.title}: free_places {free} but {shown}; after {self._where()}"
            )
            # Reports list what volunteers can still take: open, a date ahead, a place free.
            waiting = free if need.id in bookable else 0
            listed = {"report": report}
            if digest is not None:
                listed["digest"] = digest
            for where, figures in listed.items():
                key = need.title if where == "digest" else need.id
                assert figures.get(key, 0) == waiting and (key in figures) == (waiting > 0), (
                    f"{need.title} ({need.status}, bookable: {need.id in bookable}, "
                    f"{free} free) in the {where} as {figures.get(key)}; after {self._where()}"
                )

    def _digest(self) -> dict[str, int]:
        """The free places the coordinators' digest shows, by need title."""
        digest_key = OutboxMessage.dedup_key.startswith("coordinator-digest:")
        db.session.execute(OutboxMessage.__table__.delete().where(digest_key))
        db.session.commit()
        coordinator_digest(current_app._get_current_object(), self.now)  # type: ignore[attr-defined]
        bodies = db.session.scalars(select(OutboxMessage.body_text).where(digest_key)).all()
        found: dict[str, int] = {}
        for body in bodies:
            for line in body.splitlines():
                match = DIGEST_LINE.match(line)
                if match:
                    found[match["title"]] = int(match["free"])
        return found

    @invariant()
    def a_need_is_filled_exactly_when_no_place_is_free(self) -> None:
        by_id, _rows = self._snapshot()
        listed = {n.id for n in db.session.scalars(open_needs_query(self.now)).unique()}
        for need_id in self.need_ids:
            need = by_id[need_id]
            free = self._free[need_id]
            if need.status in (NeedStatus.OPEN, NeedStatus.FILLED):
                expected = NeedStatus.FILLED if free == 0 else NeedStatus.OPEN
                assert need.status == expected, (
                    f"{need.title} is {need.status} with {free} free; after {self._where()}"
                )
            ahead = bookings.has_dates_ahead(need_id, self.now)
            assert (need_id in listed) == (need.status == NeedStatus.OPEN and ahead), (
                need.title,
                need.status,
                ahead,
            )

    @invariant()
    def every_state_change_is_in_the_state_table(self) -> None:
        _needs, rows = self._snapshot()
        now_states = {a.id: a.state for a in rows}
        for row_id, state in now_states.items():
            before = self.states.get(row_id)
            if before is not None and before != state:
                assert _reachable(before, state), (
                    f"assignment {row_id} went {before} → {state}; after {self._where()}"
                )
        self.states = now_states


SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def test_random_use_keeps_the_booking_promise(app) -> None:
    run_state_machine_as_test(BookingMachine, settings=SETTINGS)
