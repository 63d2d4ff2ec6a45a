"""Every main page, for each kind of user, passes axe-core's WCAG 2.1 A/AA rules: zero
violations. Danish public sites must meet WCAG 2.1 AA by law."""

from __future__ import annotations

import pytest

from e2e_helpers import PAGES, _log_in, _violations


@pytest.mark.parametrize("who", list(PAGES), ids=lambda who: who or "anonymous")
def test_pages_have_no_wcag_violations(page, live_server, who):
    if who:
        _log_in(page, live_server, who)
    found = {}
    for path in PAGES[who]:
        response = page.goto(live_server + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        problems = _violations(page)
        if problems:
            found[path] = problems
    assert not found, found


def test_form_errors_are_accessible(page, live_server):
    page.goto(f"{live_server}/konto/opret")
    page.get_by_role("button", name="Opret min konto").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Skriv dit navn.").first.is_visible()
    assert not _violations(page)
