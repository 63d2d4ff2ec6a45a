"""No staff member can read a live bearer link in the outbox (issue: coordinators took over
volunteers' accounts with reset links read on *Udbakke*).

For each kind of message that carries a link acting without a password — the password reset
and the centre's one-click visit links — the token reaches the recipient's mailbox and nowhere
else: not the outbox list or message page for any staff role, not the stored row, not a data
export, not the log.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from support import delivered_text, factories
from support.auth import log_in
from support.smtp import SMTPSink
from volunteer.audit import AuditEvent
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.jobs.digests import centre_digest
from volunteer.models import Occurrence, OutboxMessage, OutboxState, Role, User, Visit, VisitState
from volunteer.notifications import delivery
from volunteer.notifications.services import enqueue
from volunteer.volunteers import gdpr

RESET = re.compile(r"http://samskab\.test(/konto/nulstil/([^\s\"<]+))")
VISIT_LINK = re.compile(r"http://samskab\.test(/center/link/([^\s\"<]+))")
NEW_PASSWORD = "koordinatoren-kender-ikke-denne"


@pytest.fixture
def people(app):
    org = factories.organisation("Hedensted Kommune")
    home = factories.centre(org, name="Plejecenter Bakkegården")
    need = factories.need(org, factories.activity_type("spisevenner"), centre=home)
    volunteer = factories.user(email="frivillig@example.org", name="Karen Frivillig")
    volunteer.profile.organisations.append(org)
    started = utcnow() - timedelta(hours=3)
    earlier_today = Visit(
        occurrence=Occurrence(need=need, starts_at=started, ends_at=started + timedelta(hours=2)),
        volunteer=volunteer,
    )
    db.session.add(earlier_today)
    db.session.commit()
    return {
        "volunteer": volunteer,
        "coordinator": factories.user(
            Role.COORDINATOR, email="koordinator@example.org", organisations=[org]
        ),
        "admin": factories.user(Role.ADMIN, email="admin@example.org"),
        "staff": factories.user(Role.CENTRE, centres=[home], name="Lise Staff"),
        "visit": earlier_today,
    }


def _due() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=1)


def _delivered(sink: SMTPSink, pattern: re.Pattern[str], to: str) -> list[tuple[str, str]]:
    """(path, token) of every link of ``pattern`` in what ``to`` received."""
    found = []
    for email in sink.received:
        if email["To"] == to:
            for part in ("plain", "html"):
                body = email.get_body((part,))
                if body is not None:
                    found += pattern.findall(body.get_content())
    return found


def _staff_pages(app, viewer, message: OutboxMessage) -> str:
    """The outbox list (every state) and the message page, as ``viewer`` sees them."""
    client = app.test_client()
    log_in(client, viewer)
    pages = [client.get("/admin/udbakke/"), client.get(f"/admin/udbakke/{message.id}")]
    pages += [client.get(f"/admin/udbakke/?state={s}") for s in OutboxState]
    assert all(page.status_code == 200 for page in pages)
    return "".join(page.get_data(as_text=True) for page in pages)


def _assert_nowhere_but_the_mailbox(app, token: str, message: OutboxMessage, viewers, caplog):
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message.id)
    stored = json.dumps(
        [row.body_text, row.body_html, row.subject, row.dedup_key, row.links, row.last_error]
    )
    assert token not in stored
    for viewer in viewers:
        page = _staff_pages(app, viewer, row)
        assert token not in page
        assert "[link skjult]" in page
    recipient = db.session.get(User, row.recipient_id)
    exported = json.dumps(gdpr.export(recipient, actor=viewers[-1]), default=str)
    assert token not in exported and "[link skjult]" in exported
    audit = json.dumps([e.details for e in db.session.scalars(select(AuditEvent))])
    assert token not in audit
    # (The SMTP sink's own debug log is the recipient's mailbox, not Samskab's log.)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert token not in "\n".join(ours)


def test_the_reproduction_fails_at_reading_the_outbox(app, client, people, smtp, caplog):
    """Issue steps: reset requested while logged out; the coordinator opens the message to
    frivillig@example.org — and finds no link; the volunteer's own email has one that works."""
    caplog.set_level(logging.DEBUG)
    client.post("/konto/glemt-adgangskode", data={"email": "frivillig@example.org"})
    message = db.session.scalar(select(OutboxMessage))
    assert message.subject == "Vælg en ny adgangskode til Samskab"

    spy = app.test_client()
    log_in(spy, people["coordinator"])
    page = spy.get(f"/admin/udbakke/{message.id}").get_data(as_text=True)
    assert "/konto/nulstil/" not in page and "[link skjult]" in page

    assert delivery.dispatch(_due())["sent"] == 1
    [(path, token)] = _delivered(smtp, RESET, "frivillig@example.org")
    _assert_nowhere_but_the_mailbox(
        app, token, message, [people["coordinator"], people["admin"]], caplog
    )
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/min-side/"


