"""Three journeys through staff work and a volunteer's rights, in a real browser, in Danish.

Email goes the way it does in production: jobs write the outbox, ``dispatch_outbox`` delivers it
over SMTP (here to an aiosmtpd sink on 127.0.0.1), and the test follows the link in the message
it received. Every page a user sees is checked with axe-core (WCAG 2.1 A/AA, zero violations).
Jobs run in this process with the real time, like the scheduler would run them.
"""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

from sqlalchemy import select

from e2e_helpers import _log_in, assert_accessible, links_in, plain_text, visit_earlier_today
from support import factories
from volunteer import demo
from volunteer.auth.models import User
from volunteer.catalogue.models import ActivityType, LocalArea, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Schedule
from volunteer.scheduler import run_job
from volunteer.volunteers.models import AvailabilityWindow

COORDINATOR = "koordinator@example.org"
CENTRE_STAFF = "bakkegaarden@example.org"


def _one(model, **where):  # type: ignore[no-untyped-def]
    return db.session.scalars(select(model).filter_by(**where)).one()


def _deliver(site) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Run the outbox dispatch as the scheduler would; everything due must reach the sink."""
    summary = run_job(site.app, "dispatch_outbox")
    assert summary["connection_errors"] == 0 and summary["sent"] == summary["claimed"], summary
    return summary


# 1. Coordinator → matching (queued, solved by the worker) → email → volunteer accepts


def _homework_helper() -> str:
    """A volunteer in Barrit (where the demo has no homework café) who fits the new need
    exactly: free Wednesday afternoons, a valid child certificate, living at the need's place
    (0 km, so the engine's least-travel choice is always them). Returns the email."""
    kommune = _one(Organisation, name="Hedensted Kommune")
    lektiecafe = _one(ActivityType, code="lektiecafe")
    person = factories.user(
        postcode="7150", email="sofie.lektiesen@example.org", name="Sofie Lektiesen"
    )
    profile = person.profile
    profile.local_area = _one(LocalArea, postcode="7150")
    profile.max_km = 10
    profile.weekly_capacity = 2
    profile.interests = [lektiecafe]
    profile.organisations = [kommune]
    profile.availability = [AvailabilityWindow(weekday=2, start_time=time(14), end_time=time(18))]
    profile.child_cert_checked_on = date.today() - timedelta(days=30)
    profile.child_cert_valid_until = date.today() + timedelta(days=700)
    db.session.commit()
    return person.email


def test_coordinator_posts_a_weekly_lektiecafe_and_the_matched_volunteer_accepts_by_email(
    page, mail_site, smtp_sink
):
    base = mail_site.url
    with mail_site.app.app_context():
        volunteer_email = _homework_helper()
    title = "Lektiecafé i Barrit Forsamlingshus"

    # The coordinator posts the need through the form.
    _log_in(page, base, COORDINATOR, check=True)
    page.goto(f"{base}/opgaver/ny")
    assert page.get_by_role("heading", level=1).inner_text() == "Ny opgave"
    assert_accessible(page)
    page.get_by_label("Organisation").select_option(label="Hedensted Kommune")
    page.get_by_label("Aktivitet").select_option(label="Lektiecafé")
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Beskrivelse").fill("Hjælp elever i 4.–7. klasse med lektierne.")
    page.get_by_label("Sted").select_option(label="Et andet sted (skriv postnummeret)")
    page.get_by_label("Postnummer").fill("7150")
    page.get_by_label("Lokalområde").select_option(label="Barrit")
    page.get_by_label("Hver uge").check()
    page.get_by_label("Ugedag").select_option(label="Onsdag")
    page.get_by_label("Dato, eller første dato").fill(date.today().isoformat())
    page.get_by_label("Fra", exact=True).fill("15:00")
    page.get_by_label("Til", exact=True).fill("17:00")
    page.get_by_label("Antal frivillige, der søges").fill("1")
    page.get_by_label("Børneattest påkrævet").check()
    page.get_by_role("button", name="Gem og åbn for frivillige").click()
    page.wait_for_url(lambda url: not url.endswith("/opgaver/ny"))
    assert_accessible(page)
    with mail_site.app.app_context():
        need = _one(Need, title=title)
        need_id = need.id
        assert (need.schedule, need.status, need.weekday) == (Schedule.WEEKLY, NeedStatus.OPEN, 2)
        assert need.requires_child_certificate and need.local_area.name == "Barrit"

    # Matching for homework cafés in Barrit: only the new need, and Sofie is the proposal.
    page.goto(f"{base}/koordinator/matchning")
    assert_accessible(page)
    page.get_by_label("Organisation").select_option(label="Hedensted Kommune")
    page.get_by_label("Lokalområde").select_option(label="Barrit")
    page.get_by_label("Aktivitet").select_option(label="Lektiecafé")
    page.get_by_role("button", name="Kør matchning").click()
    # The button only queues the run; its page follows it while the worker solves it.
    page.wait_for_url(re.compile(r"/koordinator/matchning/\d+/status$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Matchningskørsel"
    panel = page.locator("#koersel[aria-live='polite']")
    assert panel.locator("[aria-current='step']").inner_text().startswith("I kø")
    assert_accessible(page)
    assert run_job(mail_site.app, "matching_runs") == {"stale": 0, "done": 1, "failed": 0}
    # No reload: the page's script shows the news within a few seconds.
    see_proposals = panel.get_by_role("link", name="Se forslagene")
    see_proposals.wait_for(timeout=15_000)
    figures = panel.locator("dl").inner_text()
    assert "Nye forslag\n1" in figures and "bedst mulige resultat" in figures, figures
    assert_accessible(page)
    with page.expect_navigation():
        see_proposals.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Forslag fra matchningen"
    assert_accessible(page)
    proposal = page.locator(f"section[aria-labelledby='behov-{need_id}']")
    chosen = proposal.get_by_role("checkbox", name="Sofie Lektiesen")
    assert chosen.is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Godkend de valgte og invitér dem").click()
    assert page.get_by_text("1 frivillige er inviteret på e-mail.").is_visible()
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ud").click()
    assert page.get_by_text("Du er logget ud.").is_visible()
    assert_accessible(page)

    # The invitation goes out through the real outbox dispatch, over SMTP.
    _deliver(mail_site)
    (invitation,) = smtp_sink.to(volunteer_email)
    text = plain_text(invitation)
    assert "Kære Sofie" in text and title in text, text
    (link,) = links_in(text, base)
    assert link == f"{base}/opgaver/{need_id}"

    # The volunteer logs in, follows the link from the email and says yes.
    _log_in(page, base, volunteer_email, factories.PASSWORD, check=True)
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Ja, jeg tager den").click()
    assert page.get_by_text("Du har sagt ja. Tak! Dine datoer står på Min side.").is_visible()
    assert_accessible(page)

    page.goto(f"{base}/min-side/besoeg")
    assert page.get_by_role("heading", level=1).inner_text() == "Mine besøg"
    assert_accessible(page)
    activities = page.get_by_role("region", name="Mine aktiviteter")
    mine = activities.get_by_role("listitem").filter(has_text=title)
    assert mine.is_visible()
    assert "Hver onsdag kl. 15.00–17.00" in mine.inner_text(), mine.inner_text()
    assert "Accepteret" in mine.inner_text() and "Barrit" in mine.inner_text()
    visits = page.get_by_role("region", name="Kommende besøg")
    assert visits.get_by_role("heading", name=title).first.is_visible()
    with mail_site.app.app_context():
        assignment = _one(Assignment, need_id=need_id)
        assert assignment.state == AssignmentState.ACCEPTED
        assert assignment.volunteer.email == volunteer_email


# 2. Centre staff confirm today's visit from the morning digest, on a tablet


def _came_link(digest: str, title: str, base: str) -> str:
    """The digest's "Kom som aftalt:" link for the visit to ``title``."""
    lines = digest.splitlines()
    (at,) = [i for i, line in enumerate(lines) if title in line]
    assert "Ingrid" in lines[at], lines[at]
    came = lines[at + 1].strip()
    assert came.startswith("Kom som aftalt: "), came
    (link,) = links_in(came, base)
    return link


def test_centre_staff_confirm_todays_visit_from_the_morning_digest_on_a_tablet(
    tablet_page, mail_site, smtp_sink
):
    page, base = tablet_page, mail_site.url
    with mail_site.app.app_context():
        title = "Højtlæsning i dagligstuen"
        visit_id = visit_earlier_today(
            "Plejecenter Bakkegården", "ingrid.oplaeser@example.org", "Ingrid Oplæser", title
        )

    summary = run_job(mail_site.app, "centre_digest")
    assert summary["messages"] >= 1, summary
    _deliver(mail_site)
    (digest,) = smtp_sink.to(CENTRE_STAFF)
    text = plain_text(digest)
    assert text.startswith("Kære Lise"), text
    link = _came_link(text, title, base)
    assert "/center/link/" in link

    # GET only shows what will happen.
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Bekræft besøget"
    assert "Ingrid" in page.locator("main").inner_text()
    assert page.get_by_label("Timer").input_value() in ("1", "1.0", "1.00")
    assert_accessible(page)
    with mail_site.app.app_context():
        assert db.session.get(Visit, visit_id).state == VisitState.SCHEDULED

    # The POST from that page records it.
    with page.expect_navigation():
        page.get_by_role("button", name="Ja, registrér det").tap()
    assert page.get_by_role("heading", level=1).inner_text() == "Tak"
    main = page.locator("main")
    assert "Det er registreret." in main.inner_text()
    assert main.get_by_text("Bekræftet", exact=True).is_visible()
    assert_accessible(page)
    with mail_site.app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.state == VisitState.CONFIRMED
        assert visit.hours == 1.0
        assert visit.confirmed_by is not None and visit.confirmed_by.email == CENTRE_STAFF

    # From there to the centre's own page, which asks them to log in first.
    page.get_by_role("link", name="Se alle besøg på mit center").tap()
    page.wait_for_url(re.compile(r"/konto/log-ind"))
    assert_accessible(page)
    page.get_by_label("E-mail").fill(CENTRE_STAFF)
    page.get_by_label("Adgangskode").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log ind").last.tap()
    page.wait_for_url(re.compile(r"/center/$"))
    card = page.locator(f"#besoeg-{visit_id}")
    assert "Ingrid" in card.inner_text()
    assert card.get_by_text("Bekræftet", exact=True).is_visible()
    assert_accessible(page)


# 3. A volunteer downloads their data and deletes their account


def test_volunteer_downloads_their_data_deletes_the_account_and_cannot_log_in_again(
    page, mail_site
):
    base = mail_site.url
    email, name = "jonas.dataskov@example.org", "Jonas Dataskov"
    with mail_site.app.app_context():
        person = factories.user(email=email, name=name, postcode="8722")
        person.profile.organisations = [_one(Organisation, name="Hedensted Kommune")]
        db.session.commit()
        user_id = person.id

    _log_in(page, base, email, factories.PASSWORD, check=True)
    page.goto(f"{base}/min-side/mine-data")
    assert page.get_by_role("heading", level=1).inner_text() == "Mine data"
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Hent mine data (JSON-fil)").click()
    download = download_info.value
    assert download.suggested_filename == "samskab-mine-data.json"
    with open(download.path(), encoding="utf-8") as fh:
        exported = fh.read()
    data = json.loads(exported)
    assert email in exported and name in exported
    assert data  # a real document, not an empty one

    page.get_by_role("link", name="Slet min konto").click()
    page.wait_for_url(f"{base}/min-side/slet-konto")
    assert page.get_by_role("heading", level=1).inner_text() == "Slet min konto"
    assert_accessible(page)
    page.get_by_label("Adgangskode").fill(factories.PASSWORD)
    page.get_by_role("button", name="Slet min konto").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_text("Din konto og dine personoplysninger er slettet.").is_visible()
    assert page.get_by_role("link", name="Log ind").first.is_visible()
    assert_accessible(page)

    # The old email and password no longer open anything.
    page.goto(f"{base}/konto/log-ind")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(factories.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").last.click()
    assert page.url.startswith(f"{base}/konto/log-ind")
    assert "Forkert e-mail eller adgangskode." in page.get_by_role("alert").inner_text()
    assert page.get_by_text("Forkert e-mail eller adgangskode.", exact=True).is_visible()
    assert_accessible(page)
    page.goto(f"{base}/min-side/")
    assert "/konto/log-ind" in page.url
    assert_accessible(page)
    with mail_site.app.app_context():
        gone = db.session.get(User, user_id)
        assert gone.deleted_at is not None and gone.email != email and gone.name != name
        assert db.session.scalar(select(User).where(User.email == email)) is None


# 4. Coordinator: from the front page, through the main menu, to a volunteer and the matching


def test_coordinator_finds_a_volunteer_by_name_and_the_matching_from_the_main_menu(page, mail_site):
    base = mail_site.url
    with mail_site.app.app_context():
        person = factories.user(
            postcode="7130",
            email="aase.oebro@example.org",
            name="Åse Øbro",
            phone="+45 26 11 22 33",
        )
        person.profile.organisations = [_one(Organisation, name="Hedensted Kommune")]
        db.session.commit()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/")
    assert_accessible(page)
    page.get_by_role("link", name="Log ind").first.click()
    page.wait_for_url(re.compile(r"/konto/log-ind"))
    page.get_by_label("E-mail").fill(COORDINATOR)
    page.get_by_label("Adgangskode").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log ind").last.click()
    page.wait_for_url(lambda url: "/konto/log-ind" not in url)

    menu = page.get_by_role("navigation", name="Hovedmenu")

    def no_sideways_scroll() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (page.url, width)

    # The start page says what needs attention, and every tool is in the menu at 390 px.
    menu.get_by_role("link", name="Start").click()
    page.wait_for_url(f"{base}/koordinator/")
    assert menu.get_by_role("link", name="Start").get_attribute("aria-current") == "page"
    assert page.get_by_role("heading", name="Det kræver din opmærksomhed").is_visible()
    for label in ("Opgaver", "Matchning", "Frivillige", "Rapporter", "Udbakke"):
        assert menu.get_by_role("link", name=label, exact=True).is_visible(), label
    no_sideways_scroll()
    assert_accessible(page)

    # The volunteers, searched by name (in lower case, without the capitals' æøå).
    menu.get_by_role("link", name="Frivillige", exact=True).click()
    page.wait_for_url(f"{base}/koordinator/frivillige")
    assert_accessible(page)
    page.get_by_label("Søg").fill("åse øbro")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url(re.compile(r"/koordinator/frivillige\?.*q="))
    assert page.get_by_role("status").inner_text() == "1 frivillig"
    no_sideways_scroll()
    assert_accessible(page)
    page.get_by_role("link", name="Åse Øbro").click()
    page.wait_for_url(re.compile(r"/koordinator/frivillige/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Åse Øbro"
    assert page.get_by_role("link", name="+45 26 11 22 33").is_visible()
    assert page.get_by_role("heading", name="Aktiviteter nu").is_visible()
    assert (
        menu.get_by_role("link", name="Frivillige", exact=True).get_attribute("aria-current")
        == "true"
    )
    assert_accessible(page)

    # The matching, from the menu.
    menu.get_by_role("link", name="Matchning").click()
    page.wait_for_url(f"{base}/koordinator/matchning")
    assert page.get_by_role("button", name="Kør matchning").is_visible()
    no_sideways_scroll()
    assert_accessible(page)
