"""SMS (issue #14, part 3): GSM 03.38 texts, Danish numbers, each person's channel, reminders by
SMS through the outbox to a fake gateway over real HTTP (accepts, rejects, fails, times out,
reports late), short bearer links, the signed delivery-report webhook, the coordinators' pages.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time as clock
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from flask import current_app
from jobs_support import visit
from sqlalchemy import func, select
from werkzeug.serving import make_server

from support import factories
from support.auth import log_in
from support.sms_gateway import FakeGateway, free_port
from volunteer.extensions import db
from volunteer.jobs.visits import visit_reminders
from volunteer.models import Channel, OutboxMessage, OutboxState, Role, ShortLink, SmsStatus, User
from volunteer.notifications import delivery, delivery_reports, sms
from volunteer.notifications.services import channels_for, set_contact

SECRET = "webhook-secret"
SHORT = re.compile(r"http://samskab\.test(/s/([A-Za-z0-9]+))")
PHONE = "+4520304050"


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def live(app):
    """The app served over real HTTP on 127.0.0.1 (where the gateway POSTs its reports)."""
    app.config["SMS_WEBHOOK_SECRET"] = SECRET
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def gateway(app, live):
    """The fake gateway; the app sends SMS to it and it reports to the app's webhook."""
    fake = FakeGateway(webhook_url=f"{live}/sms/status", secret=SECRET).start()
    app.config.update(SMS_URL=fake.url, SMS_TOKEN=fake.token, SMS_TIMEOUT_S=0.5)
    yield fake
    fake.stop()


def _texter(**fields):
    fields.setdefault("phone", "20 30 40 50")
    fields.setdefault("contact_channel", "sms")
    return factories.user(Role.VOLUNTEER, **fields)


def _reminded(channel: str = "sms", **fields) -> OutboxMessage:
    """A visit tomorrow at 17 for a volunteer on ``channel``, reminded now; its SMS row."""
    volunteer = _texter(contact_channel=channel, **fields)
    v = visit(datetime.now(UTC).date() + timedelta(days=1), time(17), volunteer=volunteer)
    visit_reminders(current_app, v.occurrence.starts_at - timedelta(hours=20))
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
    assert message is not None
    return message


def _fresh(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


# --- the GSM alphabet and one SMS ---------------------------------------------------------------


def test_danish_letters_are_one_septet_each_in_the_gsm_alphabet():
    assert sms.gsm_length("æøåÆØÅ") == 6
    assert sms.gsm_encode("æøåÆØÅ") == bytes([0x1D, 0x0C, 0x0F, 0x1C, 0x0B, 0x0E])
    assert sms.gsm_encode("Hej @") == bytes([0x48, 0x65, 0x6A, 0x20, 0x00])
    assert sms.gsm_decode(sms.gsm_encode("Kan du ikke komme? Så skriv på €")) == (
        "Kan du ikke komme? Så skriv på €"
    )


def test_the_extension_table_takes_two_septets_and_other_characters_are_replaced():
    assert sms.gsm_length("€[]{}~^|\\") == 18
    assert sms.gsm_encode("€") == bytes([0x1B, 0x65])
    with pytest.raises(sms.NotGsm):
        sms.gsm_length("😀")
    assert sms.to_gsm("“Café” – 5…😀 Zoë") == '"Café" - 5...? Zoe'
    assert all(sms.is_gsm(c) for c in sms.to_gsm("ĉŝ ‘x’ naïve ﬁ"))


def test_fit_sms_shortens_only_the_marked_parts_and_keeps_date_weekday_and_link():
    with sms.collecting_slots() as slots:
        text = (
            f"Husk {sms.shorten('Spiseven på Plejecenter Bakkegården ' * 4)} torsdag den "
            f"10. december 2026 kl. 17.00-19.00, {sms.shorten('Bakkegårdsvej 12, 8722 Hedensted')}."
            " Kan du ikke komme? [[link:0]]"
        )
    fitted = sms.fit_sms(text, slots, link_length=40)
    assert sms.gsm_length(fitted, link_length=40) <= 160
    assert "torsdag den 10. december 2026 kl. 17.00-19.00" in fitted
    assert fitted.endswith("Kan du ikke komme? [[link:0]]")
    assert fitted.startswith("Husk Spiseven på")
    short = sms.fit_sms("Husk {} i morgen".replace("{}", "\x000\x00"), ["kaffe"])
    assert short == "Husk kaffe i morgen"


def test_fit_sms_refuses_rather_than_drop_what_may_not_be_cut():
    with pytest.raises(sms.SmsTooLong):
        sms.fit_sms("torsdag den 10. december 2026 " * 6)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("20 30 40 50", "+4520304050"),
        ("+45 20 30 40 50", "+4520304050"),
        ("0045-2030-4050", "+4520304050"),
        ("4520304050", "+4520304050"),
        ("(+45) 75.00.00.00", "+4575000000"),
    ],
)
def test_danish_numbers_become_e164(typed, e164):
    assert sms.normalise_phone(typed) == e164


