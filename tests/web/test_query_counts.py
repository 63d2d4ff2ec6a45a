"""The number of SQL statements per page is pinned, and does not grow with the needs shown.

Issue #16: the pages logged-in people use most (the needs list, filtered and near a postcode,
a need's page and "Min side") each run a fixed number of statements. A change that adds one
(or an N+1 loop) fails here; if the new number is right, change the pin on purpose.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from support import factories
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import AssignmentState
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers.models import AvailabilityWindow

PAGES = {
    "needs list": "/opgaver/",
    "filtered list": "/opgaver/?aktivitet=spisevenner",
    "near-postcode list": "/opgaver/?postnummer=7130&km=10",
    "need page": "/opgaver/{need}",
    "Min side": "/min-side/",
}

# (page, role) → statements per request, the login's own included.
PINNED = {
    ("needs list", "volunteer"): 5,
    ("filtered list", "volunteer"): 5,
    ("near-postcode list", "volunteer"): 5,
    ("need page", "volunteer"): 14,
    ("Min side", "volunteer"): 9,  # + the volunteer's forløb (#13)
    ("needs list", "coordinator"): 5,
    ("filtered list", "coordinator"): 5,
    ("near-postcode list", "coordinator"): 5,
    ("need page", "coordinator"): 7,
    ("Min side", "coordinator"): 5,
}


def _add_needs(world, count: int) -> None:
    """``count`` more open weekly needs in and around Juelsminde, every third at a centre,
    with a place held on every other one; the volunteer holds one and has its visits."""
    org, activity, centre = world["org"], world["activity"], world["centre"]
    for _ in range(count):
        i = len(world["needs"])
        need = factories.need(
            org,
            activity,
            title=f"Spiseven {i}",
            postcode=("7130", "7140", "8722")[i % 3],
            centre=centre if i % 3 == 0 else None,
            weekday=i % 7,
            start_time=time(9 + i % 10),
            end_time=time(10 + i % 10),
            first_date=date(2026, 1, 1),
            slots=3,
            contact=world["coordinator"],
        )
        sync_occurrences(need, utcnow().date())
        if i % 2:
            factories.assignment(need, factories.user(), AssignmentState.ACCEPTED)
        world["needs"].append(need)
    mine = factories.assignment(world["needs"][-1], world["volunteer"], AssignmentState.ACCEPTED)
    for occurrence in world["needs"][-1].occurrences[:3]:
        factories.visit(occurrence, world["volunteer"], mine)
    db.session.commit()


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    volunteer = factories.user(name="Karen Jensen")
    volunteer.profile.max_km = 30
    volunteer.profile.availability = [
        AvailabilityWindow(weekday=day, start_time=time(8), end_time=time(20)) for day in range(7)
    ]
    world = {
        "org": org,
        "activity": factories.activity_type("spisevenner"),
        "centre": factories.centre(org, "7130", name="Plejecenter Bakkegården"),
        "volunteer": volunteer,
        "coordinator": factories.coordinator(org),
        "needs": [],
    }
    db.session.commit()
    return world


def _counts(client, auth, sql_statements, world, role: str) -> dict[str, int]:
    auth(world[role])
    need = world["needs"][0].id  # at a centre; the same need in both worlds
    return {
        page: len(sql_statements.of(client, url.format(need=need))) for page, url in PAGES.items()
    }


@pytest.mark.parametrize("role", ["volunteer", "coordinator"])
def test_statements_per_page_are_pinned_and_flat(client, auth, sql_statements, world, role):
    _add_needs(world, 3)
    few = _counts(client, auth, sql_statements, world, role)
    _add_needs(world, 27)
    many = _counts(client, auth, sql_statements, world, role)
    assert many == few, "a page runs more statements when it shows more needs (N+1)"
    assert few == {page: PINNED[page, role] for page in PAGES}, few


def test_the_pages_show_the_needs(client, auth, world):
    """The pinned pages are the real ones: the needs are listed, suggested and shown."""
    _add_needs(world, 30)
    auth(world["volunteer"])
    listed = client.get("/opgaver/?aktivitet=spisevenner").get_data(as_text=True)
    assert listed.count('class="need-card') == 20 and "30 aktiviteter" in listed
    near = client.get("/opgaver/?postnummer=7130&km=10").get_data(as_text=True)
    assert near.count('class="need-card') == 10  # the ones in 7130; 7140 and 8722 are further
    home = client.get("/min-side/").get_data(as_text=True)
    assert "Spiseven" in home
