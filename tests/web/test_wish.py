"""The person's wish about the volunteer's gender (#13): the volunteer declares their gender on
their own profile (optional), the candidates page proposes only those who fit where the person
asked for it as a requirement and otherwise only puts them first, and the gender is personal
data: exported, on the readable data page, and gone when the volunteer is forgotten."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from support import factories
from support.auth import log_in
from support.factories import coordinator, free_volunteer
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import User, VolunteerProfile
from volunteer.pairs import candidates, services
from volunteer.volunteers import gdpr

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PATTERN = services.Pattern(2, time(14), time(16), date(2026, 12, 9))


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    visiting = factories.activity_type("besoegsven")
    visiting.for_persons = True
    db.session.commit()
    woman = free_volunteer(org, name="Karen Kvist")
    man = free_volunteer(org, name="Bent Bruun")
    silent = free_volunteer(org, name="Tove Tavs")
    woman.profile.gender, man.profile.gender = "woman", "man"
    db.session.commit()
    return {
        "org": org,
        "person": factories.person(org, visiting),
        "coordinator": coordinator(org),
        "woman": woman,
        "man": man,
        "silent": silent,
    }


def _found(world):
    return {c.volunteer.id for c in candidates.candidates(world["person"], PATTERN, NOW)}


def test_a_required_wish_proposes_only_volunteers_who_declared_it(app, world):
    assert _found(world) == {world["woman"].id, world["man"].id, world["silent"].id}
    world["person"].wish_gender, world["person"].wish_required = "woman", True
    db.session.commit()
    found = candidates.candidates(world["person"], PATTERN, NOW)
    assert [c.volunteer.id for c in found] == [world["woman"].id]
    assert ["wish", {"gender": "woman", "required": True}] in found[0].explanation


def test_a_wish_that_is_only_a_preference_puts_them_first_and_leaves_nobody_out(app, world):
    world["person"].wish_gender = "man"
    db.session.commit()
    found = candidates.candidates(world["person"], PATTERN, NOW)
    assert {c.volunteer.id for c in found} == {
        world["woman"].id,
        world["man"].id,
        world["silent"].id,
    }
    assert found[0].volunteer.id == world["man"].id
    assert ["wish", {"gender": "man", "required": False}] in found[0].explanation


def _page(client, world):
    start = local_today(utcnow()) + timedelta(days=7)
    query = f"weekday=2&start_time=14:00&end_time=16:00&start_date={start.isoformat()}"
    log_in(client, world["coordinator"])
    response = client.get(f"/koordinator/borgere/{world['person'].id}/kandidater?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_candidates_page_names_the_required_wish_and_leaves_the_others_out(client, world):
    world["person"].wish_gender, world["person"].wish_required = "woman", True
    db.session.commit()
    html = _page(client, world)
    assert "Karen Kvist" in html
    assert "Bent Bruun" not in html and "Tove Tavs" not in html
    assert "Borgeren har bedt om en kvinde" in html


def test_the_candidates_page_shows_everyone_for_a_preference(client, world):
    world["person"].wish_gender = "woman"
    db.session.commit()
    html = _page(client, world)
    assert "Karen Kvist" in html and "Bent Bruun" in html and "Tove Tavs" in html
    assert "Borgeren foretrækker en kvinde" in html
    assert "Borgeren har bedt om" not in html


# The volunteer's own, optional gender.

PROFILE = {
    "name": "Karen Jensen",
    "postcode": "8722",
    "max_km": "25",
    "weekly_capacity": "2",
    "languages": ["da"],
}


def test_the_profile_form_asks_kindly_and_saves_the_answer(client):
    volunteer = factories.user()
    log_in(client, volunteer)
    page = client.get("/min-side/oplysninger").get_data(as_text=True)
    assert "Nogle borgere ønsker en besøgsven af et bestemt køn" in page
    assert '<option selected value="">Vil ikke oplyse</option>' in page
    assert (
        client.post("/min-side/oplysninger", data={**PROFILE, "gender": "woman"}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).profile.gender == "woman"
    page = client.get("/min-side/oplysninger").get_data(as_text=True)
    assert '<option selected value="woman">Kvinde</option>' in page
    assert client.post("/min-side/oplysninger", data={**PROFILE, "gender": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).profile.gender == ""


def test_an_unknown_gender_gets_a_danish_message_and_changes_nothing(client):
    volunteer = factories.user()
    log_in(client, volunteer)
    response = client.post("/min-side/oplysninger", data={**PROFILE, "gender": "robot"})
    assert response.status_code == 200
    assert "Vælg fra listen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).profile.gender == ""


def test_the_gender_is_in_the_export_and_the_data_page_and_goes_when_forgotten(client, world):
    woman = world["woman"]
    log_in(client, woman)
    data = json.loads(client.get("/min-side/mine-data.json").data)
    assert data["volunteer_profiles"][0]["gender"] == "woman"
    page = client.get("/min-side/mine-data/vis").get_data(as_text=True)
    assert "Køn" in page and "Kvinde" in page
    profile_id = woman.profile.id
    gdpr.forget_person(woman, NOW, reason="deleted")
    db.session.commit()
    assert db.session.get(VolunteerProfile, profile_id) is None
    assert (
        db.session.scalar(select(VolunteerProfile.gender).where(VolunteerProfile.id == profile_id))
        is None
    )


def test_the_person_wish_is_in_their_export_and_goes_when_they_are_forgotten(app, world):
    person = world["person"]
    person.wish_gender, person.wish_required = "woman", True
    db.session.commit()
    data = gdpr.export_helped_person(person, contact_visible=False)
    assert (data["persons"][0]["wish_gender"], data["persons"][0]["wish_required"]) == (
        "woman",
        True,
    )
    gdpr.forget_helped_person(person, NOW, reason="retention")
    db.session.commit()
    assert (person.wish_gender, person.wish_required) == ("", False)