@pytest.mark.parametrize(
    "typed", ["", "1234567", "02030405", "12345678", "+46 70 123 45 67", "abc"]
)
def test_other_numbers_are_refused(typed):
    with pytest.raises(sms.BadPhone):
        sms.normalise_phone(typed)


# --- channels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "email", "phone", "expected"),
    [
        ("email", "a@example.org", PHONE, ("email",)),
        ("sms", "a@example.org", PHONE, ("sms",)),
        ("both", "a@example.org", "20304050", ("email", "sms")),
        ("sms", "a@example.org", None, ("email",)),  # no phone: email rather than nothing
        ("sms", "a@example.org", "+46701234567", ("email",)),
        ("email", None, PHONE, ("sms",)),  # no email (managed by a coordinator)
        ("both", None, PHONE, ("sms",)),
        ("sms", None, None, ()),
    ],
)
def test_one_function_decides_the_channels(choice, email, phone, expected):
    person = SimpleNamespace(contact_channel=choice, email=email, phone=phone)
    assert channels_for(person) == expected


def test_the_account_page_sets_the_channel_and_a_danish_number(app, client):
    person = factories.user(Role.VOLUNTEER)
    log_in(client, person)
    page = client.post("/konto/kontakt", data={"contact_channel": "sms", "phone": ""})
    assert "Skriv dit mobilnummer for at få sms" in page.get_data(as_text=True)
    page = client.post("/konto/kontakt", data={"contact_channel": "sms", "phone": "+46 70 1"})
    assert "Skriv et dansk telefonnummer med 8 cifre" in page.get_data(as_text=True)
    page = client.post("/konto/kontakt", data={"contact_channel": "nonsense", "phone": ""})
    assert page.status_code == 200
    response = client.post("/konto/kontakt", data={"contact_channel": "both", "phone": "20304050"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (person.contact_channel, person.phone) == ("both", PHONE)
    assert re.search(
        r'<input checked[^>]*value="both"', client.get("/konto/").get_data(as_text=True)
    )


def test_email_cannot_be_chosen_without_an_address(app):
    person = SimpleNamespace(email=None, contact_channel="sms", phone=None)
    from volunteer.notifications.services import EmailRequired

    with pytest.raises(EmailRequired):
        set_contact(person, "email", "20304050")


# --- reminders by SMS -------------------------------------------------------------------------


def test_a_reminder_goes_as_one_gsm_sms_with_date_weekday_and_a_hidden_link(app):
    message = _reminded("sms", name="Søren Ærø")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert message.to_phone == PHONE and message.recipient_email is None
    assert message.sms_status == SmsStatus.PENDING and message.ics is None
    text = message.body_text
    assert sms.gsm_length(text, link_length=len("http://samskab.test/s/") + 10) <= 160
    assert "Samskab: Husk Spiseven" in text
    weekday = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
    assert any(f"{day} den " in text for day in weekday)
    assert "kl. 17.00-19.00" in text and "Kan du ikke komme?" in text
    assert "[[link:0]]" in text and "/afbud/" not in text
    [spec] = message.links
    assert spec["kind"] == "cannot-come" and spec["volunteer_id"] == message.recipient_id


def test_a_long_title_and_place_are_shortened_never_the_date_or_link(app):
    org = factories.organisation()
    need = factories.need(
        org,
        factories.activity_type(),
        title="Spisevenner på Plejecentret Bakkegården, hver torsdag med kaffe og kage bagefter",
    )
    volunteer = _texter()
    v = visit(datetime.now(UTC).date() + timedelta(days=1), time(9), volunteer=volunteer, need=need)
    visit_reminders(app, v.occurrence.starts_at - timedelta(hours=20))
    [message] = db.session.scalars(select(OutboxMessage))
    link_length = len("http://samskab.test/s/") + 10
    assert sms.gsm_length(message.body_text, link_length=link_length) <= 160
    assert "kl. 09.00-11.00" in message.body_text and message.body_text.endswith("[[link:0]]")
    assert "Spisevenner på" in message.body_text


def test_both_channels_get_one_message_each_and_a_rerun_adds_none(app):
    volunteer = _texter(contact_channel="both")
    v = visit(datetime.now(UTC).date() + timedelta(days=1), time(17), volunteer=volunteer)
    at = v.occurrence.starts_at - timedelta(hours=20)
    assert visit_reminders(app, at) == {"reminders_24h": 1}
    assert visit_reminders(app, at) == {"reminders_24h": 0}
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.channel, m.dedup_key) for m in rows] == [
        ("email", f"visit-reminder:{v.id}:24h"),
        ("sms", f"visit-reminder:{v.id}:24h:sms"),
    ]
    assert rows[0].ics is not None and rows[1].ics is None


