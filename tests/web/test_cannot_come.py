""" "Kan ikke komme": the link in a visit reminder cancels that one visit in one step, without
a password, through the same rule as the "Aflys" button on Min side: the coordinators are told,
the centre when it is today or tomorrow, and a one-off place goes to the next on the waiting
list, who must confirm it within the invitation's deadline."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from support import delivered_text, factories, queued
from support.auth import log_in
from volunteer.audit import AuditEvent
from volunteer.clock import local_today, to_local
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.jobs.visits import visit_reminders
from volunteer.models import Assignment, AssignmentState, Role, Visit, VisitState
from volunteer.needs import signup
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers import cannot_come


def _need(world, schedule: str, days_ahead: int):
    day = local_today(utcnow()) + timedelta(days=days_ahead)
    need = factories.need(
        world["org"],
        world["activity"],
        title="Spiseven på Bakkegården",
        schedule=schedule,
        weekday=day.weekday(),
        first_date=day,
        start_time=time(17, 30),
        end_time=time(19),
        slots=1,
        centre=world["centre"],
    )
    sync_occurrences(need, local_today(utcnow()))
    db.session.commit()
    return need


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    centre = factories.centre(org, name="Plejecenter Bakkegården")
    world = {
        "org": org,
        "centre": centre,
        "activity": factories.activity_type("spisevenner"),
        "mette": factories.coordinator(org, name="Mette Hansen", email="mette@example.org"),
        "staff": factories.user(role=Role.CENTRE, email="center@example.org", centres=[centre]),
        "sofie": factories.free_volunteer(org, name="Sofie Sørensen", email="sofie@example.org"),
        "ole": factories.free_volunteer(org, name="Ole Olsen", email="ole@example.org"),
    }
    return world


def _first_visit(volunteer) -> Visit:
    return db.session.scalars(
        select(Visit).where(Visit.volunteer_id == volunteer.id).order_by(Visit.id)
    ).first()


def _reminder_link(app, visit: Visit) -> str:
    """The link in the reminder the scheduler sends a day before."""
    visit_reminders(app, visit.occurrence.starts_at - timedelta(hours=23))
    (reminder,) = queued(f"visit-reminder:{visit.id}:")
    assert "/min-side/afbud/" not in reminder.body_text  # the outbox holds only a marker
    match = re.search(r"http://samskab\.test(/min-side/afbud/\S+)", delivered_text(reminder))
    assert match, delivered_text(reminder)
    html = delivered_text(reminder, "html")
    assert "Jeg kan ikke komme" in html and "/min-side/afbud/" in html
    return match.group(1)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_one_click_from_the_reminder_cancels_the_visit_and_tells_everyone(app, world):
    need = _need(world, "once", days_ahead=1)
    signup.sign_up(world["sofie"], need.id, utcnow())
    visit = _first_visit(world["sofie"])
    link = _reminder_link(app, visit)
    tablet = app.test_client()  # not logged in
    asked = _text(tablet.get(link))
    day = to_local(visit.occurrence.starts_at).date()
    assert "Jeg kan ikke komme" in asked and "Spiseven på Bakkegården" in asked
    assert f"den {day.day}." in asked and "kl. 17.30" in asked
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).state == VisitState.SCHEDULED  # a GET asks only
    answer = tablet.post(link, data={"reason": "Jeg er forkølet"})
    assert answer.status_code == 302  # and back to the link's page, which now says so
    done = _text(tablet.get(answer.headers["Location"]))
    assert "Tak, fordi du sagde til." in done and "Dit besøg er aflyst" in done
    db.session.expire_all()
    visit = db.session.get(Visit, visit.id)
    assert visit.state == VisitState.CANCELLED and visit.cancel_reason == "Jeg er forkølet"
    (told,) = queued(f"visit-cancelled:{visit.id}:")
    assert told.recipient_email == "mette@example.org" and "Jeg er forkølet" in told.body_text
    (centre,) = queued(f"visit-cancelled-centre:{visit.id}:")  # it was due tomorrow
    assert centre.recipient_email == "center@example.org"
    assert "Jeg er forkølet" not in centre.body_text  # the centre never gets the reason
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.cancelled"))
    assert event.actor_id == world["sofie"].id and event.details["via"] == "reminder_link"
    # Used again, the link says it is done already and changes nothing.
    again = _text(tablet.post(link))
    assert "Dit besøg er aflyst" in again and "Ja, meld afbud" not in again
    assert len(queued(f"visit-cancelled:{visit.id}:")) == 1


def test_a_one_off_place_goes_to_the_next_on_the_waiting_list(app, world):
    need = _need(world, "once", days_ahead=3)
    signup.sign_up(world["sofie"], need.id, utcnow())
    signup.sign_up(world["ole"], need.id, utcnow())  # full: Ole waits
    link = _reminder_link(app, _first_visit(world["sofie"]))
    app.test_client().post(link)
    db.session.expire_all()
    states = dict(db.session.execute(select(Assignment.volunteer_id, Assignment.state)).all())
    assert states == {
        world["sofie"].id: AssignmentState.WITHDRAWN,
        world["ole"].id: AssignmentState.INVITED,
    }
    ole = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == world["ole"].id))
    assert ole.invite_expires_at is not None and ole.invite_expires_at > utcnow()
    (offer,) = queued(f"invitation:{ole.id}:")
    assert offer.recipient_email == "ole@example.org"


def test_a_weekly_pair_keeps_its_place_and_its_other_dates(app, world):
    need = _need(world, "weekly", days_ahead=2)
    signup.sign_up(world["sofie"], need.id, utcnow())
    visit = _first_visit(world["sofie"])
    app.test_client().post(_reminder_link(app, visit))
    db.session.expire_all()
    assert db.session.scalar(select(Assignment.state)) == AssignmentState.ACCEPTED
    states = db.session.scalars(
        select(Visit.state).where(Visit.volunteer_id == world["sofie"].id).order_by(Visit.id)
    ).all()
    assert states[0] == VisitState.CANCELLED and set(states[1:]) == {VisitState.SCHEDULED}
    assert len(states) > 1


def test_the_button_on_min_side_gives_up_a_one_off_place_too(app, client, world):
    need = _need(world, "once", days_ahead=3)
    signup.sign_up(world["sofie"], need.id, utcnow())
    signup.sign_up(world["ole"], need.id, utcnow())
    log_in(client, world["sofie"])
    visit = _first_visit(world["sofie"])
    client.post(f"/min-side/besoeg/{visit.id}/aflys", data={"reason": "Syg"})
    db.session.expire_all()
    ole = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == world["ole"].id))
    assert ole.state == AssignmentState.INVITED


@pytest.mark.parametrize("spoil", ["tampered", "someone else's visit", "expired", "closed"])
def test_a_bad_link_cancels_nothing(app, world, spoil):
    need = _need(world, "weekly", days_ahead=2)
    signup.sign_up(world["sofie"], need.id, utcnow())
    signup_ole = _need(world, "weekly", days_ahead=4)
    signup.sign_up(world["ole"], signup_ole.id, utcnow())
    visit, oles = _first_visit(world["sofie"]), _first_visit(world["ole"])
    token = cannot_come.make_token(visit.id, visit.volunteer_id)
    if spoil == "tampered":
        token = token[:-3] + "abc"
    elif spoil == "someone else's visit":
        token = cannot_come.make_token(oles.id, visit.volunteer_id)
    elif spoil == "expired":
        app.config["CANNOT_COME_MAX_AGE_S"] = -1
    else:
        world["sofie"].active = False
        db.session.commit()
    tablet = app.test_client()
    for method in (tablet.get, tablet.post):
        response = method(f"/min-side/afbud/{token}")
        assert response.status_code == 302
    page = _text(tablet.get(response.headers["Location"], follow_redirects=True))
    assert "Linket virker ikke længere." in page
    db.session.expire_all()
    assert {v.state for v in db.session.scalars(select(Visit))} == {VisitState.SCHEDULED}


def test_a_started_visit_cannot_be_called_off_from_the_link(app, world):
    need = _need(world, "weekly", days_ahead=2)
    signup.sign_up(world["sofie"], need.id, utcnow())
    visit = _first_visit(world["sofie"])
    visit.occurrence.starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    tablet = app.test_client()
    token = cannot_come.make_token(visit.id, visit.volunteer_id)
    for method in (tablet.get, tablet.post):
        page = _text(method(f"/min-side/afbud/{token}"))
        assert "Besøget kan ikke aflyses her" in page
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).state == VisitState.SCHEDULED
