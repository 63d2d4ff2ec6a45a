"""Coordinators can find their tools (issue 12): the main menu by role, the start page with
what needs attention, searching the volunteers, a volunteer's page and a need's names."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from support import count_queries, factories
from support.factories import assignment, coordinator, member, occurrence, visit
from volunteer.clock import local_day_bounds
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import AssignmentState, NeedStatus, Role, VisitState

MENU = re.compile(r'<nav aria-label="Hovedmenu"[^>]*>(.*?)</nav>', re.S)


def _menu(client, url: str) -> dict[str, str]:
    """The main menu's links on ``url``: label → the <a> tag's attributes."""
    page = client.get(url).get_data(as_text=True)
    (nav,) = MENU.findall(page)
    return {label: attrs for attrs, label in re.findall(r"<a ([^>]*)>([^<]+)</a>", nav)}


STAFF_MENU = {
    "Start",
    "Opgaver",
    "Matchning",
    "Frivillige",
    "Borgere",
    "Forslag",
    "Rapporter",
    "Udbakke",
}
VOLUNTEER_MENU = {"Find en aktivitet", "Min side", "Mine besøg", "Forslag"}


@pytest.mark.parametrize(
    ("role", "url", "expected"),
    [
        (None, "/", {"Find en aktivitet", "Bed om en besøgsven", "Forslag"}),
        (Role.VOLUNTEER, "/min-side/", VOLUNTEER_MENU),
        (Role.COORDINATOR, "/koordinator/", STAFF_MENU),
        (Role.ADMIN, "/admin/", STAFF_MENU | {"Administration"}),
        (Role.CENTRE, "/center/", {"Besøg på mit center", "Forslag"}),
    ],
)
def test_the_main_menu_shows_each_role_its_own_tools(client, auth, role, url, expected):
    if role is not None:
        auth(factories.user(role=role))
    menu = _menu(client, url)
    assert set(menu) == expected


def test_the_menu_marks_the_current_page_and_its_section(client, auth):
    org = factories.organisation()
    need = factories.need(org, factories.activity_type())
    volunteer = member(org)
    auth(coordinator(org))
    menu = _menu(client, "/koordinator/frivillige")
    assert 'aria-current="page"' in menu["Frivillige"]
    assert not any("aria-current" in a for label, a in menu.items() if label != "Frivillige")
    assert 'href="/koordinator/matchning"' in menu["Matchning"]
    assert (
        'aria-current="true"'
        in _menu(client, f"/koordinator/frivillige/{volunteer.id}")["Frivillige"]
    )
    assert 'aria-current="true"' in _menu(client, f"/opgaver/{need.id}/frivillige")["Opgaver"]


def test_the_needs_list_moved_to_its_own_page(client, auth):
    org = factories.organisation()
    need = factories.need(org, factories.activity_type(), title="Spiseven i Løsning")
    auth(coordinator(org))
    page = client.get("/koordinator/opgaver").get_data(as_text=True)
    assert "<h1>Opgaver</h1>" in page
    assert f'href="/opgaver/{need.id}/frivillige">Spiseven i Løsning</a>' in page


# The start page.


def _section(page: str, kind: str) -> str:
    match = re.search(rf'<section[^>]*data-attention="{kind}">(.*?)</section>', page, re.S)
    assert match, kind
    return match.group(1)


def _count(section: str) -> int:
    return int(re.search(r'<span class="badge[^"]*">(\d+)</span>', section).group(1))


def _attention_world(org, now, tag: str):
    """One item of each kind for ``org``, titled with ``tag``; and what must stay out."""
    activity = factories.activity_type()
    soon, later = now + timedelta(days=2), now + timedelta(days=9)
    # Needs without helpers: free places and a date ahead; the sooner one first.
    later_need = factories.need(org, activity, title=f"{tag} senere", next_starts_at=later)
    occurrence(later_need, later)
    soon_need = factories.need(org, activity, title=f"{tag} snart", next_starts_at=soon, slots=3)
    occurrence(soon_need, soon)
    # Full (every place held), a draft, and a need whose dates have passed: not listed.
    full = factories.need(org, activity, title=f"{tag} fuld", slots=1, next_starts_at=soon)
    occurrence(full, soon)
    assignment(full, member(org), AssignmentState.ACCEPTED)
    draft = factories.need(
        org, activity, title=f"{tag} kladde", status=NeedStatus.DRAFT, next_starts_at=soon
    )
    occurrence(draft, soon)
    # An invitation due within 48 hours, and one due later (not listed).
    invited = assignment(soon_need, member(org, name=f"Ida {tag}"), AssignmentState.INVITED)
    invited.invite_expires_at = now + timedelta(hours=20)
    relaxed = assignment(soon_need, member(org, name=f"Ulla {tag}"), AssignmentState.INVITED)
    relaxed.invite_expires_at = now + timedelta(hours=70)
    # (On the full need, so its dates do not change which open need is sooner.)
    # A visit that ended but is still scheduled; a confirmed one (not listed).
    past = occurrence(full, now - timedelta(days=3))
    visit(past, member(org, name=f"Uffe {tag}", phone="+45 20 30 40 50"))
    visit(past, member(org, name=f"Bent {tag}"), state=VisitState.CONFIRMED)
    # A visit cancelled for today; one cancelled for tomorrow (not listed).
    _today, start, end = local_day_bounds(now)
    today_occ = occurrence(full, start + (end - start) / 2)
    visit(today_occ, member(org, name=f"Carl {tag}"), state=VisitState.CANCELLED)
    tomorrow = occurrence(full, end + timedelta(hours=12))
    visit(tomorrow, member(org, name=f"Dorte {tag}"), state=VisitState.CANCELLED)
    db.session.commit()
    return {"soon": soon_need, "later": later_need}


def test_the_start_page_lists_what_needs_attention_in_my_organisations(client, auth):
    now = utcnow()
    mine, theirs = factories.organisation(), factories.organisation()
    needs = _attention_world(mine, now, "Egen")
    _attention_world(theirs, now, "Fremmed")
    auth(coordinator(mine))
    page = client.get("/koordinator/").get_data(as_text=True)
    assert "Fremmed" not in page

    open_needs = _section(page, "open_needs")
    assert _count(open_needs) == 2
    assert open_needs.index("Egen snart") < open_needs.index("Egen senere")
    assert f'href="/opgaver/{needs["soon"].id}/frivillige">Egen snart</a>' in open_needs
    assert "Vi mangler 2 frivillige" in open_needs  # 3 places, 1 held by the invitation below
    assert "fuld" not in open_needs and "kladde" not in open_needs

    expiring = _section(page, "expiring")
    assert _count(expiring) == 1
    assert "Ida Egen" in expiring and "Ulla Egen" not in expiring

    unconfirmed = _section(page, "unconfirmed")
    assert _count(unconfirmed) == 1
    assert "Uffe Egen" in unconfirmed and "Bent Egen" not in unconfirmed
    assert 'href="tel:+4520304050"' in unconfirmed
    assert re.search(r'href="/koordinator/frivillige/\d+">Uffe Egen</a>', unconfirmed)

    cancelled = _section(page, "cancelled_today")
    assert _count(cancelled) == 1
    assert "Carl Egen" in cancelled and "Dorte Egen" not in cancelled


def test_an_admin_sees_every_organisation_and_an_empty_start_page_says_so(client, auth):
    now = utcnow()
    quiet = factories.organisation()
    auth(coordinator(quiet))
    assert "Der er ikke noget, der kræver din opmærksomhed" in client.get("/koordinator/").get_data(
        as_text=True
    )
    _attention_world(factories.organisation(), now, "Et")
    _attention_world(factories.organisation(), now, "To")
    admin_client = client.application.test_client()
    auth(factories.user(role=Role.ADMIN), admin_client)
    page = admin_client.get("/koordinator/").get_data(as_text=True)
    assert _count(_section(page, "open_needs")) == 4
    assert _count(_section(page, "cancelled_today")) == 2


def test_the_start_page_runs_a_fixed_number_of_queries(client, auth):
    now = utcnow()
    org = factories.organisation()
    auth(coordinator(org))
    _attention_world(org, now, "A")
    few = count_queries(client, "/koordinator/")
    for n in range(3):
        _attention_world(org, now, f"B{n}")
    many = count_queries(client, "/koordinator/")
    assert few == many


# Finding a volunteer.


@pytest.fixture
def people():
    mine, theirs = factories.organisation(), factories.organisation()
    lektier = factories.activity_type("lektiecafe")
    ane = member(mine, name="Ane Ærbødig", email="ane@example.org", phone="+45 21 43 65 87")
    ane.profile.interests.append(lektier)
    bo = member(mine, name="Bo Østergaard", email="bo.oster@example.org", postcode="8700")
    member(theirs, name="Ane Fremmed", email="ane.fremmed@example.org", phone="21436587")
    db.session.commit()
    return {"mine": mine, "ane": ane, "bo": bo, "lektier": lektier}


NAMES = ("Ane Ærbødig", "Bo Østergaard", "Ane Fremmed")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ærbødig", {"Ane Ærbødig"}),  # name, case-insensitive with æøå
        ("ØSTER", {"Bo Østergaard"}),
        ("ane", {"Ane Ærbødig"}),  # never another organisation's volunteer
        ("BO.OSTER@EXAMPLE", {"Bo Østergaard"}),  # email
        ("21 43 65 87", {"Ane Ærbødig"}),  # phone, however it is written
        ("21436587", {"Ane Ærbødig"}),
        ("8700", {"Bo Østergaard"}),  # postcode
        ("horsens", {"Bo Østergaard"}),  # town
        ("lektiecafe", {"Ane Ærbødig"}),  # an activity of interest
        ("ane 7130", {"Ane Ærbødig"}),  # every word counts
        ("ane 8700", set()),
        ("%", set()),
        ("", {"Ane Ærbødig", "Bo Østergaard"}),
    ],
)
def test_search_finds_my_volunteers_by_each_field(client, auth, people, query, found):
    auth(coordinator(people["mine"]))
    page = client.get("/koordinator/frivillige", query_string={"q": query}).get_data(as_text=True)
    assert {n for n in NAMES if n in page} == found


def test_search_keeps_the_activity_filter_and_the_paging(client, auth, people):
    auth(coordinator(people["mine"]))
    page = client.get(
        "/koordinator/frivillige",
        query_string={"q": "ø", "activity": people["lektier"].id},
    ).get_data(as_text=True)
    assert {n for n in NAMES if n in page} == {"Ane Ærbødig"}  # æ/ø in her name, and lektier
    for n in range(30):
        member(people["mine"], name=f"Søren Nummer {n:02}")
    page = client.get("/koordinator/frivillige", query_string={"q": "søren"}).get_data(as_text=True)
    assert "30 frivillige" in page
    assert 'href="/koordinator/frivillige?q=s%C3%B8ren&amp;side=2"' in page
    second = client.get("/koordinator/frivillige", query_string={"q": "søren", "side": 2})
    assert "Søren Nummer 29" in second.get_data(as_text=True)


def test_the_volunteers_page_shows_activities_history_and_contact(client, auth, people):
    now = utcnow()
    org = people["mine"]
    ane = people["ane"]
    activity = people["lektier"]
    cafe = factories.need(org, activity, title="Lektiecafé i Juelsminde")
    visits_need = factories.need(org, activity, title="Besøg på Bakkegården")
    assignment(cafe, ane, AssignmentState.INVITED)
    held = assignment(visits_need, ane, AssignmentState.ACCEPTED)
    for days in (20, 13, 6):
        visit(occurrence(visits_need, now - timedelta(days=days)), ane, held, VisitState.CONFIRMED)
    visit(occurrence(visits_need, now - timedelta(days=27)), ane, held, VisitState.NO_SHOW)
    visit(occurrence(visits_need, now + timedelta(days=1)), ane, held)
    elsewhere = factories.need(factories.organisation(), activity, title="Andres opgave")
    assignment(elsewhere, ane, AssignmentState.ACCEPTED)
    auth(coordinator(org))
    page = client.get(f"/koordinator/frivillige/{ane.id}").get_data(as_text=True)
    assert 'href="mailto:ane@example.org"' in page and 'href="tel:+4521436587"' in page
    activities = page[page.index('id="aktiviteter"') : page.index('id="historik"')]
    assert "Lektiecafé i Juelsminde</a> (" in activities and "Inviteret" in activities
    assert "Besøg på Bakkegården</a> (" in activities and "Accepteret" in activities
    assert "Andres opgave" not in page  # another organisation's need
    history = page[page.index('id="historik"') : page.index('id="attest"')]
    assert "3 bekræftede besøg." in history
    assert history.count("<li>") == 4  # the four that have begun, not the one ahead
    assert history.count("Bekræftet") == 3 and "Udeblevet" in history


def test_names_on_a_needs_page_link_to_the_volunteer_and_show_the_phone(client, auth, people):
    org = people["mine"]
    need = factories.need(org, people["lektier"], title="Lektiecafé")
    assignment(need, people["ane"], AssignmentState.ACCEPTED)
    assignment(need, people["bo"], AssignmentState.INVITED)
    auth(coordinator(org))
    page = client.get(f"/opgaver/{need.id}/frivillige").get_data(as_text=True)
    assert f'<a href="/koordinator/frivillige/{people["ane"].id}">Ane Ærbødig</a>' in page
    assert '(tlf. <a href="tel:+4521436587">+45 21 43 65 87</a>)' in page
    assert f'<a href="/koordinator/frivillige/{people["bo"].id}">Bo Østergaard</a>' in page


def test_a_search_runs_a_fixed_number_of_queries(client, auth, people):
    auth(coordinator(people["mine"]))
    url = "/koordinator/frivillige?q=nummer"
    member(people["mine"], name="Tove Nummer")
    few = count_queries(client, url)
    for n in range(10):
        member(people["mine"], name=f"Tage Nummer {n}")
    assert count_queries(client, url) == few