def test_the_sms_reaches_the_gateway_and_its_short_link_calls_the_visit_off(
    app, client, gateway, now
):
    message = _reminded()
    assert delivery.dispatch(now)["sent"] == 1
    [payload] = gateway.received
    assert payload["recipients"] == [{"msisdn": 4520304050}]
    assert payload["sender"] == "Samskab" and payload["userref"] == f"outbox-{message.id}"
    text = payload["message"]
    assert sms.gsm_length(text) <= 160
    [(path, code)] = SHORT.findall(text)
    assert len(code) == 10
    row = _fresh(message.id)
    assert row.state == OutboxState.SENT and row.sms_status == SmsStatus.SENT
    assert row.provider_id == "100001"
    # The code is stored only as its hash, nowhere in clear.
    stored = json.dumps([row.body_text, row.links, row.last_error, row.subject])
    assert code not in stored
    [link] = db.session.scalars(select(ShortLink))
    assert code not in json.dumps([link.code_hash, link.spec])

    response = client.get(path)
    assert response.status_code == 303
    assert "/min-side/afbud/" in response.headers["Location"]
    page = client.get(response.headers["Location"].removeprefix("http://samskab.test"))
    assert page.status_code == 200 and "Spiseven" in page.get_data(as_text=True)
    assert client.get("/s/aaaaaaaaaa").status_code == 302
    assert client.get("/s/short").status_code == 302


def test_an_expired_short_link_no_longer_opens(app, client, gateway, now):
    _reminded()
    delivery.dispatch(now)
    [(path, _code)] = SHORT.findall(gateway.received[0]["message"])
    [link] = db.session.scalars(select(ShortLink))
    assert link.expires_at == now + timedelta(seconds=app.config["SHORT_LINK_MAX_AGE_S"])
    link.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 302 and "/min-side/" in response.headers["Location"]


def test_a_rejected_sms_fails_at_once_and_is_not_retried(app, gateway, now):
    message = _reminded()
    gateway.mode = "reject"
    summary = delivery.dispatch(now)
    assert (summary["failed"], summary["retry"], summary["sent"]) == (1, 0, 0)
    row = _fresh(message.id)
    assert row.state == OutboxState.FAILED and row.sms_status == SmsStatus.FAILED
    assert row.attempts == 1 and row.last_error.startswith("400")
    assert delivery.dispatch(now + timedelta(days=1))["claimed"] == 0


def test_a_gateway_error_is_retried_with_backoff(app, gateway, now):
    message = _reminded()
    gateway.mode = "error"
    summary = delivery.dispatch(now)
    assert (summary["retry"], summary["connection_errors"]) == (1, 1)
    row = _fresh(message.id)
    assert row.state == OutboxState.PENDING and row.attempts == 1
    assert row.next_attempt_at == now + timedelta(seconds=app.config["OUTBOX_BACKOFF_S"])
    assert row.last_error.startswith("503") and row.sms_status == SmsStatus.PENDING
    assert delivery.dispatch(now)["claimed"] == 0  # not due before the backoff
    gateway.mode = "accept"
    assert delivery.dispatch(row.next_attempt_at)["sent"] == 1
    assert len(gateway.received) == 1


