"""The close-out of a co-created activity: only its tovholder (or its coordinators) records
participants, sessions and a note (audited); the reminder asks every three months and when it
ends, exactly once per period; the reports count activities, helpers and participants by local
area and per quarter, with charts and a CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from support import factories
from support.auth import log_in
from support.factories import coordinator, member
from volunteer.extensions import db
from volunteer.models import (
    ActivityLead,
    ActivityReport,
    AuditEvent,
    OutboxMessage,
    ProposalNeed,
)
from volunteer.proposals import closeout
from volunteer.proposals.closeout import CloseoutData, CloseoutError, closeout_reminders
from volunteer.reports import cocreated
from volunteer.reports.services import Scope

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene(app):
    org = factories.organisation("Hedensted Kommune")
    area = factories.local_area("Løsning", "8723", org)
    activity = factories.activity_type()
    citizen = member(org, name="Birte Borger")
    proposal = factories.proposal(citizen, org, state="adopted", submitted_at=NOW)
    need = factories.need(org, activity, title="Gåklub i Løsning", local_area_id=area.id)
    other = factories.need(org, activity, title="Strikkeklub")
    db.session.add_all(
        [
            ProposalNeed(need_id=need.id, proposal_id=proposal.id, created_at=NOW),
            ActivityLead(need_id=need.id, user_id=citizen.id, created_at=NOW),
        ]
    )
    db.session.commit()
    return {
        "org": org,
        "need": need,
        "other": other,
        "proposal": proposal,
        "citizen": citizen,
        "stranger": member(org, name="Fremmed Person"),
        "coordinator": coordinator(org, name="Karen Koordinator"),
    }


def test_the_tovholder_records_what_happened_and_it_is_audited(scene):
    report = closeout.record(scene["citizen"], scene["need"].id, CloseoutData(12, 6, " Godt "), NOW)
    assert (report.participants, report.sessions, report.note) == (12, 6, "Godt")
    assert report.reported_on == date(2026, 11, 30)
    assert (
        db.session.scalar(select(func.count()).where(AuditEvent.action == "activity.closeout")) == 1
    )
    closeout.record(scene["coordinator"], scene["need"].id, CloseoutData(14, 8), NOW)
    assert [r.participants for r in closeout.reports_of(scene["need"].id)] == [14, 12]


@pytest.mark.parametrize(
    ("who", "data", "code"),
    [
        ("stranger", CloseoutData(1, 1), "not_lead"),
        ("citizen", CloseoutData(-1, 1), "range"),
        ("citizen", CloseoutData(1, 10_001), "range"),
        ("citizen", CloseoutData(1, 1, "x" * 2001), "too_long"),
    ],
)
def test_only_the_tovholder_and_only_sensible_numbers(scene, who, data, code):
    with pytest.raises(CloseoutError) as caught:
        closeout.record(scene[who], scene["need"].id, data, NOW)
    assert caught.value.code == code
    assert db.session.scalar(select(func.count()).select_from(ActivityReport)) == 0


def test_a_need_no_proposal_became_has_no_close_out(scene, client):
    log_in(client, scene["coordinator"])
    response = client.post(
        f"/forslag/aktivitet/{scene['other'].id}/afslut",
        data={"participants": "1", "sessions": "1"},
    )
    assert response.status_code == 404


def test_the_close_out_form_on_the_activity_page(scene, client):
    proposal, need = scene["proposal"], scene["need"]
    log_in(client, scene["stranger"])
    assert client.post(f"/forslag/aktivitet/{need.id}/afslut", data={}).status_code == 403
    client = client.application.test_client()
    log_in(client, scene["citizen"])
    page = client.get(f"/forslag/{proposal.id}/aktivitet").get_data(as_text=True)
    assert "Hvor mange var med?" in page
    bad = client.post(
        f"/forslag/aktivitet/{need.id}/afslut",
        data={"participants": "mange"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Det er nødvendigt" in bad or "udfyld" in bad.lower() or "tal" in bad
    done = client.post(
        f"/forslag/aktivitet/{need.id}/afslut",
        data={"participants": "12", "sessions": "6", "note": "Godt fremmøde"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Tak. Det, der skete, er gemt." in done and "Godt fremmøde" in done


def test_the_reminder_asks_every_three_months_exactly_once(app, scene):
    assert closeout_reminders(app, NOW + timedelta(days=30)) == {"asked": 0}
    due = NOW + timedelta(days=92)
    assert closeout_reminders(app, due) == {"asked": 1}
    assert closeout_reminders(app, due + timedelta(days=1)) == {"asked": 1}  # the same key
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient_id == scene["citizen"].id and "Gåklub i Løsning" in message.subject
    # Once reported, the next period starts from the report.
    closeout.record(scene["citizen"], scene["need"].id, CloseoutData(5, 3), due)
    assert closeout_reminders(app, due + timedelta(days=30)) == {"asked": 0}
    assert closeout_reminders(app, due + timedelta(days=92)) == {"asked": 1}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_the_reminder_asks_when_the_activity_has_ended(app, scene):
    scene["need"].status = "closed"
    db.session.commit()
    assert closeout_reminders(app, NOW + timedelta(days=1)) == {"asked": 1}
    assert closeout_reminders(app, NOW + timedelta(days=2)) == {"asked": 1}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_reports_count_co_created_activities_helpers_and_participants(app, scene, client):
    helper = member(scene["org"], name="Hans Hjælper")
    factories.assignment(scene["need"], helper, state="accepted")
    closeout.record(scene["citizen"], scene["need"].id, CloseoutData(12, 6), NOW)
    with app.test_request_context():
        co = cocreated.co_created(Scope(organisation_ids=None), date(2026, 11, 30))
    assert [(r.label, r.activities, r.helpers, r.participants) for r in co.by_area] == [
        ("Løsning", 1, 1, 12)
    ]
    assert co.by_quarter[-1].activities == 1 and co.by_quarter[-1].participants == 12
    assert co.by_quarter[0].activities == 0
    log_in(client, scene["coordinator"])
    page = client.get("/rapporter/").get_data(as_text=True)
    assert "Samskabte aktiviteter" in page and 'id="r-samskabt-title"' in page
    csv = client.get("/rapporter/samskabt.csv").get_data(as_text=True)
    assert "Løsning;1;1;12" in csv
