"""A new volunteer's first visit, with the keyboard only, ending in what they see."""

from __future__ import annotations

from e2e_helpers import _tab_to, assert_accessible, links_in, plain_text
from volunteer.scheduler import run_job


def test_register_confirm_the_address_fill_the_grid_by_keyboard_and_find_a_spiseven(
    page, mail_site, smtp_sink
):
    live_server = mail_site.url
    page.goto(f"{live_server}/konto/opret")
    _tab_to(page, "#name")
    page.keyboard.type("Birthe Bach")
    page.keyboard.press("Tab")
    page.keyboard.type("birthe@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("7130")
    page.keyboard.press("Tab")
    page.keyboard.type("solsikke-havn-cykel")
    page.keyboard.press("Tab")
    page.keyboard.type("solsikke-havn-cykel")
    _tab_to(page, "#consent")
    page.keyboard.press("Space")
    _tab_to(page, "button[type=submit]:not(header button)")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/min-side/")
    assert page.get_by_role("heading", level=1).inner_text() == "Min side"
    # Until the address is confirmed, every page says so and offers a new link.
    banner = page.get_by_role("region", name="Bekræft din e-mailadresse")
    assert "birthe@example.org" in banner.inner_text()
    assert_accessible(page)
    run_job(mail_site.app, "dispatch_outbox")
    (welcome,) = smtp_sink.to("birthe@example.org")
    assert welcome["Subject"] == "Bekræft din e-mailadresse til Samskab"
    (link,) = links_in(plain_text(welcome), live_server)
    page.goto(link)
    page.get_by_role("button", name="Ja, det er min adresse").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Tak! birthe@example.org er bekræftet." in page.content()
    assert banner.count() == 0

    page.goto(f"{live_server}/min-side/tider")
    # Tuesday and Thursday evenings: when the demo's meal friends eat (17.30–19.00).
    for day in (1, 3):
        for start in ("16", "18"):
            _tab_to(
                page,
                f"input[name=slot][value='{day}-{start}:00:00'], "
                f"input[name=slot][value^='{day}-{start}']",
            )
            page.keyboard.press("Space")
    _tab_to(page, "form button[type=submit]:not(header button)")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("checkbox", name="torsdag 18.00–20.00").is_checked()

    page.goto(f"{live_server}/opgaver/?aktivitet=spisevenner&postnummer=7130&km=10")
    first = page.locator(".need-card h3 a").first
    assert (
        "Spiseven" in first.inner_text()
        and "Juelsminde" in page.locator(".need-card").first.inner_text()
    )
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Eligible: a sign-up button (or, when it is full, the waiting list) and no "cannot".
    signup = page.get_by_role("button", name="Tilmeld mig").or_(
        page.get_by_role("button", name="Skriv mig på ventelisten")
    )
    assert signup.is_visible()
    assert "Du kan ikke melde dig" not in page.content()