def test_a_timeout_is_retried_and_the_retry_is_the_same_message_to_the_gateway(app, gateway, now):
    message = _reminded()
    gateway.mode, gateway.delay_s = "timeout", 1.5
    started = clock.monotonic()
    summary = delivery.dispatch(now)
    assert clock.monotonic() - started < 1.4  # SMS_TIMEOUT_S 0.5, not the gateway's delay
    assert summary["retry"] == 1
    row = _fresh(message.id)
    assert row.state == OutboxState.PENDING and "timeout" in row.last_error
    clock.sleep(1.2)  # the gateway took it after all, late
    gateway.mode = "accept"
    assert delivery.dispatch(row.next_attempt_at)["sent"] == 1
    assert gateway.accepted == 1 and gateway.resubmitted == 1  # one SMS reached the phone
    assert _fresh(message.id).provider_id == "100001"


def test_two_failed_sms_in_one_batch_stop_it_and_the_rest_stay_pending(app, gateway, now):
    _reminded()
    second = _texter(phone="21 30 40 50")
    v = visit(datetime.now(UTC).date() + timedelta(days=1), time(18), volunteer=second)
    visit_reminders(app, v.occurrence.starts_at - timedelta(hours=20))
    gateway.mode = "error"
    summary = delivery.dispatch(now)
    assert (summary["claimed"], summary["retry"], summary["deferred"]) == (2, 1, 1)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.claimed_by.is_not(None))) == 0


# --- delivery reports -------------------------------------------------------------------------


def test_a_late_delivery_report_marks_the_sms_delivered(app, gateway, now):
    message = _reminded()
    gateway.report = "DELIVERED"
    delivery.dispatch(now)
    assert _fresh(message.id).sms_status == SmsStatus.SENT  # nothing reported yet
    assert gateway.flush_reports() == [204]
    row = _fresh(message.id)
    assert row.sms_status == SmsStatus.DELIVERED and row.status_at is not None
    # The same report again, and an older one arriving after it, change nothing.
    report = {"id": int(row.provider_id), "status": "DELIVERED", "msisdn": 4520304050}
    assert gateway.post_report(report) == 204
    assert gateway.post_report(report | {"status": "ENROUTE"}) == 204
    assert _fresh(message.id).sms_status == SmsStatus.DELIVERED


def test_a_report_that_overtakes_the_gateways_answer_is_kept(app, gateway, now):
    """The gateway reports at once: the report may arrive before the SMS knows its id (it is
    found by its reference) and is not undone when the answer is recorded."""
    message = _reminded()
    gateway.report, gateway.report_at_once = "DELIVERED", True
    delivery.dispatch(now)
    for _ in range(100):
        if gateway.report_answers:
            break
        clock.sleep(0.05)
    assert gateway.report_answers == [204]
    row = _fresh(message.id)
    assert (row.state, row.sms_status, row.provider_id) == ("sent", "delivered", "100001")


def test_an_early_report_found_by_reference(app, gateway):
    message = _reminded()
    report = {"id": 555, "status": "DELIVERED", "userref": f"outbox-{message.id}"}
    assert gateway.post_report(report) == 204
    row = _fresh(message.id)
    assert (row.provider_id, row.sms_status) == ("555", "delivered")
    assert gateway.post_report(report | {"id": 556, "userref": "outbox-99999999999"}) == 404
    assert gateway.post_report(report | {"id": 557}) == 404  # that SMS has its id already


def test_an_undeliverable_report_fails_the_message_so_staff_can_send_it_again(app, gateway, now):
    message = _reminded()
    gateway.report = "UNDELIVERABLE"
    delivery.dispatch(now)
    assert gateway.flush_reports() == [204]
    row = _fresh(message.id)
    assert (row.state, row.sms_status) == (OutboxState.FAILED, SmsStatus.FAILED)
    assert "delivery report" in row.last_error
    admin = factories.user(Role.ADMIN)
    staff = app.test_client()
    log_in(staff, admin)
    staff.post(f"/admin/udbakke/{message.id}/send-igen")
    row = _fresh(message.id)
    assert (row.state, row.sms_status, row.provider_id) == ("pending", "pending", None)
    assert delivery.dispatch(datetime.now(UTC) + timedelta(minutes=1))["sent"] == 1
    assert len(gateway.received) == 1  # the gateway already had this reference
    assert _fresh(message.id).sms_status == SmsStatus.SENT


def test_reports_without_a_valid_signature_are_refused(app, gateway, now):
    message = _reminded()
    delivery.dispatch(now)
    report = {"id": int(_fresh(message.id).provider_id), "status": "DELIVERED"}
    assert gateway.post_report(report, secret="wrong") == 403
    assert _fresh(message.id).sms_status == SmsStatus.SENT
    app.config["SMS_WEBHOOK_SECRET"] = None
    assert gateway.post_report(report) == 403


