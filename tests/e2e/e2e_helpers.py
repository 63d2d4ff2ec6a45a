"""What the browser tests share: logging in, axe-core's WCAG 2.1 A/AA check, keyboard moves,
and reading emails caught by the SMTP sink."""

from __future__ import annotations

import re
from email.message import EmailMessage

from volunteer import demo

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
    ],
    "koordinator@example.org": [
        "/koordinator/",
        "/opgaver/ny",
        "/opgaver/1/frivillige",
        "/opgaver/1/rediger",
        "/koordinator/frivillige",
        "/koordinator/matchning",
        "/koordinator/opgaver",
        "/koordinator/godkendelser",
        "/admin/udbakke/",
        "/rapporter/",
        "/rapporter/status",
    ],
    "bakkegaarden@example.org": ["/center/"],
    "admin@example.org": [
        "/admin/",
        "/admin/planlaegger",
        "/admin/personale/",
        "/admin/centre/",
        "/admin/aktiviteter/",
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
