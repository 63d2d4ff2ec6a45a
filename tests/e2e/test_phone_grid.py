"""A volunteer on a phone (390 CSS pixels, touch) fills the weekly grid with a thumb: every day's
evening blocks are on screen without scrolling sideways, every toggle is at least 44×44 px, the
unticked boxes have at least 3:1 contrast, and axe finds nothing."""

from __future__ import annotations

from e2e_helpers import _log_in, assert_accessible

WIDTH = 390  # the ``phone`` fixture's width (tests/e2e/conftest.py)

# The contrast of a box's border against the toggle behind it, as WCAG computes it.
CONTRAST = """(input) => {
  const rgb = (text) => text.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const border = lum(rgb(getComputedStyle(input).borderTopColor));
  const behind = lum(rgb(getComputedStyle(input.closest('label')).backgroundColor));
  const [hi, lo] = [Math.max(border, behind), Math.min(border, behind)];
  return (hi + 0.05) / (lo + 0.05);
}"""


def test_a_volunteer_fills_the_weekly_grid_by_touch_at_390_px(phone, live_server):
    page = phone
    _log_in(page, live_server, "frivillig@example.org")
    page.goto(f"{live_server}/min-side/tider")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    slots = page.locator("label.slot")
    assert slots.count() == 7 * 7
    for i in range(slots.count()):
        box = slots.nth(i).bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, i
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, i  # not off to the side

    unticked = page.locator("input[name=slot]:not(:checked)").first
    assert unticked.evaluate(CONTRAST) >= 3

    # Tuesday and Thursday evenings (the meal friends eat 17.30–19.00): on, Monday morning off.
    wanted = {"tirsdag 16.00–18.00", "tirsdag 18.00–20.00", "torsdag 18.00–20.00"}
    for name in sorted(wanted) + ["mandag 08.00–10.00"]:
        box = page.get_by_role("checkbox", name=name, exact=True)
        box.scroll_into_view_if_needed()
        if box.is_checked() != (name in wanted):
            label = page.locator(f"label[for='{box.get_attribute('id')}']")
            label.tap()  # the thumb lands on the toggle, not on the small box inside it
        assert box.is_checked() == (name in wanted), name
    assert page.locator("label.slot:has(:checked)").first.evaluate(
        "(l) => getComputedStyle(l).fontWeight"
    ) in ("700", "bold")
    with page.expect_navigation():
        page.get_by_role("button", name="Gem mine tider").tap()
    assert page.get_by_text("Dine tider er gemt.").is_visible()
    for name in wanted:
        assert page.get_by_role("checkbox", name=name, exact=True).is_checked()
    assert not page.get_by_role("checkbox", name="mandag 08.00–10.00", exact=True).is_checked()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_show_my_data_reads_on_a_phone(phone, live_server):
    """'Vis mine data' at 390 px: readable sections, no sideways scrolling, axe finds nothing,
    and the JSON file still downloads."""
    page = phone
    _log_in(page, live_server, "frivillig@example.org")
    page.goto(f"{live_server}/min-side/mine-data/vis")
    assert page.get_by_role("heading", name="Dig og din profil").is_visible()
    assert page.get_by_role("heading", name="Dine besøg").is_visible()
    assert "Karen Jensen" in page.locator("#profil").locator("..").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent mine data (JSON-fil)").tap()
    assert download.value.suggested_filename == "samskab-mine-data.json"
