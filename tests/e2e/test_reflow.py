"""WCAG 2.1 1.4.10 Reflow (AA), which axe-core cannot check: at 320 CSS pixels wide (a phone, or
a desktop zoomed to 400 %) every main page reads without scrolling sideways. Data tables may
scroll inside their own box; the page itself may not."""

from __future__ import annotations

import pytest

from e2e_helpers import PAGES, _log_in

# The page is wider than the window: something forces sideways scrolling.
OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth + 1) return [];
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
    .filter(el => !el.closest('.table-responsive'))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''));
}"""


@pytest.fixture
def narrow_page(browser, request):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="da-DK")
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("who", list(PAGES), ids=lambda who: who or "anonymous")
def test_pages_reflow_at_320_css_pixels(narrow_page, live_server, who):
    page = narrow_page
    if who:
        _log_in(page, live_server, who)
    wide = {}
    for path in PAGES[who]:
        response = page.goto(live_server + path)
        assert response is not None and response.status < 400, path
        culprits = page.evaluate(OVERFLOW)
        if culprits:
            wide[path] = culprits
    assert not wide, wide
