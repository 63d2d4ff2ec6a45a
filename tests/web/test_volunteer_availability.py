"""The weekly availability grid: labelled checkboxes, merged windows, round trip."""

from __future__ import annotations

import re
from datetime import time

import pytest
from sqlalchemy import select

from support import factories
from support.auth import log_in
from volunteer.extensions import db
from volunteer.models import AvailabilityWindow
from volunteer.volunteers.services import merge_blocks


@pytest.mark.parametrize(
    ("slots", "windows"),
    [
        ([], []),
        ([(0, 16)], [(0, time(16), time(18))]),
        ([(0, 10), (0, 12), (0, 14)], [(0, time(10), time(16))]),
        ([(0, 8), (0, 12)], [(0, time(8), time(10)), (0, time(12), time(14))]),
        ([(2, 20), (1, 20), (2, 18)], [(1, time(20), time(22)), (2, time(18), time(22))]),
        ([(6, 8), (6, 8)], [(6, time(8), time(10))]),
    ],
)
def test_adjacent_blocks_merge_into_one_window(slots, windows):
    assert merge_blocks(slots) == windows


def _windows(profile_id: int) -> list[tuple[int, time, time]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(AvailabilityWindow)
        .where(AvailabilityWindow.profile_id == profile_id)
        .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_time)
    )
    return [(w.weekday, w.start_time, w.end_time) for w in rows]


def test_the_grid_saves_merged_windows_and_shows_them_again(client):
    volunteer = factories.user()
    profile_id = volunteer.profile.id
    log_in(client, volunteer)
    page = client.get("/min-side/tider").get_data(as_text=True)
    assert '<legend class="h5">Mine ledige tider hver uge</legend>' in page
    # Each checkbox is named by its label: day and time.
    assert re.search(
        r'<label class="slot" for="slot-0-16">\s*<input[^>]*id="slot-0-16"[^>]*>\s*'
        r'<span class="slot-time"><span class="visually-hidden">mandag </span>16.00–<wbr>18.00',
        page,
    )
    slots = ["0-16", "0-18", "3-10", "3-14", "6-20"]
    response = client.post("/min-side/tider", data={"slot": slots}, follow_redirects=True)
    assert "Dine tider er gemt." in response.get_data(as_text=True)
    assert _windows(profile_id) == [
        (0, time(16), time(20)),
        (3, time(10), time(12)),
        (3, time(14), time(16)),
        (6, time(20), time(22)),
    ]
    page = client.get("/min-side/tider").get_data(as_text=True)
    checked = set(re.findall(r'<input[^>]*value="(\d-\d+)" checked>', page))
    assert checked == set(slots)

    # Saving again replaces the old set (no duplicates, no leftovers), also when it overlaps.
    client.post("/min-side/tider", data={"slot": ["0-16", "1-8"]})
    assert _windows(profile_id) == [(0, time(16), time(18)), (1, time(8), time(10))]
    client.post("/min-side/tider", data={})
    assert _windows(profile_id) == []


@pytest.mark.parametrize("bad", ["7-10", "0-9", "x-10", "0-", "-1-10"])
def test_crafted_slots_are_refused_and_nothing_changes(client, bad):
    volunteer = factories.user()
    log_in(client, volunteer)
    client.post("/min-side/tider", data={"slot": ["2-10"]})
    response = client.post("/min-side/tider", data={"slot": ["0-16", bad]}, follow_redirects=True)
    assert "Noget i formularen var forkert" in response.get_data(as_text=True)
    assert _windows(volunteer.profile.id) == [(2, time(10), time(12))]


def test_windows_off_the_grid_show_only_the_blocks_they_cover(client):
    volunteer = factories.user()
    volunteer.profile.availability = [
        AvailabilityWindow(weekday=1, start_time=time(9), end_time=time(12))
    ]
    db.session.commit()
    log_in(client, volunteer)
    page = client.get("/min-side/tider").get_data(as_text=True)
    assert set(re.findall(r'value="(\d-\d+)" checked', page)) == {"1-10"}
    assert "tirsdag 09.00–12.00" in page


def test_staff_have_no_availability_page(client):
    log_in(client, factories.user(role="coordinator"))
    assert client.get("/min-side/tider").status_code == 403


def test_the_grid_is_a_row_per_day_with_every_block_labelled(client):
    """No table to scroll sideways: each day is a labelled group holding all seven blocks, the
    evening ones too, each a checkbox whose label shows its time and names its day."""
    volunteer = factories.user()
    log_in(client, volunteer)
    page = client.get("/min-side/tider").get_data(as_text=True)
    assert "table-responsive" not in page and "<table" not in page
    days = re.findall(
        r'<div class="day" role="group" aria-labelledby="dag-(\d)">\s*'
        r'<p class="day-name" id="dag-\1">(\w+)</p>(.*?)</div>\s*</div>',
        page,
        re.S,
    )
    names = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
    assert [name for _, name, _ in days] == names
    for day, name, blocks in days:
        labels = re.findall(
            r'<label class="slot" for="slot-(\d)-(\d+)">\s*<input class="form-check-input" '
            r'type="checkbox" name="slot" id="slot-\1-\2" value="\1-\2">\s*'
            r'<span class="slot-time"><span class="visually-hidden">(\w+) </span>'
            r"(\d\d\.\d\d)–<wbr>(\d\d\.\d\d)</span>",
            blocks,
        )
        assert [(d, start, who) for d, start, who, *_ in labels] == [
            (day, str(start), name) for start in (8, 10, 12, 14, 16, 18, 20)
        ]
        assert labels[-2][3:] == ("18.00", "20.00") and labels[-1][3:] == ("20.00", "22.00")


def test_checkbox_borders_have_3_to_1_contrast():
    """WCAG 1.4.11: the unticked box's border against the white page (Bootstrap's default grey
    is about 1.3:1), and the toggles' own border."""
    from volunteer.config import PROJECT_ROOT

    css = (PROJECT_ROOT / "static" / "css" / "samskab.css").read_text()

    def rule(selector: str) -> str:
        return css.split(selector + " {", 1)[1].split("}", 1)[0]

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for selector in ("\n.form-check-input", ".availability-grid .slot"):
        colour = re.search(r"border: 2px solid (#[0-9a-f]{6});", rule(selector)).group(1)
        ratio = (1.05) / (luminance(colour) + 0.05)
        assert ratio >= 3, (selector, colour, ratio)
