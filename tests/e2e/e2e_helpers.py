"""What the browser tests share: logging in, axe-core's WCAG 2.1 A/AA check, keyboard moves,
and reading emails caught by the SMTP sink."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from support import factories
from volunteer import demo
from volunteer.catalogue.models import ActivityType, Centre, Organisation
from volunteer.centres.models import Visit
from volunteer.clock import local_to_utc, to_local
from volunteer.coordination.models import Assignment, AssignmentSource, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Occurrence, Schedule

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


# The pages each kind of user is checked on (axe, reflow), by demo login (None: anonymous).
PAGES = {
    None: [
        "/",
        "/opgaver/",
        "/opgaver/?postnummer=7130&km=10",
        "/opgaver/1",
        "/konto/opret",
        "/konto/log-ind",
        "/konto/glemt-adgangskode",
        "/om",
        "/privatliv",
        "/tilgaengelighed",
        "/henvisning",
        "/konto/aktiver",
        # The demo's proposals: 1 is the walking club in Løsning (Karen's), 4 adopted, 5 her draft.
        "/forslag",
        "/forslag/1",
        # 6 waits in Tørring's vote; 7 was adopted and granted from Juelsminde's fund.
        "/forslag/6",
        "/forslag/7",
        "/puljer",
        "/puljer/1",
    ],
    "frivillig@example.org": [
        "/min-side/",
        "/min-side/oplysninger",
        "/min-side/tider",
        "/min-side/besoeg",
        "/min-side/fravaer",
        "/min-side/kalender",
        "/min-side/mine-data",
        "/min-side/historik",
        "/min-side/historik/bevis",
        "/min-side/slet-konto",
        "/min-side/mine-data/vis",
        "/konto/",
        # Karen's forløb with Inga Holm (the demo's first forløb).
        "/min-side/forloeb/1",
        "/forslag/nyt",
        "/forslag/1",
        "/forslag/1/rediger",
        "/forslag/5",
    ],
    "koordinator@example.org": [
        "/koordinator/",
        "/opgaver/ny",
        "/opgaver/1/frivillige",
        "/opgaver/1/rediger",
        "/koordinator/frivillige",
        "/koordinator/frivillige/ny",
        "/koordinator/matchning",
        "/koordinator/opgaver",
        "/koordinator/godkendelser",
        # The demo's first person (Edith Gram, a meal friend) and its one referral are the
        # municipality's.
        "/koordinator/borgere",
        "/koordinator/borgere/ny",
        "/koordinator/borgere/1",
        "/koordinator/borgere/1/rediger",
        "/koordinator/borgere/1/data",
        "/koordinator/henvisninger",
        "/koordinator/henvisninger/1",
        # Candidates for Edith Gram, the forløb list and the demo's municipal forløb (Poul Riis).
        "/koordinator/borgere/1/kandidater",
        "/koordinator/forloeb",
        "/koordinator/forloeb/2",
        # Else Uden Mail, the account the coordinator keeps for someone without email
        # (volunteer/demo.py ``_kept_account``; tests/db/test_demo_history.py pins the id).
        "/koordinator/frivillige/57",
        "/koordinator/frivillige/57/tider",
        "/koordinator/frivillige/57/tilmeld",
        "/admin/udbakke/",
        "/rapporter/",
        "/rapporter/status",
        "/koordinator/forslag",
        "/forslag/1",
        "/forslag/1/svar",
        "/forslag/4/opgave",
        "/forslag/4/aktivitet",
        "/forslag/6/svar",
    ],
    "bakkegaarden@example.org": ["/center/"],
    "admin@example.org": [
        "/admin/",
        "/admin/planlaegger",
        "/admin/personale/",
        "/admin/centre/",
        "/admin/aktiviteter/",
        "/admin/login",
        "/konto/to-faktor",
        "/puljer/ny",
    ],
}


def _log_in(
    page, base: str, email: str, password: str = demo.DEMO_PASSWORD, *, check: bool = False
) -> None:
    """Log in through the form; with ``check``, both the form and the page it leads to must
    pass axe-core."""
    page.goto(f"{base}/konto/log-ind")
    if check:
        assert_accessible(page)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").last.click()
    page.wait_for_url(lambda url: "/konto/log-ind" not in url)
    if check:
        assert_accessible(page)


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def assert_accessible(page) -> None:
    """Zero WCAG 2.1 A/AA violations on the page as it is now."""
    problems = _violations(page)
    assert not problems, (page.url, problems)


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None, message["Subject"]
    return body.get_content()


def links_in(text: str, base: str) -> list[str]:
    """Every link in ``text`` that points at the site ``base``."""
    return re.findall(re.escape(base) + r"/\S+", text)


def visit_earlier_today(centre_name: str, email: str, name: str, title: str) -> int:
    """A one-off besøgsven visit at the demo centre that started earlier today (local time),
    by a new volunteer, accepted; inside an app context. Returns the visit's id."""
    now = to_local(datetime.now(UTC))
    today = now.date()
    midnight = datetime.combine(today, time(0), tzinfo=now.tzinfo)
    start = max(now - timedelta(hours=2), midnight).replace(second=0, microsecond=0)
    end = start + timedelta(hours=1)  # the same day: the start is at most 21.59
    centre = db.session.scalars(select(Centre).filter_by(name=centre_name)).one()
    kommune = db.session.scalars(select(Organisation).filter_by(name="Hedensted Kommune")).one()
    activity = db.session.scalars(select(ActivityType).filter_by(code="besoegsven")).one()
    volunteer = factories.user(email=email, name=name)
    need = factories.need(
        kommune,
        activity,
        title=title,
        centre=centre,
        schedule=Schedule.ONCE,
        weekday=today.weekday(),
        start_time=start.time(),
        end_time=end.time(),
        first_date=today,
        last_date=today,
        skip_holidays=False,
        slots=1,
    )
    occurrence = Occurrence(
        need=need,
        starts_at=local_to_utc(today, need.start_time),
        ends_at=local_to_utc(today, need.end_time),
    )
    assignment = Assignment(
        need=need,
        volunteer=volunteer,
        state=AssignmentState.ACCEPTED,
        source=AssignmentSource.MANUAL,
        responded_at=datetime.now(UTC),
    )
    visit = Visit(occurrence=occurrence, volunteer=volunteer, assignment=assignment)
    db.session.add_all([occurrence, assignment, visit])
    db.session.commit()
    return visit.id
