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
    assert "<caption>Mine ledige tider hver uge</caption>" in page
    assert '<th scope="row">mandag</th>' in page and '<th scope="col">16.00–18.00</th>' in page
    # Each checkbox is named by its label: day and time.
    assert re.search(
        r'<label class="slot" for="slot-0-16">\s*<input[^>]*id="slot-0-16"[^>]*>\s*'
        r'<span class="visually-hidden">mandag 16.00–18.00</span>',
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
