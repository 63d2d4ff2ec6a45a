"""Needs on the web: finding them, the need page, signing up, and coordinators' own needs."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from support import count_queries, factories
from support.auth import log_in
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Assignment, Need, Occurrence, Role
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers.models import AvailabilityWindow


def _open(org, activity, **fields):
    fields.setdefault("first_date", date(2026, 1, 1))
    need = factories.need(org, activity, **fields)
    sync_occurrences(need, utcnow().date())
    db.session.commit()
    return need


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    spise = factories.activity_type("spisevenner")
    lektie = factories.activity_type("lektiecafe", child=True)
    return {
        "org": org,
        "spise": spise,
        "lektie": lektie,
        "juelsminde": _open(org, spise, title="Spiseven i Juelsminde", postcode="7130"),
        "toerring": _open(
            org,
            lektie,
            title="Lektiecafé i Tørring",
            postcode="7160",
            weekday=0,
            start_time=time(15),
            end_time=time(17),
            requires_child_certificate=True,
        ),
        "horsens": _open(
            org,
            spise,
            title="Morgenkaffe i Horsens",
            postcode="8700",
            start_time=time(9),
            end_time=time(10),
        ),
    }


def _titles(client, query=""):
    page = client.get(f"/opgaver/?{query}").get_data(as_text=True)
    return [t for t in ("Juelsminde", "Tørring", "Horsens") if f"i {t}</a>" in page], page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Juelsminde", "Tørring", "Horsens"]),
        ("aktivitet=lektiecafe", ["Tørring"]),
        ("ugedag=0", ["Tørring"]),
        ("tid=morgen", ["Horsens"]),
        ("tid=aften", ["Juelsminde"]),
        ("q=SPISEVEN", ["Juelsminde"]),
        ("q=horsens", ["Horsens"]),
        ("q=100%25", []),
        ("postnummer=7130&km=5", ["Juelsminde"]),
        ("postnummer=7130&km=40", ["Juelsminde", "Tørring", "Horsens"]),
    ],
)
def test_filters(client, world, query, expected):
    titles, _page = _titles(client, query)
    assert sorted(titles) == sorted(expected)


def test_near_me_sorts_by_distance_and_shows_it(client, world):
    page = client.get("/opgaver/?postnummer=8700&km=60").get_data(as_text=True)
    order = [page.index(f"i {t}</a>") for t in ("Horsens", "Juelsminde", "Tørring")]
    assert order == sorted(order)
    assert "0,0 km væk" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("postnummer=0000", "Vi kender ikke postnummeret 0000."),
        ("postnummer=7130&km=-1", "Skriv en afstand fra 0 til 200 km."),
        ("postnummer=7130&km=201", "Skriv en afstand fra 0 til 200 km."),
        ("ugedag=9", "Vælg fra listen."),
    ],
)
def test_bad_filters_get_a_message_not_an_error(client, world, query, message):
    response = client.get(f"/opgaver/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Not a valid" not in page  # WTForms' own messages are in Danish too


def test_pagination_keeps_the_filters(client, app):
    org, activity = factories.organisation(), factories.activity_type("spisevenner")
    for i in range(23):
        _open(org, activity, title=f"Opgave {i:02d}")
    page1 = client.get("/opgaver/?aktivitet=spisevenner").get_data(as_text=True)
    assert "23 aktiviteter mangler frivillige." in page1 and "Side 1 af 2" in page1
    assert "side=2&amp;aktivitet=spisevenner" in page1
    page2 = client.get("/opgaver/?aktivitet=spisevenner&side=2").get_data(as_text=True)
    assert page2.count('class="need-card') == 3


def test_list_query_count_is_constant(client, app):

    org, activity = factories.organisation(), factories.activity_type()
    for i in range(15):
        _open(org, activity, title=f"Opgave {i}")
    near = count_queries(client, "/opgaver/?postnummer=7130&km=50")
    text = count_queries(client, "/opgaver/?q=opgave")
    assert near <= 6 and text <= 6, (near, text)


def _volunteer(**fields):
    user = factories.user(**fields)
    user.profile.availability = [
        AvailabilityWindow(weekday=3, start_time=time(16), end_time=time(21)),
        AvailabilityWindow(weekday=0, start_time=time(14), end_time=time(18)),
    ]
    user.profile.max_km = 50
    db.session.commit()
    return user


def test_anonymous_visitors_are_invited_to_log_in(client, world):
    page = client.get(f"/opgaver/{world['juelsminde'].id}").get_data(as_text=True)
    assert "Log ind eller bliv frivillig for at være med." in page


def test_a_volunteer_signs_up_and_sees_it(client, world):
    volunteer = _volunteer()
    log_in(client, volunteer)
    need = world["juelsminde"]
    page = client.get(f"/opgaver/{need.id}").get_data(as_text=True)
    assert "Tilmeld mig" in page
    response = client.post(f"/opgaver/{need.id}/tilmeld", follow_redirects=True)
    assert "Du er tilmeldt. Tak!" in response.get_data(as_text=True)
    home = client.get("/min-side/").get_data(as_text=True)
    assert "Spiseven i Juelsminde" in home
    # A double click does not create a second assignment.
    response = client.post(f"/opgaver/{need.id}/tilmeld", follow_redirects=True)
    assert "Du er allerede tilmeldt" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1


def test_the_need_page_explains_why_not(client, world):
    volunteer = _volunteer()
    log_in(client, volunteer)
    page = client.get(f"/opgaver/{world['toerring'].id}").get_data(as_text=True)
    assert "Du kan ikke melde dig til denne aktivitet" in page
    assert "Det kræver en gyldig børneattest" in page
    assert "Tilmeld mig" not in page
    response = client.post(f"/opgaver/{world['toerring'].id}/tilmeld", follow_redirects=True)
    assert "Det kræver en gyldig børneattest" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_a_full_need_offers_the_waiting_list(client, app):
    org, activity = factories.organisation(), factories.activity_type()
    need = _open(org, activity, slots=1)
    first, second = _volunteer(), _volunteer()
    log_in(client, first)
    client.post(f"/opgaver/{need.id}/tilmeld")
    client.post("/konto/log-ud")
    log_in(client, second)
    assert "Skriv mig på ventelisten" in client.get(f"/opgaver/{need.id}").get_data(as_text=True)
    response = client.post(f"/opgaver/{need.id}/tilmeld", follow_redirects=True)
    assert "som nummer 1 på ventelisten" in response.get_data(as_text=True)


def test_text_is_escaped_on_every_page(client, app):
    org, activity = factories.organisation(), factories.activity_type()
    need = _open(
        org,
        activity,
        title='<script>alert("x")</script>',
        description='<img src=x onerror="alert(1)">',
    )
    for url in ("/", "/opgaver/", f"/opgaver/{need.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page


# Coordinators

FORM = {
    "activity_type_id": None,
    "organisation_id": None,
    "title": "Spiseven på Bakkegården",
    "description": "Spis aftensmad med en beboer.",
    "centre_id": "0",
    "postcode": "7130",
    "address": "",
    "local_area_id": "0",
    "schedule": "weekly",
    "weekday": "3",
    "first_date": "2026-12-03",
    "last_date": "",
    "start_time": "17:30",
    "end_time": "19:00",
    "skip_holidays": "y",
    "slots": "2",
}


@pytest.fixture
def coordinator(app):
    org = factories.organisation("Hedensted Kommune")
    user = factories.user(role=Role.COORDINATOR, organisations=[org])
    activity = factories.activity_type("spisevenner")
    form = {**FORM, "organisation_id": str(org.id), "activity_type_id": str(activity.id)}
    return user, org, form


def test_a_coordinator_posts_and_opens_a_weekly_need(client, coordinator):
    user, org, form = coordinator
    log_in(client, user)
    response = client.post("/opgaver/ny", data={**form, "aaben": "1"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Opgaven er gemt." in page
    need = db.session.scalar(select(Need))
    assert need.status == "open" and need.organisation_id == org.id and need.town == "Juelsminde"
    assert need.weekday == 3 and need.slots == 2
    occurrences = db.session.scalars(select(Occurrence).where(Occurrence.need_id == need.id)).all()
    assert len(occurrences) >= 7
    assert all(o.starts_at.weekday() == 3 for o in occurrences)
    assert "Spiseven på Bakkegården" in client.get("/opgaver/").get_data(as_text=True)


def test_a_draft_is_not_public_until_opened(client, coordinator):
    user, _org, form = coordinator
    log_in(client, user)
    client.post("/opgaver/ny", data=form)
    need = db.session.scalar(select(Need))
    assert need.status == "draft"
    assert "Spiseven på Bakkegården" not in client.get("/opgaver/").get_data(as_text=True)
    client.post(f"/opgaver/{need.id}/aabn")
    db.session.refresh(need)
    assert need.status == "open"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end_time": "17:00"}, "Sluttidspunktet skal være efter starttidspunktet."),
        ({"slots": "0"}, "Skriv et tal fra 1 til 100."),
        ({"slots": "-3"}, "Skriv et tal fra 1 til 100."),
        ({"last_date": "2026-11-01"}, "Sidste dato kan ikke ligge før første dato."),
        ({"postcode": "0000"}, "Vi kender ikke postnummeret 0000."),
        ({"postcode": ""}, "Vælg et center, eller skriv stedets postnummer."),
        ({"title": ""}, "Skriv en titel."),
        ({"schedule": "once", "first_date": "2020-01-01"}, "Datoen er overskredet."),
        ({"description": "x" * 4001}, "Write at most 4000 characters."),
    ],
)
def test_bad_needs_get_a_danish_message_and_store_nothing(client, coordinator, change, message):
    user, _org, form = coordinator
    log_in(client, user)
    response = client.post("/opgaver/ny", data={**form, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page or "Skriv højst 4000 tegn." in page
    assert db.session.scalar(select(func.count()).select_from(Need)) == 0


def test_a_coordinator_cannot_post_for_another_organisation(client, coordinator):
    user, _org, form = coordinator
    other = factories.organisation("Røde Kors")
    log_in(client, user)
    response = client.post("/opgaver/ny", data={**form, "organisation_id": str(other.id)})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Need)) == 0


def test_another_organisations_coordinator_cannot_touch_a_need(client, coordinator):
    user, org, form = coordinator
    activity = db.session.get(factories.ActivityType, int(form["activity_type_id"]))
    need = _open(org, activity, title="Vores opgave")
    stranger_org = factories.organisation("Ældre Sagen")
    stranger = factories.user(role=Role.COORDINATOR, organisations=[stranger_org])
    log_in(client, stranger)
    for method, url in [
        ("get", f"/opgaver/{need.id}/rediger"),
        ("get", f"/opgaver/{need.id}/frivillige"),
        ("post", f"/opgaver/{need.id}/luk"),
        ("post", f"/opgaver/{need.id}/kopier"),
        ("post", f"/opgaver/{need.id}/rediger"),
    ]:
        assert getattr(client, method)(url, data=form).status_code == 404, url
    db.session.refresh(need)
    assert need.status == "open" and need.title == "Vores opgave"
    assert db.session.scalar(select(func.count()).select_from(Need)) == 1


def test_volunteers_cannot_reach_coordinator_pages(client, coordinator):
    _user, org, form = coordinator
    activity = db.session.get(factories.ActivityType, int(form["activity_type_id"]))
    need = _open(org, activity)
    log_in(client, _volunteer())
    assert client.get("/opgaver/ny").status_code == 403
    assert client.post(f"/opgaver/{need.id}/luk").status_code == 403


def test_editing_the_schedule_moves_the_dates(client, coordinator):
    user, org, form = coordinator
    log_in(client, user)
    client.post("/opgaver/ny", data={**form, "aaben": "1"})
    need = db.session.scalar(select(Need))
    client.post(f"/opgaver/{need.id}/rediger", data={**form, "weekday": "1"})
    weekdays = {
        o.starts_at.weekday()
        for o in db.session.scalars(
            select(Occurrence).where(
                Occurrence.need_id == need.id, Occurrence.status == "scheduled"
            )
        )
    }
    assert weekdays == {1}


def test_closing_a_need_cancels_visits_and_tells_volunteers(client, coordinator):
    user, _org, form = coordinator
    log_in(client, user)
    client.post("/opgaver/ny", data={**form, "aaben": "1"})
    need = db.session.scalar(select(Need))
    client.post("/konto/log-ud")
    volunteer = _volunteer()
    log_in(client, volunteer)
    client.post(f"/opgaver/{need.id}/tilmeld")
    client.post("/konto/log-ud")
    log_in(client, user)
    people = client.get(f"/opgaver/{need.id}/frivillige").get_data(as_text=True)
    assert volunteer.name in people
    response = client.post(f"/opgaver/{need.id}/luk", follow_redirects=True)
    assert "Opgaven er lukket." in response.get_data(as_text=True)
    from volunteer.models import OutboxMessage, Visit

    assert all(v.state == "cancelled" for v in db.session.scalars(select(Visit)))
    assert db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == volunteer.id)
    )


def test_copy_makes_a_draft(client, coordinator):
    user, _org, form = coordinator
    log_in(client, user)
    client.post("/opgaver/ny", data={**form, "aaben": "1"})
    need = db.session.scalar(select(Need))
    response = client.post(f"/opgaver/{need.id}/kopier")
    copy = db.session.scalar(select(Need).where(Need.id != need.id))
    assert response.headers["Location"] == f"/opgaver/{copy.id}/rediger"
    assert copy.status == "draft" and copy.title.endswith("(kopi)")
    assert copy.first_date == need.first_date and copy.weekday == need.weekday


def test_one_off_need_takes_its_weekday_from_the_date(client, coordinator):
    user, _org, form = coordinator
    log_in(client, user)
    day = utcnow().date() + timedelta(days=10)
    client.post(
        "/opgaver/ny",
        data={**form, "schedule": "once", "first_date": day.isoformat(), "aaben": "1"},
    )
    need = db.session.scalar(select(Need))
    assert need.weekday == day.weekday() and need.last_date == day
    assert db.session.scalar(select(func.count()).select_from(Occurrence)) == 1
