"""My data: the export holds every row about me; deletion leaves no trace but keeps statistics."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import JSON, String, Text, select

from support import factories
from support.auth import log_in
from support.factories import assignment, coordinator, occurrence, visit
from volunteer import audit
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.jobs.maintenance import retention
from volunteer.models import (
    Assignment,
    AssignmentState,
    AuditEvent,
    AvailabilityWindow,
    AwayPeriod,
    OutboxMessage,
    User,
    Visit,
    VisitState,
)
from volunteer.notifications.services import enqueue
from volunteer.reports.periods import Period
from volunteer.reports.services import report_for

NAME, EMAIL, PHONE = "Birthe Testesen", "birthe.testesen@example.org", "+45 87 65 43 21"
# A postcode and town no need or centre in these tests uses, so any trace of them is hers.
POSTCODE, TOWN = "8752", "Østbirk"


@pytest.fixture
def birthe(app):
    org = factories.organisation("Ældre Sagen")
    boss = coordinator(org)
    activity = factories.activity_type("besoegsven")
    need = factories.need(org, activity, title="Besøgsven")
    other_need = factories.need(org, activity, title="Spiseven")
    user = factories.user(name=NAME, email=EMAIL, phone=PHONE, postcode=POSTCODE)
    profile = user.profile
    profile.interests.append(activity)
    profile.organisations.append(org)
    profile.about = f"Jeg hedder {NAME}"
    profile.availability.append(
        AvailabilityWindow(weekday=0, start_time=time(10), end_time=time(12))
    )
    profile.away_periods.append(AwayPeriod(start_date=date(2030, 1, 1), end_date=date(2030, 1, 2)))
    db.session.commit()
    accepted = assignment(need, user)
    ended = assignment(other_need, user, AssignmentState.ENDED)
    past = visit(
        occurrence(need, utcnow() - timedelta(days=7)), user, accepted, VisitState.CONFIRMED
    )
    future = visit(occurrence(need, utcnow() + timedelta(days=7)), user, accepted)
    past.note = f"{NAME} læste højt"
    cancelled = visit(
        occurrence(need, utcnow() - timedelta(days=14)), user, accepted, VisitState.CANCELLED
    )
    cancelled.cancel_reason = f"{NAME} var syg, ring {PHONE}"
    # Earlier messages: one to Birthe, one to the coordinator naming her and her phone.
    with app.test_request_context():
        enqueue(
            "earlier:birthe",
            user,
            "volunteer_assignment_withdrawn",
            need=need,
            volunteer_name=None,
            cancelled_visits=0,
        )
        enqueue(
            f"old:{boss.id}",
            boss,
            "volunteer_visit_cancelled",
            need=need,
            visit=past,
            volunteer_name=f"{NAME} ({PHONE}, {EMAIL})",
            reason="Ring til Birthe Testesen",
        )
    audit.record("volunteer.viewed", "user", user.id, actor_id=boss.id)
    db.session.commit()
    return dict(user=user, boss=boss, accepted=accepted, ended=ended, past=past, future=future)


def _tables_with_rows_about(user_id: int, profile_id: int) -> set[str]:
    """Independently of the export code: tables with a row whose foreign key points at her."""
    found = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                target = {"users": user_id, "volunteer_profiles": profile_id}.get(
                    fk.column.table.name
                )
                if (
                    target is not None
                    and db.session.execute(select(table).where(column == target)).first()
                ):
                    found.add(table.name)
    return found


def test_the_export_holds_a_row_from_every_table_that_references_me(client, birthe):
    user = birthe["user"]
    log_in(client, user)
    response = client.get("/min-side/mine-data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    referencing = _tables_with_rows_about(user.id, user.profile.id)
    assert referencing - set(data) == set()
    for must in (
        "users",
        "volunteer_profiles",
        "availability_windows",
        "away_periods",
        "volunteer_interests",
        "organisation_volunteers",
        "assignments",
        "visits",
        "outbox_messages",
        "audit_events",
    ):
        assert must in data, must
    assert data["users"][0]["email"] == EMAIL
    assert "password_hash" not in data["users"][0] and "session_token" not in data["users"][0]
    assert "calendar_token" not in data["volunteer_profiles"][0]
    assert {row["id"] for row in data["assignments"]} == {birthe["accepted"].id, birthe["ended"].id}
    page = client.get("/min-side/mine-data/vis").get_data(as_text=True)
    assert "<h1>Alt, hvad vi gemmer om dig</h1>" in page and EMAIL in page
    exported = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "gdpr.exported")
    ).all()
    assert len(exported) == 2 and all(e.actor_id == user.id for e in exported)


def test_deleting_needs_the_password(client, birthe):
    log_in(client, birthe["user"])
    response = client.post("/min-side/slet-konto", data={"password": "forkert-kode"})
    assert "Adgangskoden er forkert." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, birthe["user"].id).name == NAME


def _every_text(table) -> list[str]:
    columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
    texts = []
    for row in db.session.execute(select(*columns)) if columns else []:
        texts.extend(
            json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
            for v in row
            if v is not None
        )
    return texts


def _assert_no_trace_of_her() -> None:
    """Not a trace of her anywhere: every text and JSON column of every table."""
    needles = [NAME.lower(), EMAIL.lower(), PHONE.lower(), POSTCODE, TOWN.lower()]
    for table in db.metadata.sorted_tables:
        for text in _every_text(table):
            for needle in needles:
                assert needle not in text.lower(), (table.name, text)


def _statistics(boss) -> tuple[int, int, float]:
    period = Period(first=date(2000, 1, 1), end=date(2100, 1, 1))
    total = report_for(boss, None, period, utcnow(), "da").total
    return total.active_volunteers, total.visits_held, total.hours


def test_deleting_my_account_erases_me_and_keeps_anonymous_history(client, birthe):
    user, boss = birthe["user"], birthe["boss"]
    user_id, profile_id = user.id, user.profile.id
    old_token = user.session_token
    before = _statistics(boss)
    log_in(client, user)
    response = client.post(
        "/min-side/slet-konto", data={"password": factories.PASSWORD}, follow_redirects=True
    )
    assert "Din konto og dine personoplysninger er slettet." in response.get_data(as_text=True)
    assert client.get("/min-side/").status_code == 302  # logged out

    db.session.expire_all()
    gone = db.session.get(User, user_id)
    assert gone.name == "Slettet bruger"
    assert gone.email == f"deleted-{user_id}@deleted.invalid"
    assert gone.phone is None and gone.password_hash is None
    assert gone.active is False and gone.deleted_at is not None
    assert gone.session_token != old_token and gone.profile is None
    for model in (AvailabilityWindow, AwayPeriod):
        assert db.session.scalar(select(model).where(model.profile_id == profile_id)) is None
    # History stays, pointing at the anonymised user.
    assert db.session.get(Assignment, birthe["accepted"].id).state == AssignmentState.WITHDRAWN
    assert db.session.get(Assignment, birthe["ended"].id).volunteer_id == user_id
    assert db.session.get(Visit, birthe["past"].id).state == VisitState.CONFIRMED
    assert db.session.get(Visit, birthe["future"].id).state == VisitState.CANCELLED
    # Nothing left addressed to her; the coordinator heard about "en frivillig".
    assert (
        db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == user_id))
        is None
    )
    notice = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like("assignment-withdrawn:%"))
    )
    assert notice.recipient_id == boss.id and "En frivillig har meldt fra" in notice.body_text
    deleted = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
    assert deleted.object_id == user_id
    _assert_no_trace_of_her()
    assert _statistics(boss) == before
    assert "[slettet]" in db.session.scalar(
        select(OutboxMessage.body_text).where(OutboxMessage.dedup_key == f"old:{boss.id}")
    )
    # And she cannot log in again.
    response = client.post("/konto/log-ind", data={"email": EMAIL, "password": factories.PASSWORD})
    assert response.status_code == 200


def test_anonymous_users_cannot_export_or_delete(client):
    for url in ("/min-side/mine-data", "/min-side/mine-data.json", "/min-side/slet-konto"):
        response = client.get(url)
        assert response.status_code == 302 and "/konto/log-ind" in response.headers["Location"]


def test_retention_forgets_a_sleeping_account_as_deletion_does(app, birthe):
    """Retention used to keep postcode, town and point and never scrubbed free text."""
    user, boss = birthe["user"], birthe["boss"]
    user.last_login_at = utcnow() - timedelta(days=365 * 4)
    db.session.commit()
    before = _statistics(boss)
    now = utcnow()

    assert retention(app, now, dry_run=True)["users_anonymised"] == 1
    db.session.expire_all()
    assert db.session.get(User, user.id).name == NAME  # a dry run changes nothing

    assert retention(app, now)["users_anonymised"] == 1
    db.session.expire_all()
    gone = db.session.get(User, user.id)
    assert gone.deleted_at == now and gone.profile is None and gone.password_hash is None
    assert db.session.get(Visit, birthe["future"].id).state == VisitState.CANCELLED
    _assert_no_trace_of_her()
    assert _statistics(boss) == before


def test_show_my_data_is_a_readable_page_and_the_json_still_downloads(client, birthe):
    user = birthe["user"]
    db.session.add(
        OutboxMessage(
            dedup_key="reset:birthe",
            recipient_email=EMAIL,
            recipient_id=user.id,
            subject="Vælg en ny adgangskode",
            body_text="Vælg en ny adgangskode her: [[link:0]]",
            links=[{"kind": "password_reset", "user": user.id}],
        )
    )
    db.session.commit()
    log_in(client, user)
    page = client.get("/min-side/mine-data/vis").get_data(as_text=True)
    headings = re.findall(r'<h2 class="h4" id="(\w+)">([^<]+)</h2>', page)
    assert headings[:6] == [
        ("profil", "Dig og din profil"),
        ("tider", "Dine ledige tider og fravær"),
        ("opgaver", "Dine opgaver"),
        ("besoeg", "Dine besøg"),
        ("beskeder", "E-mails, vi har sendt dig"),
        ("historik", "Det er sket med din konto"),
    ]
    text = re.sub(r"<[^>]+>", " ", page)
    text = re.sub(r"\s+", " ", text)
    # In words, not column names or codes; times in Danish notation.
    assert f"Navn {NAME}" in text and f"E-mail {EMAIL}" in text and f"Telefon {PHONE}" in text
    assert f"Hvor du bor {POSTCODE} {TOWN}" in text
    assert "mandag 10.00–12.00" in text and "Væk 01.01.2030–02.01.2030" in text
    assert "Besøgsven Status Accepteret" in text and "Spiseven Status Afsluttet" in text
    assert "Status Bekræftet" in text and "Status Aflyst" in text
    assert f"Hvorfor det blev aflyst {NAME} var syg, ring {PHONE}" in text
    assert "En koordinator så din profil" in text
    assert "Vis e-mailen" in text
    for raw in ("volunteer_profiles", "profile_id", "occurrence_id", "password_hash", "<code>"):
        assert raw not in page, raw
    assert "Andre oplysninger" not in page  # every table she has rows in has its section
    # Links in the stored emails are hidden on the page as in the file.
    assert "Vælg en ny adgangskode her: [link skjult]" in page and "[[link:" not in page
    download = client.get("/min-side/mine-data.json")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data)["users"][0]["email"] == EMAIL
    assert 'href="/min-side/mine-data.json"' in page
