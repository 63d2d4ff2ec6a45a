"""Check-ins (#13, part 4): "Hvordan går det?" four weeks after a forløb starts and every three
months after, to the volunteer and the person's contact, exactly once through the outbox; the
one-click answers; an answer other than good is a task for the coordinators."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from support import delivered_text, factories, queued
from support.auth import log_in
from support.factories import coordinator, free_volunteer
from volunteer.coordination.attention import attention_for
from volunteer.extensions import db
from volunteer.models import CheckinAnswer, EndReason, ForloebCheckin, OutboxMessage
from volunteer.pairs import checkins, services
from volunteer.scheduler import JOBS

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PATTERN = services.Pattern(2, time(14), time(16), date(2026, 12, 9))
FIRST_DUE = datetime(2027, 1, 6, 9, 0, tzinfo=UTC)  # 4 weeks after Wednesday 9 December


@pytest.fixture
def pair(app):
    org = factories.organisation("Hedensted Kommune")
    visiting = factories.activity_type("besoegsven")
    person = factories.person(
        org, visiting, contact_name="Lise Datter", contact_email="lise.datter@example.org"
    )
    boss = coordinator(org)
    volunteer = free_volunteer(org)
    forloeb = services.propose(boss, person, volunteer.id, PATTERN, NOW)
    services.answer(volunteer, forloeb, True, NOW)
    return {"forloeb": forloeb, "coordinator": boss, "volunteer": volunteer, "person": person}


def test_the_job_is_in_the_scheduler():
    assert "forloeb_checkins" in JOBS


def test_due_dates_are_four_weeks_then_every_three_months():
    assert checkins.due_dates(date(2026, 12, 9), date(2027, 1, 5)) == []
    assert checkins.due_dates(date(2026, 12, 9), date(2027, 7, 6)) == [
        date(2027, 1, 6),
        date(2027, 4, 6),
        date(2027, 7, 6),
    ]


def test_nothing_before_four_weeks_and_once_on_the_day(app, pair):
    assert checkins.forloeb_checkins(app, FIRST_DUE - timedelta(days=1)) == {
        "volunteers": 0,
        "contacts": 0,
    }
    assert checkins.forloeb_checkins(app, FIRST_DUE) == {"volunteers": 1, "contacts": 1}
    assert checkins.forloeb_checkins(app, FIRST_DUE) == {"volunteers": 0, "contacts": 0}
    assert checkins.forloeb_checkins(app, FIRST_DUE + timedelta(days=5))["volunteers"] == 0
    messages = queued(f"forloeb-checkin:{pair['forloeb'].id}:2027-01-06:")
    assert [m.recipient_email for m in messages] == [
        pair["volunteer"].email,
        "lise.datter@example.org",
    ]
    text = delivered_text(messages[0])
    assert "onsdag" in text and "6. januar 2027" in text
    assert text.count("/hvordan-gaar-det/") == 3
    assert "/hvordan-gaar-det/" not in messages[0].body_text  # stored: markers only
    # Three months later: the next one.
    assert checkins.forloeb_checkins(app, datetime(2027, 4, 6, 9, 0, tzinfo=UTC)) == {
        "volunteers": 1,
        "contacts": 1,
    }


def test_a_paused_or_ended_forloeb_is_not_asked(app, pair):
    services.pause(pair["coordinator"], pair["forloeb"], NOW + timedelta(days=1))
    assert checkins.forloeb_checkins(app, FIRST_DUE)["volunteers"] == 0
    services.resume(pair["coordinator"], pair["forloeb"], NOW + timedelta(days=2))
    services.end(pair["coordinator"], pair["forloeb"], EndReason.OTHER, NOW + timedelta(days=3))
    assert checkins.forloeb_checkins(app, FIRST_DUE)["volunteers"] == 0


def _link(message, label):
    text = delivered_text(message)
    line = next(line for line in text.splitlines() if line.startswith(label + ":"))
    return re.search(r"https?://\S+(/hvordan-gaar-det/\S+)", line).group(1)


def test_good_is_recorded_and_makes_no_task(app, client, pair):
    checkins.forloeb_checkins(app, FIRST_DUE)
    message = queued(f"forloeb-checkin:{pair['forloeb'].id}:")[0]
    url = _link(message, "Godt")
    page = client.get(url)
    assert page.status_code == 200
    assert (
        db.session.scalar(select(ForloebCheckin.answer).limit(1)) is None
    )  # a GET changes nothing
    assert client.post(url).status_code == 302
    answers = db.session.scalars(select(ForloebCheckin.answer)).all()
    assert CheckinAnswer.GOOD in answers
    assert checkins.tasks(pair["coordinator"])[1] == 0


def test_stop_makes_a_task_the_coordinator_sees_and_handles(app, client, pair):
    checkins.forloeb_checkins(app, FIRST_DUE)
    message = queued(f"forloeb-checkin:{pair['forloeb'].id}:")[1]  # the contact's
    url = _link(message, "Vil gerne stoppe")
    client.post(url)
    client.post(_link(queued(f"forloeb-checkin:{pair['forloeb'].id}:")[0], "Godt"))
    client.post(url)  # a second click changes nothing
    tasks, total = checkins.tasks(pair["coordinator"])
    assert total == 1 and tasks[0].answer == CheckinAnswer.STOP and tasks[0].respondent == "contact"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedup_key.like("forloeb-checkin-task:%"))
        )
        == 1
    )
    assert attention_for(pair["coordinator"], FIRST_DUE).forloeb_tasks.total == 1
    other = coordinator(factories.organisation("Røde Kors"))
    assert checkins.tasks(other)[1] == 0
    log_in(client, pair["coordinator"])
    assert "Vil gerne stoppe" in client.get("/koordinator/forloeb").get_data(as_text=True)
    assert "Vil gerne stoppe" in client.get("/koordinator/").get_data(as_text=True)
    client.post(f"/koordinator/forloeb/opgaver/{tasks[0].id}/klaret")
    assert checkins.tasks(pair["coordinator"])[1] == 0


def test_a_bad_link_is_a_kind_message(app, client):
    response = client.get("/hvordan-gaar-det/ugyldig")
    assert response.status_code == 302


def test_by_sms_the_question_is_one_gsm_sms_with_one_short_link_to_the_three_answers(
    app, client, pair
):
    from support.sms_gateway import FakeGateway
    from volunteer.notifications import delivery, sms

    volunteer = pair["volunteer"]
    volunteer.phone, volunteer.contact_channel = "+4520304050", "sms"
    pair["person"].name = "Maximiliane-Kristiansen Bondesen-Østergaard"
    db.session.commit()
    assert checkins.forloeb_checkins(app, FIRST_DUE) == {"volunteers": 1, "contacts": 1}
    assert checkins.forloeb_checkins(app, FIRST_DUE) == {"volunteers": 0, "contacts": 0}
    [text_message] = queued(f"forloeb-checkin:{pair['forloeb'].id}:2027-01-06:volunteer:sms")
    assert not queued(f"forloeb-checkin:{pair['forloeb'].id}:2027-01-06:volunteer")[1:]
    assert text_message.to_phone == "+4520304050"
    gateway = FakeGateway().start()
    app.config.update(SMS_URL=gateway.url, SMS_TOKEN=gateway.token, SMS_TIMEOUT_S=2)
    try:
        delivery.dispatch(FIRST_DUE)
    finally:
        gateway.stop()
    [payload] = gateway.received
    text = payload["message"]
    assert sms.gsm_length(text) <= 160, text
    assert "hver onsdag" in text and "Tryk dit svar her" in text
    [short] = re.findall(r"http://samskab\.test(/s/[A-Za-z0-9]+)", text)
    # The one short link goes to the page with all three answers.
    opened = client.get(short)
    assert opened.status_code == 303
    url = opened.headers["Location"].removeprefix("http://samskab.test")
    page = client.get(url).get_data(as_text=True)
    for label in ("Godt", "Vil gerne tale med en koordinator", "Vil gerne stoppe"):
        assert label in page
    assert db.session.scalar(select(ForloebCheckin.answer).limit(1)) is None
    bad = client.post(url, data={"answer": "maybe"})
    assert bad.status_code == 200 and "Tryk på et af svarene." in bad.get_data(as_text=True)
    assert client.post(url, data={"answer": "talk"}).status_code == 302
    client.post(url, data={"answer": "good"})  # the first counts
    tasks, total = checkins.tasks(pair["coordinator"])
    assert total == 1 and tasks[0].answer == CheckinAnswer.TALK
    assert tasks[0].respondent == "volunteer"
