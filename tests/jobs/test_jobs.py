"""Invitation expiry, the digests, the occurrence horizon and retention, with injected ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from jobs_support import utc, visit
from sqlalchemy import func, select

from support import factories
from volunteer.extensions import db
from volunteer.jobs.digests import centre_digest, coordinator_digest
from volunteer.jobs.invitations import expire_invitations
from volunteer.jobs.maintenance import next_dates, occurrence_horizon, retention
from volunteer.models import (
    Assignment,
    AssignmentState,
    Occurrence,
    OutboxMessage,
    OutboxState,
    Role,
    User,
    VisitState,
)
from volunteer.needs.services import sync_occurrences

NOW = utc("2026-11-27T08:00:00+00:00")


def _keys() -> list[str]:
    return list(db.session.scalars(select(OutboxMessage.dedup_key).order_by(OutboxMessage.id)))


def test_expired_invitations_notify_and_hand_the_slot_on(app, monkeypatch):
    org = factories.organisation()
    coordinator = factories.user(Role.COORDINATOR)
    coordinator.organisations.append(org)
    need = factories.need(org, factories.activity_type(), title="Lektiecafé")
    volunteer = factories.user(Role.VOLUNTEER)
    invited = Assignment(
        need=need,
        volunteer=volunteer,
        state=AssignmentState.INVITED,
        source="signup",
        invite_expires_at=NOW - timedelta(minutes=1),
    )
    fresh = Assignment(
        need=need,
        volunteer=factories.user(Role.VOLUNTEER),
        state=AssignmentState.INVITED,
        source="signup",
        invite_expires_at=NOW + timedelta(days=1),
    )
    db.session.add_all([invited, fresh])
    db.session.commit()
    offered = []
    # The hand-over itself is tested with volunteer.needs.signup; here: that it is called.
    monkeypatch.setattr(
        "volunteer.jobs.invitations.offer_next", lambda need, now: offered.append((need.id, now))
    )

    assert expire_invitations(app, NOW) == {"expired": 1, "offered": 0}
    assert expire_invitations(app, NOW) == {"expired": 0, "offered": 0}
    db.session.expire_all()
    assert invited.state == AssignmentState.EXPIRED and fresh.state == AssignmentState.INVITED
    assert offered == [(need.id, NOW)]
    assert _keys() == [
        f"invitation-expired:{invited.id}:volunteer",
        f"invitation-expired:{invited.id}:coordinator:{coordinator.id}",
    ]
    kind = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == volunteer.id)
    )
    assert "Lektiecafé" in kind.subject and "tak for din interesse" in kind.body_text


def test_centre_digest_once_a_day_with_todays_visits(app):
    org = factories.organisation()
    centre = factories.centre(org, name="Bakkegården")
    staff = factories.user(Role.CENTRE)
    staff.centres.append(centre)
    db.session.commit()
    volunteer = factories.user(Role.VOLUNTEER, name="Karen Jensen")
    visit(date(2026, 11, 27), time(14, 30), centre=centre, volunteer=volunteer)
    visit(date(2026, 11, 28), time(10), centre=centre)  # tomorrow: not listed
    visit(date(2026, 11, 27), time(10), centre=centre, state=VisitState.CANCELLED)
    assert centre_digest(app, NOW) == {"centres": 1, "messages": 1}
    assert centre_digest(app, NOW + timedelta(hours=2)) == {"centres": 1, "messages": 0}
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient_id == staff.id
    assert "fredag den 27. november 2026" in message.subject
    assert "14.30" in message.body_text and "Karen" in message.body_text
    assert "Jensen" not in message.body_text
    assert message.body_text.count("Spiseven") == 1
    assert "http://samskab.test/center/" in message.body_text


def test_coordinator_digest_weekly(app):
    org = factories.organisation()
    coordinator = factories.user(Role.COORDINATOR)
    coordinator.organisations.append(org)
    need = factories.need(org, factories.activity_type(), title="Gåtur", slots=3)
    monday = utc("2026-11-30T06:30:00+00:00")
    sync_occurrences(need, monday.date())  # open with dates ahead: the digest lists it
    db.session.commit()
    visit(date(2026, 11, 26), time(10), need=need, state=VisitState.NO_SHOW)
    assert coordinator_digest(app, monday)["messages"] == 1
    assert coordinator_digest(app, monday + timedelta(hours=1))["messages"] == 0
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert "uge 49" in message.subject
    assert "Gåtur (3 ledige pladser)" in message.body_text
    assert "26.11.2026 Gåtur" in message.body_text


def test_the_horizon_fills_occurrences_for_open_needs(app):
    org = factories.organisation()
    factories.need(org, factories.activity_type(), first_date=date(2026, 11, 2))
    first = occurrence_horizon(app, NOW)
    assert first["needs"] == 1 and first["occurrences_added"] == 8
    assert occurrence_horizon(app, NOW) == {"needs": 1, "occurrences_added": 0}
    assert occurrence_horizon(app, NOW + timedelta(days=7))["occurrences_added"] == 1
    assert db.session.scalar(select(func.count()).select_from(Occurrence)) == 9


def test_next_dates_move_on_as_dates_pass(app):
    org = factories.organisation()
    need = factories.need(org, factories.activity_type(), weekday=3, first_date=date(2026, 11, 2))
    occurrence_horizon(app, NOW)
    db.session.refresh(need)
    first = need.next_starts_at
    assert first is not None and first >= NOW - timedelta(days=1)
    assert next_dates(app, first - timedelta(minutes=1)) == {"needs": 0}
    assert next_dates(app, first + timedelta(minutes=1)) == {"needs": 1}
    db.session.refresh(need)
    assert need.next_starts_at == first + timedelta(days=7)


def test_retention_anonymises_and_forgets_old_mail(app):
    long_ago = datetime(2023, 1, 1, tzinfo=UTC)
    sleeper = factories.user(Role.VOLUNTEER, last_login_at=long_ago, phone="12345678")
    active = factories.user(Role.VOLUNTEER, last_login_at=NOW - timedelta(days=30))
    admin = factories.user(Role.ADMIN, last_login_at=long_ago)
    db.session.add_all(
        [
            OutboxMessage(
                dedup_key="old",
                recipient_email="x@example.org",
                subject="s",
                body_text="b",
                state=OutboxState.SENT,
                sent_at=NOW - timedelta(days=181),
            ),
            OutboxMessage(
                dedup_key="recent",
                recipient_email="x@example.org",
                subject="s",
                body_text="b",
                state=OutboxState.SENT,
                sent_at=NOW - timedelta(days=10),
            ),
        ]
    )
    db.session.commit()
    expected = {
        "outbox_deleted": 1,
        "users_anonymised": 1,
        "persons_anonymised": 0,
        "referrals_anonymised": 0,
    }
    assert retention(app, NOW, dry_run=True) == expected
    assert _keys() == ["old", "recent"]
    assert retention(app, NOW) == expected
    db.session.expire_all()
    assert _keys() == ["recent"]
    gone = db.session.get(User, sleeper.id)
    assert gone.deleted_at == NOW and not gone.active and gone.phone is None
    assert gone.email == f"deleted-{sleeper.id}@deleted.invalid" and gone.password_hash is None
    assert db.session.get(User, active.id).deleted_at is None
    assert db.session.get(User, admin.id).deleted_at is None
    assert retention(app, NOW) == {
        "outbox_deleted": 0,
        "users_anonymised": 0,
        "persons_anonymised": 0,
        "referrals_anonymised": 0,
    }
