"""An administrator creates a centre and invites its staff member by email; the staff member
follows the link from the SMTP sink, chooses a password and confirms a visit — in a real
browser, in Danish, every page checked with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import re

from sqlalchemy import select

from e2e_helpers import _log_in, assert_accessible, links_in, plain_text, visit_earlier_today
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType, Centre, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.extensions import db
from volunteer.scheduler import run_job

CENTRE = "Plejecenter Havbo"
STAFF_EMAIL = "sanne.havbo@example.org"
PASSWORD = "havbo-kaffe-og-kage-9"


def test_admin_creates_a_centre_invites_its_staff_who_confirm_a_visit(page, mail_site, smtp_sink):
    base = mail_site.url

    # The administrator finds the centres from the administration's own menu.
    _log_in(page, base, "admin@example.org", check=True)
    page.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Administration"
    ).click()
    page.wait_for_url(f"{base}/admin/")
    assert_accessible(page)
    page.get_by_role("link", name="Nyt center").click()
    page.wait_for_url(f"{base}/admin/centre/ny")
    assert page.get_by_role("heading", level=1).inner_text() == "Nyt center"
    assert_accessible(page)

    # A postcode that does not exist is refused in Danish, and nothing is stored.
    page.get_by_label("Navn", exact=True).fill(CENTRE)
    page.get_by_label("Type").select_option(label="Plejecenter")
    page.get_by_label("Adresse").fill("Havnevej 3")
    page.get_by_label("Postnummer").fill("1234")
    page.get_by_label("Organisation").select_option(label="Hedensted Kommune")
    page.get_by_label("Lokalområde").select_option(label="Juelsminde")
    with page.expect_navigation():
        page.get_by_role("button", name="Gem", exact=True).click()
    assert "Vi kender ikke postnummeret 1234." in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    page.get_by_label("Postnummer").fill("7130")
    with page.expect_navigation():
        page.get_by_role("button", name="Gem", exact=True).click()

    # Saved; next, the invitation form with the new centre already chosen.
    page.wait_for_url(re.compile(r"/admin/personale/inviter\?centre=\d+$"))
    assert f"{CENTRE} er gemt." in page.get_by_role("status").inner_text()
    assert page.get_by_label("Rolle").input_value() == "centre"
    assert page.get_by_role("checkbox", name=re.compile(CENTRE)).is_checked()
    assert_accessible(page)
    page.get_by_label("E-mail").fill(STAFF_EMAIL)
    page.get_by_label("Fulde navn").fill("Sanne Havbo")
    with page.expect_navigation():
        page.get_by_role("button", name="Gem", exact=True).click()
    page.wait_for_url(f"{base}/admin/personale/")
    assert "Sanne Havbo er inviteret." in page.get_by_role("status").inner_text()
    card = page.locator("li.card").filter(has_text="Sanne Havbo")
    assert "Inviteret, har ikke valgt adgangskode endnu" in card.inner_text()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ud").click()

    with mail_site.app.app_context():
        centre = db.session.scalars(select(Centre).filter_by(name=CENTRE)).one()
        assert (centre.town, centre.local_area.name) == ("Juelsminde", "Juelsminde")
        person = db.session.scalars(select(User).filter_by(email=STAFF_EMAIL)).one()
        assert person.role == Role.CENTRE and person.password_hash is None
        visit_id = visit_earlier_today(
            CENTRE, "erik.besoeger@example.org", "Erik Besøger", "Kaffe og kortspil"
        )

    # The invitation goes out through the real outbox dispatch, over SMTP.
    summary = run_job(mail_site.app, "dispatch_outbox")
    assert summary["connection_errors"] == 0 and summary["sent"] == summary["claimed"], summary
    (invitation,) = smtp_sink.to(STAFF_EMAIL)
    assert invitation["Subject"] == "Din personalekonto i Samskab"
    text = plain_text(invitation)
    assert "Sanne" in text and CENTRE in text, text
    (link,) = links_in(text, base)
    assert "/konto/nulstil/" in link

    # The staff member chooses a password from the link and is logged in.
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Vælg en ny adgangskode"
    assert_accessible(page)
    page.get_by_label("Ny adgangskode").fill(PASSWORD)
    page.get_by_label("Gentag adgangskoden").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Gem den nye adgangskode").click()
    assert "Din adgangskode er ændret." in page.get_by_role("status").inner_text()
    assert_accessible(page)

    # From the menu to the centre's visits, and the visit is confirmed.
    menu = page.get_by_role("navigation", name="Hovedmenu")
    menu.get_by_role("link", name="Besøg på mit center").click()
    page.wait_for_url(f"{base}/center/")
    assert_accessible(page)
    card = page.locator(f"#besoeg-{visit_id}")
    assert "Erik" in card.inner_text()
    with page.expect_navigation():
        card.get_by_role("button", name="Kom som aftalt").click()
    assert page.get_by_text("Tak, det er registreret.").is_visible()
    assert page.locator(f"#besoeg-{visit_id}").get_by_text("Bekræftet", exact=True).is_visible()
    assert_accessible(page)
    with mail_site.app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.state == VisitState.CONFIRMED
        assert visit.confirmed_by is not None and visit.confirmed_by.email == STAFF_EMAIL


def test_every_administration_page_passes_axe(page, mail_site):
    """Each list and form of the administration, and a form shown again with its errors."""
    base = mail_site.url
    with mail_site.app.app_context():
        coordinator = db.session.scalars(
            select(User).filter_by(email="koordinator@example.org")
        ).one()
        ids = {
            "staff": coordinator.id,
            "centre": db.session.scalars(select(Centre.id).order_by(Centre.id)).first(),
            "org": db.session.scalars(select(Organisation.id).order_by(Organisation.id)).first(),
            "activity": db.session.scalars(
                select(ActivityType.id).order_by(ActivityType.id)
            ).first(),
        }
    _log_in(page, base, "admin@example.org")
    for path in (
        "/admin/personale/",
        "/admin/personale/inviter",
        f"/admin/personale/{ids['staff']}",
        "/admin/centre/",
        f"/admin/centre/{ids['centre']}",
        "/admin/organisationer/",
        "/admin/organisationer/ny",
        f"/admin/organisationer/{ids['org']}",
        "/admin/lokalomraader/",
        "/admin/lokalomraader/ny",
        "/admin/aktiviteter/",
        "/admin/aktiviteter/ny",
        f"/admin/aktiviteter/{ids['activity']}",
    ):
        page.goto(f"{base}{path}")
        assert page.get_by_role("navigation", name="Administration").is_visible(), path
        assert_accessible(page)
    # An invitation without name, email or centre: the errors are listed and linked.
    page.goto(f"{base}/admin/personale/inviter")
    with page.expect_navigation():
        page.get_by_role("button", name="Gem", exact=True).click()
    summary = page.get_by_role("alert")
    assert "Skriv e-mailadressen." in summary.inner_text()
    assert "Skriv personens navn." in summary.inner_text()
    assert_accessible(page)
