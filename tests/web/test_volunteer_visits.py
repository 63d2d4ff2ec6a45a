"""My visits: listing, leaving an activity, cancelling a visit, telling the coordinators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from support import factories
from support.auth import log_in
from support.factories import assignment, coordinator, occurrence, visit
from volunteer.clock import to_local
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Assignment, AssignmentState, OutboxMessage, Visit, VisitState


@pytest.fixture
def world():
    org = factories.organisation("Ældre Sagen")
    boss = coordinator(org, name="Mette Koordinator")
    activity = factories.activity_type("besoegsven")
    centre = factories.centre(org, name="Plejecenter Bakkegården")
    need = factories.need(
        org, activity, title="Besøgsven", centre=centre, address="Rosenvej 7, lejl. 3"
    )
    volunteer = factories.user(name="Karen Jensen")
    soon = utcnow() + timedelta(days=2)
    past = occurrence(need, utcnow() - timedelta(days=7))
    future = [occurrence(need, soon + timedelta(days=7 * i)) for i in range(3)]
    a = assignment(need, volunteer)
    visits = [visit(o, volunteer, a) for o in [past, *future]]
    return dict(org=org, boss=boss, need=need, volunteer=volunteer, a=a, visits=visits)


def test_my_visits_show_date_weekday_time_and_place(client, world):
    log_in(client, world["volunteer"])
    page = client.get("/min-side/besoeg").get_data(as_text=True)
    assert "<h1>Mine besøg</h1>" in page
    first = world["visits"][1].occurrence.starts_at
    local = to_local(first)
    weekday = ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
    assert f"{weekday[local.weekday()]} den {local.day}." in page
    assert f"{local.hour:02d}.{local.minute:02d}" in page
    assert "Plejecenter Bakkegården" in page
    # Accepted on the need: the address is shown; otherwise not.
    assert "Rosenvej 7" in page
    world["a"].state = AssignmentState.WAITLISTED
    db.session.commit()
    assert "Rosenvej 7" not in client.get("/min-side/besoeg").get_data(as_text=True)


def test_leaving_an_activity_cancels_future_visits_and_tells_the_coordinator(client, world):
    log_in(client, world["volunteer"])
    a = world["a"]
    assert "Meld fra til" in client.get(f"/min-side/aftaler/{a.id}/meld-fra").get_data(as_text=True)
    response = client.post(f"/min-side/aftaler/{a.id}/meld-fra", follow_redirects=True)
    assert "Du har meldt fra." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).state == AssignmentState.WITHDRAWN
    states = [db.session.get(Visit, v.id).state for v in world["visits"]]
    assert states == [VisitState.SCHEDULED] + [VisitState.CANCELLED] * 3  # the past one stays
    message = db.session.scalar(select(OutboxMessage))
    assert message.dedup_key == f"assignment-withdrawn:{a.id}:{world['boss'].id}"
    assert message.recipient_email == world["boss"].email
    assert "Karen Jensen har meldt fra til" in message.body_text
    assert "3 planlagte besøg er aflyst." in message.body_text
    # A second try changes nothing and sends nothing more.
    client.post(f"/min-side/aftaler/{a.id}/meld-fra")
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1


@pytest.mark.parametrize(
    ("state", "after"),
    [
        (AssignmentState.INVITED, AssignmentState.DECLINED),
        (AssignmentState.WAITLISTED, AssignmentState.WITHDRAWN),
    ],
)
def test_invited_and_waitlisted_can_leave_too(client, world, state, after):
    world["a"].state = state
    db.session.commit()
    log_in(client, world["volunteer"])
    client.post(f"/min-side/aftaler/{world['a'].id}/meld-fra")
    db.session.expire_all()
    assert db.session.get(Assignment, world["a"].id).state == after


def test_cancelling_one_visit_needs_a_reason_and_tells_the_coordinator(client, world):
    log_in(client, world["volunteer"])
    target = world["visits"][2]
    response = client.post(f"/min-side/besoeg/{target.id}/aflys", data={"reason": ""})
    assert "Skriv en kort begrundelse." in response.get_data(as_text=True)
    response = client.post(
        f"/min-side/besoeg/{target.id}/aflys",
        data={"reason": "Jeg er til lægen"},
        follow_redirects=True,
    )
    assert "Besøget er aflyst." in response.get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(Visit, v.id).state for v in world["visits"]] == [
        "scheduled",
        "scheduled",
        "cancelled",
        "scheduled",
    ]
    assert db.session.get(Visit, target.id).cancel_reason == "Jeg er til lægen"
    message = db.session.scalar(select(OutboxMessage))
    assert message.dedup_key == f"visit-cancelled:{target.id}:{world['boss'].id}"
    assert "Karen Jensen kan ikke komme" in message.body_text
    assert "Jeg er til lægen" in message.body_text


def test_a_past_visit_cannot_be_cancelled(client, world):
    log_in(client, world["volunteer"])
    past = world["visits"][0]
    response = client.post(
        f"/min-side/besoeg/{past.id}/aflys", data={"reason": "for sent"}, follow_redirects=True
    )
    assert "Besøget kan ikke længere aflyses." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Visit, past.id).state == VisitState.SCHEDULED


def test_a_volunteer_cannot_touch_another_volunteers_rows(client, world):
    intruder = factories.user(name="Anden Frivillig")
    log_in(client, intruder)
    a, target = world["a"], world["visits"][1]
    assert client.get(f"/min-side/aftaler/{a.id}/meld-fra").status_code == 404
    assert client.post(f"/min-side/aftaler/{a.id}/meld-fra").status_code == 404
    assert client.get(f"/min-side/besoeg/{target.id}/aflys").status_code == 404
    assert (
        client.post(f"/min-side/besoeg/{target.id}/aflys", data={"reason": "x"}).status_code == 404
    )
    assert "Besøgsven" not in client.get("/min-side/besoeg").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).state == AssignmentState.ACCEPTED
    assert db.session.get(Visit, target.id).state == VisitState.SCHEDULED
    assert db.session.scalar(select(OutboxMessage)) is None


def test_anonymous_users_go_to_login(client, world):
    for url in ("/min-side/besoeg", f"/min-side/aftaler/{world['a'].id}/meld-fra"):
        response = client.get(url)
        assert response.status_code == 302 and "/konto/log-ind" in response.headers["Location"]
