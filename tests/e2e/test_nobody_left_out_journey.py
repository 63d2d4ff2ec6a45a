"""Issue #14's journey, "Nobody left out": a coordinator creates a volunteer who has only a
phone, records their børneattest, signs them up for a lektiecafé's one place (someone else
waits for it), prints their schedule; the reminder goes as an SMS to the (fake HTTP) gateway,
the volunteer opens its short link on a phone and calls the visit off, and the next on the
waiting list is offered the place. axe-core on every page visited."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta

from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select

from e2e_helpers import _log_in, assert_accessible, plain_text
from support import factories
from support.sms_gateway import FakeGateway
from volunteer.auth import managed
from volunteer.catalogue.models import ActivityType, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.models import User
from volunteer.needs import signup
from volunteer.needs.models import Schedule
from volunteer.needs.services import sync_occurrences
from volunteer.notifications import sms
from volunteer.scheduler import run_job

COORDINATOR = "koordinator@example.org"
NEXT = "bo.venter@example.org"
TITLE = "Lektiecafé i Hedensted Bibliotek"


def _lektiecafe_tomorrow() -> tuple[int, datetime]:
    """A one-off lektiecafé tomorrow 15-17 with one place; (need id, tomorrow's date)."""
    tomorrow = local_today(datetime.now(UTC)) + timedelta(days=1)
    kommune = db.session.scalars(select(Organisation).filter_by(name="Hedensted Kommune")).one()
    need = factories.need(
        kommune,
        db.session.scalars(select(ActivityType).filter_by(code="lektiecafe")).one(),
        title=TITLE,
        schedule=Schedule.ONCE,
        weekday=tomorrow.weekday(),
        start_time=time(15),
        end_time=time(17),
        first_date=tomorrow,
        last_date=tomorrow,
        skip_holidays=False,
        slots=1,
        requires_child_certificate=True,
    )
    sync_occurrences(need, tomorrow - timedelta(days=1))
    db.session.commit()
    return need.id, tomorrow


def test_a_volunteer_without_email_is_reminded_by_sms_and_calls_off_on_a_phone(
    page, phone, mail_site, smtp_sink
):
    app, base = mail_site.app, mail_site.url
    gateway = FakeGateway().start()
    app.config.update(SMS_URL=gateway.url, SMS_TOKEN=gateway.token, SMS_TIMEOUT_S=5)
    try:
        _journey(page, phone, app, base, gateway, smtp_sink)
    finally:
        gateway.stop()


def _journey(page, phone, app, base, gateway, smtp_sink) -> None:
    with app.app_context():
        need_id, tomorrow = _lektiecafe_tomorrow()
    _log_in(page, base, COORDINATOR)

    # A volunteer with only a phone number.
    page.goto(f"{base}/koordinator/frivillige/ny")
    assert_accessible(page)
    page.get_by_label("Navn").fill("Else Telefon")
    page.get_by_label("Postnummer").fill("7130")
    page.get_by_label("Telefon").fill("20 30 40 60")
    with page.expect_navigation():
        page.get_by_role("button", name="Opret den frivillige").click()
    user_id = int(re.search(r"/koordinator/frivillige/(\d+)", page.url).group(1))
    assert_accessible(page)

    # The lektiecafé needs a børneattest: record the check.
    today = local_today(datetime.now(UTC))
    page.get_by_label("Tjekket den").fill(today.isoformat())
    page.get_by_label("Gyldig til").fill((today + timedelta(days=365)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Registrér tjekket").click()
    assert_accessible(page)
    with app.app_context():
        coordinator = db.session.scalars(select(User).filter_by(email=COORDINATOR)).one()
        managed.save_availability_for(
            coordinator, user_id, {(tomorrow.weekday(), h) for h in (14, 16)}
        )

    # Signed up for the lektiecafé's one place on her behalf; Bo waits for it.
    page.goto(f"{base}/koordinator/frivillige/{user_id}/tilmeld")
    assert_accessible(page)
    page.locator("select").select_option(str(need_id))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert_accessible(page)
    with app.app_context():
        held = db.session.scalars(select(Assignment).filter_by(volunteer_id=user_id)).first()
        assert held is not None, page.locator("main").inner_text()
        assert held.state == AssignmentState.ACCEPTED
        kommune = db.session.scalars(select(Organisation).filter_by(name="Hedensted Kommune"))
        bo = factories.free_volunteer(kommune.one(), name="Bo Venter", email=NEXT)
        bo.profile.child_cert_checked_on = today
        bo.profile.child_cert_valid_until = today + timedelta(days=365)
        db.session.commit()
        assert signup.sign_up(bo, need_id, datetime.now(UTC)).waitlisted

    # Her schedule on paper: the lektiecafé, the Danish weekday and date.
    page.goto(f"{base}/koordinator/frivillige/{user_id}")
    assert_accessible(page)
    href = page.get_by_role("link", name="Udskriv den frivilliges besøg de næste uger (PDF)")
    response = page.request.get(base + href.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert TITLE in text, text
    assert format_date(tomorrow, "EEEE", locale="da") in text.lower(), text
    assert format_date(tomorrow, "d. MMMM", locale="da") in text, text

    # The reminder goes as one SMS to the gateway, with a short link.
    with app.app_context():
        visit = db.session.scalars(select(Visit).filter_by(volunteer_id=user_id)).one()
        visit_id, starts_at = visit.id, visit.occurrence.starts_at
    run_job(app, "visit_reminders", starts_at - timedelta(hours=23))
    run_job(app, "dispatch_outbox")
    [payload] = [p for p in gateway.received if p["recipients"] == [{"msisdn": 4520304060}]]
    message = payload["message"]
    assert sms.gsm_length(message) <= 160, message
    assert format_date(tomorrow, "EEEE", locale="da") in message, message
    assert format_date(tomorrow, "d. MMMM", locale="da") in message, message
    [short] = re.findall(re.escape(base) + r"/s/[A-Za-z0-9]+", message)

    # On her phone she opens it and calls the visit off.
    phone.goto(short)
    assert phone.get_by_role("heading", level=1).inner_text() == "Jeg kan ikke komme"
    assert TITLE in phone.content()
    assert_accessible(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ja, meld afbud").tap()
    assert phone.get_by_role("heading", level=1).inner_text() == "Dit besøg er aflyst"
    assert_accessible(phone)

    # The place goes to Bo, next on the waiting list.
    with app.app_context():
        assert db.session.get(Visit, visit_id).state == VisitState.CANCELLED
        waiting = db.session.scalars(
            select(Assignment)
            .join(User, User.id == Assignment.volunteer_id)
            .where(User.email == NEXT)
        ).one()
        assert waiting.state == AssignmentState.INVITED
    run_job(app, "dispatch_outbox")
    offers = [m for m in smtp_sink.to(NEXT) if TITLE in plain_text(m)]
    assert offers, [plain_text(m) for m in smtp_sink.to(NEXT)]
