"""A volunteer on a phone gets tomorrow's reminder, cannot come, and calls the visit off from
the mail in one click, without logging in; the centre is told."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from e2e_helpers import assert_accessible, links_in, plain_text
from support import factories
from volunteer.catalogue.models import ActivityType, Centre, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.needs import signup
from volunteer.needs.models import Schedule
from volunteer.needs.services import sync_occurrences
from volunteer.scheduler import run_job

CENTRE = "Plejecenter Bakkegården"
CENTRE_STAFF = "bakkegaarden@example.org"
VOLUNTEER = "karin.kortspil@example.org"


def _visit_tomorrow() -> tuple[int, datetime]:
    """Karin's one-off visit at the demo centre tomorrow at 14.00; (visit id, its start)."""
    tomorrow = local_today(datetime.now(UTC)) + timedelta(days=1)
    kommune = db.session.scalars(select(Organisation).filter_by(name="Hedensted Kommune")).one()
    need = factories.need(
        kommune,
        db.session.scalars(select(ActivityType).filter_by(code="spisevenner")).one(),
        title="Kortspil og kaffe",
        centre=db.session.scalars(select(Centre).filter_by(name=CENTRE)).one(),
        schedule=Schedule.ONCE,
        weekday=tomorrow.weekday(),
        start_time=time(14),
        end_time=time(15, 30),
        first_date=tomorrow,
        last_date=tomorrow,
        skip_holidays=False,
        slots=1,
    )
    sync_occurrences(need, tomorrow - timedelta(days=1))
    db.session.commit()
    karin = factories.free_volunteer(kommune, name="Karin Kortspil", email=VOLUNTEER)
    signup.sign_up(karin, need.id, datetime.now(UTC))
    visit = db.session.scalars(select(Visit).filter_by(volunteer_id=karin.id)).one()
    return visit.id, visit.occurrence.starts_at


def test_cannot_come_from_the_reminder_on_a_phone(phone, mail_site, smtp_sink):
    app, base = mail_site.app, mail_site.url
    with app.app_context():
        visit_id, starts_at = _visit_tomorrow()
    run_job(app, "visit_reminders", starts_at - timedelta(hours=23))
    run_job(app, "dispatch_outbox")
    (reminder,) = smtp_sink.to(VOLUNTEER)
    links = [link for link in links_in(plain_text(reminder), base) if "/afbud/" in link]
    assert len(links) == 1, plain_text(reminder)

    phone.goto(links[0])
    assert phone.get_by_role("heading", level=1).inner_text() == "Jeg kan ikke komme"
    assert "Kortspil og kaffe" in phone.content() and "kl. 14.00" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone)
    phone.get_by_label("Vil du sige hvorfor? (Det behøver du ikke)").fill("Mit barnebarn er syg")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ja, meld afbud").tap()
    assert phone.get_by_role("heading", level=1).inner_text() == "Dit besøg er aflyst"
    assert "Tak, fordi du sagde til." in phone.content()
    assert_accessible(phone)

    with app.app_context():
        assert db.session.get(Visit, visit_id).state == VisitState.CANCELLED
    run_job(app, "dispatch_outbox")
    (told,) = smtp_sink.to(CENTRE_STAFF)[-1:]
    assert "Kortspil og kaffe" in plain_text(told)
    assert "barnebarn" not in plain_text(told)  # the centre never gets the reason
