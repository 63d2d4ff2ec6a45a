"""Away periods and the visits inside them: the volunteer is shown the visits still booked on
their days away, cancels the ones they choose (the coordinator is told, the centre no longer
expects them) or keeps them; overlapping periods are merged and the page says so."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from support import csrf_token_from, factories, make_app
from support.auth import log_in
from support.factories import assignment, coordinator, occurrence, visit
from volunteer.clock import local_to_utc, local_today
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import AwayPeriod, OutboxMessage, Role, Visit, VisitState

WEEKDAYS = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
MONTHS = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
]


def _danish_long_date(day) -> str:
    return f"{WEEKDAYS[day.weekday()]} den {day.day}. {MONTHS[day.month - 1]} {day.year}"


@pytest.fixture
def world():
    org = factories.organisation("Hedensted Kommune")
    boss = coordinator(org, name="Mette Koordinator")
    centre = factories.centre(org, name="Plejecenter Bakkegården")
    staff = factories.user(role=Role.CENTRE, centres=[centre])
    activity = factories.activity_type("spisevenner")
    need = factories.need(org, activity, title="Spiseven", centre=centre)
    volunteer = factories.user(name="Karen Jensen")
    held = assignment(need, volunteer)
    day = local_today(utcnow()) + timedelta(days=5)
    morning = visit(occurrence(need, local_to_utc(day, time(10))), volunteer, held)
    afternoon = visit(occurrence(need, local_to_utc(day, time(14, 30))), volunteer, held)
    later = visit(occurrence(need, local_to_utc(day + timedelta(days=10), time(10))), volunteer)
    return dict(
        boss=boss,
        staff=staff,
        volunteer=volunteer,
        day=day,
        morning=morning,
        afternoon=afternoon,
        later=later,
    )


def _add(client, start, end, **kwargs):
    return client.post(
        "/min-side/fravaer",
        data={"start_date": start.isoformat(), "end_date": end.isoformat()},
        **kwargs,
    )


def _period() -> AwayPeriod:
    return db.session.scalar(select(AwayPeriod))


def _states(*visits) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Visit, v.id).state for v in visits]


def _outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _card(page: str, visit_id: int) -> str:
    """One visit's card on the centre's page."""
    match = re.search(rf'id="besoeg-{visit_id}".*?</li>', page, re.S)
    assert match, f"visit {visit_id} is not on the page"
    return match.group(0)


def _with_visits(client, world) -> AwayPeriod:
    day = world["day"]
    _add(client, day - timedelta(days=1), day + timedelta(days=1))
    return _period()


def test_away_over_two_visits_lists_them_and_cancels_the_chosen_one(
    app, client, world, monkeypatch
):
    volunteer, day = world["volunteer"], world["day"]
    morning, afternoon, later = world["morning"], world["afternoon"], world["later"]
    log_in(client, volunteer)

    response = _add(client, day - timedelta(days=1), day + timedelta(days=1))
    period = _period()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/min-side/fravaer/{period.id}/besoeg")

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Perioden er gemt." in page
    assert "Du har 2 besøg booket i perioden." in page
    assert "<h1>Besøg mens jeg er væk</h1>" in page
    assert page.count(_danish_long_date(day)) == 2  # the date, with its weekday
    assert "10.00–11.30" in page and "14.30–16.00" in page
    assert "Plejecenter Bakkegården" in page
    assert "Spisevenner: Spiseven" in page  # the activity
    assert "<legend" in page and "<fieldset" in page
    for v in (morning, afternoon):
        assert (
            f'name="visit" value="{v.id}" id="besoeg-{v.id}" checked' in page
            and f'<label class="form-check-label" for="besoeg-{v.id}">' in page
        )
    assert f'value="{later.id}"' not in page  # outside the period
    assert "Aflys de valgte besøg" in page and "Behold dem" in page

    response = client.post(
        f"/min-side/fravaer/{period.id}/besoeg",
        data={"visit": [str(morning.id)], "action": "cancel"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "1 besøg er aflyst. Koordinatoren har fået besked." in page
    assert _states(morning, afternoon, later) == ["cancelled", "scheduled", "scheduled"]
    assert db.session.get(Visit, morning.id).cancel_reason.startswith("Jeg er væk fra")

    # The away list says one visit is still booked inside, with a link back to the choice.
    assert "1 besøg er stadig booket" in page
    assert f'href="/min-side/fravaer/{period.id}/besoeg"' in page

    # The coordinator is told the same way as when a single visit is cancelled.
    [notice] = _outbox()
    assert notice.dedup_key == f"visit-cancelled:{morning.id}:{world['boss'].id}"
    assert notice.recipient_id == world["boss"].id
    assert "Karen Jensen kan ikke komme" in notice.body_text
    assert "Jeg er væk fra" in notice.body_text

    # The centre no longer expects her in the morning, still does in the afternoon.
    monkeypatch.setattr("volunteer.centres.views.utcnow", lambda: local_to_utc(day, time(8)))
    staff_client = app.test_client()
    log_in(staff_client, world["staff"])
    centre_page = staff_client.get("/center/").get_data(as_text=True)
    assert "Aflyst" in _card(centre_page, morning.id)
    assert "Forventet" not in _card(centre_page, morning.id)
    assert "Forventet" in _card(centre_page, afternoon.id)


def test_cancelling_all_of_them_empties_the_list(client, world):
    log_in(client, world["volunteer"])
    period = _with_visits(client, world)
    ids = [str(world["morning"].id), str(world["afternoon"].id)]
    response = client.post(
        f"/min-side/fravaer/{period.id}/besoeg",
        data={"visit": ids, "action": "cancel"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "2 besøg er aflyst." in page
    assert "stadig booket" not in page
    assert _states(world["morning"], world["afternoon"]) == ["cancelled", "cancelled"]
    assert len(_outbox()) == 2  # one notice per visit, as for a single cancelled visit
    page = client.get(f"/min-side/fravaer/{period.id}/besoeg").get_data(as_text=True)
    assert "Du har ingen besøg booket i perioden." in page


def test_keeping_the_visits_changes_nothing(client, world):
    log_in(client, world["volunteer"])
    period = _with_visits(client, world)
    response = client.post(
        f"/min-side/fravaer/{period.id}/besoeg",
        data={"visit": [str(world["morning"].id)], "action": "keep"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Dine besøg er beholdt." in page
    assert "2 besøg er stadig booket" in page
    assert _states(world["morning"], world["afternoon"]) == ["scheduled", "scheduled"]
    assert _outbox() == []


def test_a_period_without_visits_goes_back_to_the_list(client, world):
    log_in(client, world["volunteer"])
    start = world["day"] + timedelta(days=30)
    response = _add(client, start, start + timedelta(days=2))
    assert response.headers["Location"].endswith("/min-side/fravaer")
    page = client.get("/min-side/fravaer").get_data(as_text=True)
    assert "Perioden er gemt." in page
    assert "stadig booket" not in page


def test_another_volunteers_period_and_visits_are_not_found(app, client, world):
    log_in(client, world["volunteer"])
    period = _with_visits(client, world)
    intruder = factories.user(name="Anden Frivillig")
    own_start = world["day"] + timedelta(days=40)
    theirs = AwayPeriod(profile=intruder.profile, start_date=own_start, end_date=own_start)
    db.session.add(theirs)
    db.session.commit()
    other_visit = visit(world["morning"].occurrence, intruder)

    # Somebody else's visit id in my own period: 404, nothing cancelled.
    response = client.post(
        f"/min-side/fravaer/{period.id}/besoeg",
        data={"visit": [str(world["morning"].id), str(other_visit.id)], "action": "cancel"},
    )
    assert response.status_code == 404
    assert _states(world["morning"], other_visit) == ["scheduled", "scheduled"]

    # Somebody else's period: 404 to look at and to post to.
    assert client.get(f"/min-side/fravaer/{theirs.id}/besoeg").status_code == 404
    client = app.test_client()
    log_in(client, intruder)
    url = f"/min-side/fravaer/{period.id}/besoeg"
    assert client.get(url).status_code == 404
    assert (
        client.post(url, data={"visit": [str(world["morning"].id)], "action": "cancel"}).status_code
        == 404
    )
    assert client.get("/min-side/fravaer/999999/besoeg").status_code == 404
    assert _states(world["morning"]) == ["scheduled"]
    assert _outbox() == []


def test_a_forged_visit_outside_the_period_is_refused_and_nothing_is_cancelled(client, world):
    log_in(client, world["volunteer"])
    period = _with_visits(client, world)
    response = client.post(
        f"/min-side/fravaer/{period.id}/besoeg",
        data={"visit": [str(world["morning"].id), str(world["later"].id)], "action": "cancel"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Et af de valgte besøg ligger ikke i perioden" in response.get_data(as_text=True)
    assert "Intet er aflyst." in response.get_data(as_text=True)
    assert _states(world["morning"], world["later"]) == ["scheduled", "scheduled"]
    assert _outbox() == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "Vælg de besøg, du vil aflyse, eller behold dem."),
        (["abc"], "Noget i formularen var forkert."),
        (["-1"], "Noget i formularen var forkert."),
        (["99999999999999999999"], "Noget i formularen var forkert."),
        (["1e3"], "Noget i formularen var forkert."),
    ],
)
def test_bad_choices_are_refused_without_an_error_page(client, world, values, message):
    log_in(client, world["volunteer"])
    period = _with_visits(client, world)
    response = client.post(
        f"/min-side/fravaer/{period.id}/besoeg",
        data={"visit": values, "action": "cancel"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _states(world["morning"], world["afternoon"]) == ["scheduled", "scheduled"]


def test_overlapping_and_duplicate_periods_are_merged_and_the_page_says_so(client, world):
    log_in(client, world["volunteer"])
    day = world["day"]
    _add(client, day - timedelta(days=1), day + timedelta(days=1))
    response = _add(client, day + timedelta(days=1), day + timedelta(days=3), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Perioden er lagt sammen med de fraværsdage, du allerede havde skrevet." in page
    start, end = day - timedelta(days=1), day + timedelta(days=3)
    assert f"Du er nu væk {_danish_long_date(start)} – {_danish_long_date(end)}." in page
    assert "Du har 2 besøg booket i perioden." in page  # still asked about the visits
    assert db.session.scalar(select(func.count()).select_from(AwayPeriod)) == 1
    assert (_period().start_date, _period().end_date) == (start, end)

    # The same dates again: merged into the one period, not a second copy.
    page = _add(client, start, end, follow_redirects=True).get_data(as_text=True)
    assert "Perioden er lagt sammen" in page
    assert db.session.scalar(select(func.count()).select_from(AwayPeriod)) == 1


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (5, 4, "Den sidste dag kan ikke ligge før den første."),
        (-1, 4, "Den første dag kan ikke ligge før i dag."),
        ("i morgen", 4, "Det er ikke en dato. Vælg en dato."),
    ],
)
def test_bad_periods_get_a_form_error(client, world, start, end, message):
    log_in(client, world["volunteer"])
    today = local_today(utcnow())
    data = {
        "start_date": (today + timedelta(days=start)).isoformat()
        if isinstance(start, int)
        else start,
        "end_date": (today + timedelta(days=end)).isoformat(),
    }
    response = client.post("/min-side/fravaer", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _period() is None


@pytest.fixture
def csrf_app(backend, tmp_path):
    yield from make_app(backend, tmp_path, WTF_CSRF_ENABLED=True)


def test_cancelling_needs_the_csrf_token(csrf_app):
    org = factories.organisation("Hedensted Kommune")
    need = factories.need(org, factories.activity_type("spisevenner"), title="Spiseven")
    volunteer = factories.user()
    day = local_today(utcnow()) + timedelta(days=3)
    booked = visit(occurrence(need, local_to_utc(day, time(10))), volunteer)
    period = AwayPeriod(profile=volunteer.profile, start_date=day, end_date=day)
    db.session.add(period)
    db.session.commit()
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/konto/log-ind").get_data(as_text=True))
    client.post(
        "/konto/log-ind",
        data={"email": volunteer.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    url = f"/min-side/fravaer/{period.id}/besoeg"
    data = {"visit": [str(booked.id)], "action": "cancel"}
    assert client.post(url, data=data).status_code == 400
    assert _states(booked) == [VisitState.SCHEDULED]
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 302
    assert _states(booked) == [VisitState.CANCELLED]