def test_one_click_visit_links_are_hidden_from_staff(app, client, people, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    centre_digest(app, people["visit"].occurrence.starts_at)
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == people["staff"].id)
    )
    assert "/center/link/" not in message.body_text + message.body_html
    assert delivery.dispatch(_due())["sent"] == 1
    links = _delivered(smtp, VISIT_LINK, people["staff"].email)
    assert len(links) == 4  # came / did not come, in the text and the HTML part
    for _path, token in links:
        _assert_nowhere_but_the_mailbox(app, token, message, [people["admin"]], caplog)
    did_not_come = links[1][0]
    client.post(did_not_come, data={"link-outcome": "no_show"})
    db.session.expire_all()
    assert people["visit"].state == VisitState.NO_SHOW


def test_the_log_transport_writes_no_live_link(app, people, caplog):
    """Without SMTP (development) messages go to the log: links hidden there too."""
    app.test_client().post("/konto/glemt-adgangskode", data={"email": "frivillig@example.org"})
    with caplog.at_level(logging.INFO, logger="samskab.outbox"):
        assert delivery.dispatch(_due())["sent"] == 1
    assert "Vælg en ny adgangskode" in caplog.text
    assert "/konto/nulstil/" not in caplog.text and "[link skjult]" in caplog.text


def test_sending_again_mints_a_fresh_token(app, client, people, smtp):
    client.post("/konto/glemt-adgangskode", data={"email": "frivillig@example.org"})
    smtp.reject_data = "451 try again later"
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    assert delivery.dispatch(_due())["failed"] == 1
    message = db.session.scalar(select(OutboxMessage))

    staff = app.test_client()
    log_in(staff, people["admin"])
    staff.post(f"/admin/udbakke/{message.id}/send-igen")
    smtp.reject_data = None
    assert delivery.dispatch(_due())["sent"] == 1
    [(path, token)] = _delivered(smtp, RESET, "frivillig@example.org")
    assert token not in json.dumps([message.body_text, message.links])
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/min-side/"


def test_opening_a_message_is_audited(app, people):
    app.test_client().post("/konto/glemt-adgangskode", data={"email": "frivillig@example.org"})
    message = db.session.scalar(select(OutboxMessage))
    staff = app.test_client()
    log_in(staff, people["coordinator"])
    staff.get("/admin/udbakke/")
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("outbox.%"))).all() == []
    )
    staff.get(f"/admin/udbakke/{message.id}")
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("outbox.%")))
    assert (event.action, event.object_id) == ("outbox.message_viewed", message.id)
    assert event.actor_id == people["coordinator"].id


def test_a_marker_typed_into_user_text_cannot_mint_a_link(app, people):
    """A name with a marker in it only repeats the links this message already carries to
    this recipient: a message without bearer links gets no live link from it."""
    people["volunteer"].name = "[[link:0]] Karen"
    db.session.commit()
    message = enqueue(
        "test:marker", people["volunteer"], "password_reset", reset_link="-", max_age_minutes=60
    )
    db.session.commit()
    assert message.links is None
    assert "/konto/nulstil/" not in delivered_text(message)


def test_the_short_link_in_an_sms_reaches_only_the_phone(app, client, people, caplog):
    """A reminder by SMS: the short code (and the long token it opens) are minted when the SMS
    goes to the gateway; the row keeps a marker, the short link only the code's hash."""
    from support.sms_gateway import FakeGateway
    from volunteer.jobs.visits import visit_reminders
    from volunteer.notifications.models import ShortLink

    caplog.set_level(logging.DEBUG)
    gateway = FakeGateway().start()
    app.config.update(SMS_URL=gateway.url, SMS_TOKEN=gateway.token)
    try:
        volunteer = people["volunteer"]
        volunteer.phone, volunteer.contact_channel = "+4520304050", "sms"
        starts = utcnow() + timedelta(hours=20)
        soon = Visit(
            occurrence=Occurrence(
                need=people["visit"].occurrence.need,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
            ),
            volunteer=volunteer,
        )
        db.session.add(soon)
        db.session.commit()
        visit_reminders(app, utcnow())
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
        assert "/s/" not in message.body_text and "[[link:0]]" in message.body_text
        assert delivery.dispatch(_due())["sent"] == 1
        [(path, code)] = re.findall(
            r"http://samskab\.test(/s/([A-Za-z0-9]+))", gateway.received[0]["message"]
        )
        _assert_nowhere_but_the_mailbox(
            app, code, message, [people["coordinator"], people["admin"]], caplog
        )
        stored = json.dumps([(s.code_hash, s.spec) for s in db.session.scalars(select(ShortLink))])
        assert code not in stored
        opened = client.get(path)
        token = opened.headers["Location"].rsplit("/", 1)[1]
        _assert_nowhere_but_the_mailbox(app, token, message, [people["admin"]], caplog)
        assert client.get(opened.headers["Location"]).status_code == 200
    finally:
        gateway.stop()
