"""Sign-up never overbooks: slot check and insert under a lock, a waiting list in order."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

import factories
from support import make_app
from volunteer.extensions import db
from volunteer.models import Assignment, NeedStatus, OutboxMessage, Role, Visit
from volunteer.needs import signup
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers.models import AvailabilityWindow

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _volunteer(**fields):
    user = factories.user(**fields)
    user.profile.availability = [
        AvailabilityWindow(weekday=3, start_time=time(16), end_time=time(21))
    ]
    db.session.commit()
    return user


@pytest.fixture
def need(app):
    org, activity = factories.organisation(), factories.activity_type("spisevenner")
    n = factories.need(org, activity, slots=2, first_date=date(2026, 11, 26))
    sync_occurrences(n, NOW.date(), weeks=4)
    db.session.commit()
    return n


def _states(need):
    return list(
        db.session.scalars(
            select(Assignment.state)
            .where(Assignment.need_id == need.id)
            .order_by(Assignment.created_at, Assignment.id)
        )
    )


def test_sign_up_accepts_until_full_then_waitlists_in_order(need):
    people = [_volunteer() for _ in range(4)]
    results = [signup.sign_up(p, need.id, NOW + timedelta(seconds=i)) for i, p in enumerate(people)]
    assert [r.waitlisted for r in results] == [False, False, True, True]
    assert [r.position for r in results] == [None, None, 1, 2]
    db.session.refresh(need)
    assert need.status == NeedStatus.FILLED and need.filled_at is not None
    # Accepted volunteers are expected at every coming date.
    visits = db.session.scalars(select(Visit).where(Visit.volunteer_id == people[0].id)).all()
    assert len(visits) == 4 and all(v.state == "scheduled" for v in visits)


def test_the_waiting_list_follows_the_order_of_sign_up_not_the_clock(need):
    """A request's time is read before it waits for the need's lock, and web nodes' clocks
    differ: a sign-up that commits later may carry an earlier time. Its place in line is still
    after everyone who committed before it."""
    people = [_volunteer() for _ in range(5)]
    # Each later sign-up carries an earlier time than the one before it.
    results = [signup.sign_up(p, need.id, NOW - timedelta(seconds=i)) for i, p in enumerate(people)]
    assert [r.position for r in results] == [None, None, 1, 2, 3]
    numbers = db.session.scalars(
        select(Assignment.queue_number)
        .where(Assignment.need_id == need.id)
        .order_by(Assignment.volunteer_id)
    ).all()
    assert numbers == [1, 2, 3, 4, 5]
    # The first accepted volunteer leaves: the slot goes to the first in line, not the one
    # with the earliest time.
    first = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == people[0].id))
    first.state = "withdrawn"
    offered = signup.offer_next(need, NOW + timedelta(hours=1))
    db.session.commit()
    assert offered.volunteer_id == people[2].id
    waiting = db.session.scalars(
        select(Assignment).where(Assignment.need_id == need.id, Assignment.state == "waitlisted")
    ).all()
    assert sorted(signup.waitlist_position(a) for a in waiting) == [1, 2]
    assert {a.volunteer_id: signup.waitlist_position(a) for a in waiting} == {
        people[3].id: 1,
        people[4].id: 2,
    }


def test_signing_up_again_after_leaving_goes_to_the_back_of_the_line(need):
    people = [_volunteer() for _ in range(4)]
    for i, person in enumerate(people):
        signup.sign_up(person, need.id, NOW + timedelta(seconds=i))
    third = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == people[2].id))
    third.state = "withdrawn"
    db.session.commit()
    again = signup.sign_up(people[2], need.id, NOW + timedelta(minutes=1))
    assert again.waitlisted and again.position == 2
    assert again.assignment.queue_number == 5


def test_signing_up_twice_is_refused_and_changes_nothing(need):
    volunteer = _volunteer()
    signup.sign_up(volunteer, need.id, NOW)
    with pytest.raises(signup.AlreadySignedUp):
        signup.sign_up(volunteer, need.id, NOW)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda v: setattr(v.profile, "max_km", 1), "too_far"),
        (lambda v: setattr(v.profile, "availability", []), "not_free"),
        (lambda v: setattr(v.profile, "paused_until", date(2026, 12, 31)), "paused"),
    ],
)
def test_ineligible_volunteers_are_told_why(need, setup, reason):
    volunteer = _volunteer(postcode="8722")  # Hedensted, ~19 km from Juelsminde
    volunteer.profile.max_km = 25
    setup(volunteer)
    db.session.commit()
    with pytest.raises(signup.NotEligible) as caught:
        signup.sign_up(volunteer, need.id, NOW)
    assert reason in caught.value.reasons
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_child_certificate_must_be_valid_on_the_day(app):
    org, activity = factories.organisation(), factories.activity_type("lektiecafe", child=True)
    need = factories.need(org, activity, requires_child_certificate=True)
    sync_occurrences(need, NOW.date(), weeks=4)
    volunteer = _volunteer()
    with pytest.raises(signup.NotEligible) as caught:
        signup.sign_up(volunteer, need.id, NOW)
    assert caught.value.reasons == ("certificate_missing",)
    volunteer.profile.child_cert_checked_on = date(2025, 1, 1)
    volunteer.profile.child_cert_valid_until = date(2026, 11, 26)  # expired yesterday
    db.session.commit()
    with pytest.raises(signup.NotEligible):
        signup.sign_up(volunteer, need.id, NOW)
    volunteer.profile.child_cert_valid_until = date(2027, 1, 1)
    db.session.commit()
    assert not signup.sign_up(volunteer, need.id, NOW).waitlisted


def test_staff_cannot_sign_up(need):
    coordinator = factories.user(role=Role.COORDINATOR)
    with pytest.raises(signup.NotEligible) as caught:
        signup.sign_up(coordinator, need.id, NOW)
    assert caught.value.reasons == ("not_volunteer",)


def test_a_freed_slot_is_offered_to_the_first_on_the_waiting_list(need):
    a, b, c, d = (_volunteer() for _ in range(4))
    for i, person in enumerate((a, b, c, d)):
        signup.sign_up(person, need.id, NOW + timedelta(seconds=i))
    first = db.session.scalar(
        select(Assignment).where(Assignment.volunteer_id == a.id, Assignment.need_id == need.id)
    )
    first.state = "withdrawn"
    offered = signup.offer_next(need, NOW + timedelta(hours=1))
    db.session.commit()
    assert offered.volunteer_id == c.id and offered.state == "invited"
    assert offered.invite_expires_at == NOW + timedelta(hours=1, days=signup.INVITATION_DAYS)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == c.id))
    assert message is not None and need.title in message.body_text
    # The invitation holds the slot: nobody else is offered it.
    assert signup.offer_next(need, NOW + timedelta(hours=2)) is None

    signup.decline_invitation(c, offered.id, NOW + timedelta(hours=3))
    assert _states(need)[2:] == ["declined", "invited"]
    nxt = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == d.id))
    accepted = signup.accept_invitation(d, nxt.id, NOW + timedelta(hours=4))
    assert accepted.state == "accepted"
    assert db.session.scalar(select(func.count()).where(Visit.volunteer_id == d.id)) == 4


def test_an_expired_or_foreign_invitation_cannot_be_accepted(need):
    a, b, c = (_volunteer() for _ in range(3))
    for i, person in enumerate((a, b, c)):
        signup.sign_up(person, need.id, NOW + timedelta(seconds=i))
    db.session.scalar(select(Assignment).where(Assignment.volunteer_id == a.id)).state = "withdrawn"
    offered = signup.offer_next(need, NOW)
    db.session.commit()
    assert signup.accept_invitation(b, offered.id, NOW) is None  # not b's invitation
    with pytest.raises(signup.InvitationClosed):
        signup.accept_invitation(c, offered.id, NOW + timedelta(days=4))


def _concurrent_signups(app, need_id, volunteer_ids, start_at):
    barrier = threading.Barrier(len(volunteer_ids), timeout=30)
    outcomes: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(user_id, index):
        with app.app_context():
            try:
                user = db.session.get(factories.User, user_id)
                barrier.wait()
                result = signup.sign_up(user, need_id, start_at + timedelta(milliseconds=index))
                outcomes[user_id] = "waitlisted" if result.waitlisted else "accepted"
            except BaseException as exc:  # reported below: a lost sign-up fails the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=worker, args=(uid, i)) for i, uid in enumerate(volunteer_ids)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return outcomes


@pytest.fixture
def wide_app(backend, tmp_path):
    """An app whose pool has a connection for each of the 50 concurrent requests."""
    yield from make_app(
        backend,
        tmp_path,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 55, "max_overflow": 0, "pool_timeout": 60},
    )


def test_fifty_concurrent_sign_ups_for_three_slots(wide_app, backend):
    app = wide_app
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity, slots=3, first_date=date(2026, 11, 26))
    sync_occurrences(need, NOW.date(), weeks=4)
    need_id = need.id
    ids = [_volunteer().id for _ in range(50)]
    db.session.close()
    outcomes = _concurrent_signups(app, need_id, ids, NOW)
    assert len(outcomes) == 50
    assert sorted(outcomes.values()).count("accepted") == 3
    assert sorted(outcomes.values()).count("waitlisted") == 47
    rows = db.session.scalars(
        select(Assignment).where(Assignment.need_id == need_id).order_by(Assignment.queue_number)
    ).all()
    assert len(rows) == 50
    # One place in line each, in the order the sign-ups held the lock (the ids were drawn then
    # too); the first three in line got the slots.
    assert [r.queue_number for r in rows] == list(range(1, 51))
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert [r.state for r in rows[:3]] == ["accepted"] * 3
    waitlisted = [r for r in rows if r.state == "waitlisted"]
    assert [signup.waitlist_position(r) for r in waitlisted] == list(range(1, 48))
    assert db.session.get(factories.Need, need_id).status == NeedStatus.FILLED


def test_an_expired_invitation_hands_the_slot_to_the_next_in_line(app, need):
    from volunteer.jobs.invitations import expire_invitations

    a, b, c, d = (_volunteer() for _ in range(4))
    for i, person in enumerate((a, b, c, d)):
        signup.sign_up(person, need.id, NOW + timedelta(seconds=i))
    db.session.scalar(select(Assignment).where(Assignment.volunteer_id == a.id)).state = "withdrawn"
    first_offer = signup.offer_next(need, NOW)
    db.session.commit()
    assert first_offer.volunteer_id == c.id

    assert expire_invitations(app, NOW + timedelta(days=1)) == {"expired": 0, "offered": 0}
    late = NOW + timedelta(days=signup.INVITATION_DAYS, minutes=1)
    assert expire_invitations(app, late) == {"expired": 1, "offered": 1}
    db.session.expire_all()
    states = {
        r.volunteer_id: r.state
        for r in db.session.scalars(select(Assignment).where(Assignment.need_id == need.id))
    }
    assert states == {a.id: "withdrawn", b.id: "accepted", c.id: "expired", d.id: "invited"}


def test_a_volunteer_leaving_frees_the_place_for_the_next_in_line(app, need):
    from volunteer.volunteers.services import withdraw

    a, b, c = (_volunteer() for _ in range(3))
    for i, person in enumerate((a, b, c)):
        signup.sign_up(person, need.id, NOW + timedelta(seconds=i))
    first = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == a.id))
    withdraw(a, first.id, NOW + timedelta(hours=1))
    db.session.expire_all()
    offered = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == c.id))
    assert offered.state == "invited"
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == c.id))
