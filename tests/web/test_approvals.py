"""Approval before the first visit: a yes to an activity that asks for it waits as pending (its
place kept, no visits booked, the coordinators asked to call) until a coordinator of the need's
organisation records the first talk and approves, or declines with a reason."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from support import delivered_text, factories
from support.auth import log_in
from volunteer import bookings
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import (
    Approval,
    Assignment,
    AssignmentState,
    OutboxMessage,
    Role,
    Visit,
)
from volunteer.needs import signup
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers import services as volunteers
from volunteer.volunteers.models import AvailabilityWindow


def _volunteer(org, **fields):
    person = factories.user(phone="22334455", **fields)
    person.profile.availability = [
        AvailabilityWindow(weekday=day, start_time=time(8), end_time=time(22)) for day in range(7)
    ]
    person.profile.weekly_capacity = 3
    person.profile.max_km = 30
    person.profile.organisations.append(org)
    db.session.commit()
    return person


def _need(org, activity, **fields):
    today = local_today(utcnow())
    fields.setdefault("first_date", today - timedelta(days=7))
    fields.setdefault("weekday", today.weekday())
    need = factories.need(org, activity, **fields)
    sync_occurrences(need, today, weeks=4)
    db.session.commit()
    return need


@pytest.fixture
def world(app):
    org, other_org = (
        factories.organisation("Hedensted Kommune"),
        factories.organisation("Røde Kors"),
    )
    visiting = factories.activity_type("besoegsven")
    visiting.requires_approval = True
    meals = factories.activity_type("spisevenner")
    db.session.commit()
    return {
        "org": org,
        "coordinator": factories.user(role=Role.COORDINATOR, organisations=[org]),
        "other_coordinator": factories.user(role=Role.COORDINATOR, organisations=[other_org]),
        "visiting": visiting,
        "need": _need(org, visiting, title="Besøgsven hos Inger", slots=1),
        "meals": _need(
            org, meals, title="Spiseven i Juelsminde", start_time=time(8), end_time=time(9)
        ),
        "volunteer": _volunteer(org, name="Birthe Hansen"),
    }


def _mine(need, volunteer):
    db.session.expire_all()
    return db.session.scalar(
        select(Assignment).where(Assignment.need_id == need.id, Assignment.volunteer == volunteer)
    )


def _visits(volunteer):
    return db.session.scalar(select(func.count()).where(Visit.volunteer_id == volunteer.id))


def _messages(kind):
    """Outbox messages of one kind, by their dedup key ("approval-asked:…")."""
    prefix = kind.replace("_", "-") + ":"
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(prefix)))
    )


def test_a_yes_waits_for_approval_keeps_the_place_and_asks_the_coordinator(app, world, client):
    need, birthe = world["need"], world["volunteer"]
    log_in(client, birthe)
    response = client.post(f"/opgaver/{need.id}/tilmeld", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "ringer en koordinator til dig" in page

    mine = _mine(need, birthe)
    assert mine.state == AssignmentState.PENDING
    assert _visits(birthe) == 0  # the centre expects nobody before the approval
    assert bookings.free_places(db.session.get(type(need), need.id)) == 0  # the place is kept
    (asked,) = _messages("approval_asked")
    assert asked.recipient_id == world["coordinator"].id
    text = delivered_text(asked)
    assert "Birthe Hansen" in text and "22334455" in text and "/koordinator/godkendelser" in text

    # Another volunteer now finds the need full (the pending yes holds its one place).
    other = _volunteer(world["org"])
    assert signup.sign_up(other, need.id, utcnow()).waitlisted


def test_the_coordinator_approves_after_the_first_talk_and_the_dates_are_booked(app, world, client):
    need, birthe = world["need"], world["volunteer"]
    signup.sign_up(birthe, need.id, utcnow())
    log_in(client, world["coordinator"])
    queue = client.get("/koordinator/godkendelser").get_data(as_text=True)
    assert "Birthe Hansen" in queue and "Besøgsven hos Inger" in queue and "22334455" in queue
    mine = _mine(need, birthe)
    url = f"/koordinator/godkendelser/{mine.id}/godkend"

    missing = client.post(url, data={"talked_on": ""}, follow_redirects=True)
    assert "Skriv datoen for din første samtale" in missing.get_data(as_text=True)
    tomorrow = local_today(utcnow()) + timedelta(days=1)
    future = client.post(url, data={"talked_on": tomorrow.isoformat()}, follow_redirects=True)
    assert "Samtalen kan ikke ligge i fremtiden." in future.get_data(as_text=True)
    assert _mine(need, birthe).state == AssignmentState.PENDING

    today = local_today(utcnow())
    done = client.post(url, data={"talked_on": today.isoformat()}, follow_redirects=True)
    assert "Birthe Hansen er godkendt" in done.get_data(as_text=True)
    assert _mine(need, birthe).state == AssignmentState.ACCEPTED
    assert _visits(birthe) >= 3  # the weekly dates ahead
    approval = db.session.scalar(select(Approval))
    assert (approval.talked_on, approval.approved_by_id) == (today, world["coordinator"].id)
    (told,) = _messages("approval_given")
    assert told.recipient_id == birthe.id

    # Approved once for the type in this organisation: her next sign-up is accepted at once.
    second = _need(
        world["org"],
        world["visiting"],
        title="Besøgsven hos Aage",
        start_time=time(8),
        end_time=time(9),
    )
    assert signup.sign_up(birthe, second.id, utcnow()).assignment.state == AssignmentState.ACCEPTED


def test_declining_needs_a_reason_and_tells_the_volunteer(app, world, client):
    need, birthe = world["need"], world["volunteer"]
    signup.sign_up(birthe, need.id, utcnow())
    mine = _mine(need, birthe)
    log_in(client, world["coordinator"])
    url = f"/koordinator/godkendelser/{mine.id}/afvis"
    empty = client.post(url, data={"reason": "  "}, follow_redirects=True)
    assert "Skriv en kort begrundelse" in empty.get_data(as_text=True)
    assert _mine(need, birthe).state == AssignmentState.PENDING

    client.post(url, data={"reason": "Inger ønsker en besøgsven, der kan komme om formiddagen."})
    assert _mine(need, birthe).state == AssignmentState.DECLINED
    (told,) = _messages("approval_declined")
    assert told.recipient_id == birthe.id
    assert "kan komme om formiddagen" in delivered_text(told)
    assert bookings.free_places(need) == 1  # the place is free again
    assert db.session.scalar(select(func.count()).select_from(Approval)) == 0


def test_another_organisation_cannot_see_or_answer_the_queue(app, world, client):
    need, birthe = world["need"], world["volunteer"]
    signup.sign_up(birthe, need.id, utcnow())
    mine = _mine(need, birthe)
    log_in(client, world["other_coordinator"])
    assert "Birthe Hansen" not in client.get("/koordinator/godkendelser").get_data(as_text=True)
    today = local_today(utcnow()).isoformat()
    response = client.post(
        f"/koordinator/godkendelser/{mine.id}/godkend", data={"talked_on": today}
    )
    assert response.status_code == 404
    assert _mine(need, birthe).state == AssignmentState.PENDING
    volunteer_client = app.test_client()
    log_in(volunteer_client, birthe)
    assert volunteer_client.get("/koordinator/godkendelser").status_code == 403


def test_an_accepted_invitation_also_waits_and_the_volunteer_may_withdraw(app, world, client):
    need, birthe = world["need"], world["volunteer"]
    row = bookings.start(need.id, birthe, AssignmentState.PROPOSED, utcnow(), source="matching")
    bookings.move(row, AssignmentState.INVITED, utcnow())
    db.session.commit()
    assert signup.accept_invitation(birthe, row.id, utcnow()).state == AssignmentState.PENDING
    assert _visits(birthe) == 0

    log_in(client, birthe)
    page = client.get(f"/opgaver/{need.id}").get_data(as_text=True)
    assert "ringer en koordinator til dig" in page
    volunteers.withdraw(birthe, row.id, utcnow())
    assert _mine(need, birthe).state == AssignmentState.WITHDRAWN


def test_activities_without_the_rule_are_accepted_at_once(app, world):
    birthe = world["volunteer"]
    result = signup.sign_up(birthe, world["meals"].id, utcnow())
    assert result.assignment.state == AssignmentState.ACCEPTED
    assert not _messages("approval_asked")