def test_unknown_ids_and_unreadable_reports(app, client):
    app.config["SMS_WEBHOOK_SECRET"] = SECRET

    def post(body: bytes):
        return client.post(
            "/sms/status",
            data=body,
            headers={"X-Samskab-Signature": delivery_reports.sign(body, SECRET)},
            content_type="application/json",
        )

    assert post(json.dumps({"id": 999, "status": "DELIVERED"}).encode()).status_code == 404
    assert post(b"not json").status_code == 400
    assert post(json.dumps({"id": 1, "status": "HAPPY"}).encode()).status_code == 400
    assert post(json.dumps([1, 2]).encode()).status_code == 400
    assert client.post("/sms/status", data=b"{}").status_code == 403


def test_the_webhook_is_rate_limited(backend, tmp_path):
    from support import make_app

    for app in make_app(
        backend, tmp_path, RATELIMIT_ENABLED=True, SMS_WEBHOOK_RATE_LIMIT="3 per minute"
    ):
        client = app.test_client()
        answers = [client.post("/sms/status", data=b"{}").status_code for _ in range(5)]
        assert answers == [403, 403, 403, 429, 429]


# --- without a gateway, and what staff see ---------------------------------------------------


def test_without_a_gateway_sms_go_to_the_log_with_the_link_hidden(app, now, caplog):
    message = _reminded()
    with caplog.at_level(logging.INFO, logger="samskab.sms"):
        assert delivery.dispatch(now)["sent"] == 1
    assert "SMS to +4520304050" in caplog.text and "[link skjult]" in caplog.text
    assert "/s/" not in caplog.text
    row = _fresh(message.id)
    assert row.state == OutboxState.SENT and row.sms_status == SmsStatus.SENT
    assert db.session.scalar(select(func.count()).select_from(ShortLink)) == 0


def test_coordinators_see_each_recipients_channel_and_delivery_status(app, gateway, now):
    org = factories.organisation()
    message = _reminded()
    volunteer = db.session.get(User, message.recipient_id)
    volunteer.profile.organisations.append(org)
    coordinator = factories.user(Role.COORDINATOR, organisations=[org])
    db.session.commit()
    gateway.report = "DELIVERED"
    delivery.dispatch(now)
    gateway.flush_reports()
    staff = app.test_client()
    log_in(staff, coordinator)
    listing = staff.get("/admin/udbakke/").get_data(as_text=True)
    assert PHONE in listing and "Sms" in listing and "Leveret til telefonen" in listing
    page = staff.get(f"/admin/udbakke/{message.id}").get_data(as_text=True)
    assert "Leveret til telefonen" in page and "[link skjult]" in page
    assert "/s/" not in page
    assert channels_for(volunteer) == (Channel.SMS,)


def test_the_webhook_needs_no_csrf_token_but_every_form_still_does(backend, tmp_path):
    from support import make_app

    for app in make_app(backend, tmp_path, WTF_CSRF_ENABLED=True, SMS_WEBHOOK_SECRET=SECRET):
        client = app.test_client()
        body = json.dumps({"id": 1, "status": "DELIVERED"}).encode()
        signed = {"X-Samskab-Signature": delivery_reports.sign(body, SECRET)}
        assert client.post("/sms/status", data=body, headers=signed).status_code == 404
        assert client.post("/sms/status", data=body).status_code == 403
        response = client.post("/konto/kontakt", data={"contact_channel": "sms", "phone": "2030"})
        assert response.status_code == 400  # the form's CSRF check comes first


def test_an_invitation_goes_by_sms_where_chosen(app):
    """What ``proposals.approve`` writes for each invited volunteer."""
    from volunteer.models import AssignmentState
    from volunteer.notifications.services import notify

    org = factories.organisation("Frivilligcenter Hedensted og Omegns Besøgsvenner")
    need = factories.need(org, factories.activity_type(), title="Besøgsven hos en ældre borger")
    volunteer = _texter(contact_channel="both")
    invited = factories.assignment(need, volunteer, AssignmentState.INVITED)
    invited.invite_expires_at = datetime.now(UTC) + timedelta(days=5)
    notify("invitation:test", volunteer, "invitation", need=need, assignment=invited)
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.channel for m in rows] == ["email", "sms"]
    text = rows[1].body_text
    assert sms.gsm_length(text) <= 160 and text.startswith("Samskab: ")
    assert "hver torsdag" in text and f"/opgaver/{need.id}" in text and "Svar senest" in text
