"""From "Kør matchning" to an accepted invitation, and the rules around it."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

import factories
from support import count_queries
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Assignment, MatchRun, OutboxMessage, Role, Visit
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers.models import AvailabilityWindow


def _login(client, user):
    response = client.post(
        "/konto/log-ind", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def _volunteer(org, postcode="7130", name=None, weekday=3):
    user = factories.user(postcode=postcode, **({"name": name} if name else {}))
    user.profile.availability = [
        AvailabilityWindow(weekday=weekday, start_time=time(16), end_time=time(21))
    ]
    user.profile.max_km = 15
    user.profile.organisations.append(org)
    db.session.commit()
    return user


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    activity = factories.activity_type("spisevenner")
    coordinator = factories.user(role=Role.COORDINATOR, organisations=[org])
    need = factories.need(
        org, activity, title="Spiseven i Juelsminde", slots=1, first_date=date(2026, 1, 1)
    )
    far_need = factories.need(
        org,
        activity,
        title="Spiseven i Tørring",
        postcode="7160",
        slots=1,
        first_date=date(2026, 1, 1),
    )
    for n in (need, far_need):
        sync_occurrences(n, utcnow().date())
    db.session.commit()
    near = _volunteer(org, name="Karen Jensen")
    return {"org": org, "coordinator": coordinator, "need": need, "far": far_need, "near": near}


def _run(client, world):
    response = client.post(
        "/koordinator/matchning",
        data={
            "organisation_id": world["org"].id,
            "local_area_id": 0,
            "activity_type_id": 0,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_from_run_to_accepted_invitation(client, world):
    _login(client, world["coordinator"])
    review_url = _run(client, world)
    page = client.get(review_url).get_data(as_text=True)
    assert "Karen Jensen" in page and "Spiseven i Juelsminde" in page
    assert "har tid torsdag 16.00–21.00" in page and "km væk" in page
    assert "Spiseven i Tørring" in page and "Ingen bor inden for rækkevidde." in page

    proposal = db.session.scalar(select(Assignment))
    assert proposal.state == "proposed" and proposal.source == "matching"
    run = db.session.scalar(select(MatchRun))
    assert run.status == "optimal" and run.proposals == 1 and run.needs == 2

    response = client.post(
        review_url + "/beslut", data={"proposal": [proposal.id], "action": "approve"}
    )
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.state == "invited" and proposal.invite_expires_at is not None
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == world["near"].id)
    )
    assert "Spiseven i Juelsminde" in mail.subject
    assert f"http://samskab.test/opgaver/{world['need'].id}" in mail.body_text

    client.post("/konto/log-ud")
    _login(client, world["near"])
    page = client.get(f"/opgaver/{world['need'].id}").get_data(as_text=True)
    assert "Ja, jeg tager den" in page
    response = client.post(f"/opgaver/tilbud/{proposal.id}/ja", follow_redirects=True)
    assert "Du har sagt ja." in response.get_data(as_text=True)
    db.session.refresh(proposal)
    assert proposal.state == "accepted"
    assert db.session.scalar(select(func.count()).select_from(Visit)) >= 4


def test_rerunning_keeps_accepted_pairs_and_proposes_nothing_for_full_needs(client, world):
    _login(client, world["coordinator"])
    _run(client, world)
    proposal = db.session.scalar(select(Assignment))
    proposal.state = "accepted"
    db.session.commit()
    _volunteer(world["org"], name="Ole Olsen")  # a second, equally good volunteer
    _run(client, world)
    rows = db.session.scalars(select(Assignment)).all()
    assert [(r.volunteer_id, r.state) for r in rows] == [(world["near"].id, "accepted")]


def test_a_rejected_proposal_is_not_proposed_again(client, world):
    _login(client, world["coordinator"])
    review_url = _run(client, world)
    proposal = db.session.scalar(select(Assignment))
    client.post(review_url + "/beslut", data={"proposal": [proposal.id], "action": "reject"})
    db.session.refresh(proposal)
    assert proposal.state == "declined"
    _run(client, world)
    assert db.session.scalar(select(func.count()).where(Assignment.state == "proposed")) == 0


def test_swap_in_a_candidate_from_the_shortlist(client, world):
    other = _volunteer(world["org"], name="Ole Olsen", postcode="7130")
    _login(client, world["coordinator"])
    review_url = _run(client, world)
    page = client.get(review_url).get_data(as_text=True)
    proposal = db.session.scalar(select(Assignment))
    replacement = other if proposal.volunteer_id != other.id else world["near"]
    assert f'value="{replacement.id}"' in page
    response = client.post(f"{review_url}/byt/{proposal.id}", data={"volunteer_id": replacement.id})
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.volunteer_id == replacement.id and proposal.source == "manual"


def test_volunteers_outside_the_organisation_are_not_proposed(client, world):
    stranger_org = factories.organisation("Røde Kors")
    for assignment_holder in [world["near"]]:
        assignment_holder.profile.organisations.clear()
    db.session.commit()
    _volunteer(stranger_org, name="Fremmed Frivillig")
    _login(client, world["coordinator"])
    _run(client, world)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_another_organisation_cannot_see_or_decide_a_run(client, world):
    _login(client, world["coordinator"])
    review_url = _run(client, world)
    proposal = db.session.scalar(select(Assignment))
    client.post("/konto/log-ud")
    stranger = factories.user(
        role=Role.COORDINATOR, organisations=[factories.organisation("Ældre Sagen")]
    )
    _login(client, stranger)
    assert client.get(review_url).status_code == 404
    client.post(review_url + "/beslut", data={"proposal": [proposal.id], "action": "approve"})
    db.session.refresh(proposal)
    assert proposal.state == "proposed"
    response = client.post(
        "/koordinator/matchning",
        data={"organisation_id": world["org"].id, "local_area_id": 0, "activity_type_id": 0},
    )
    assert response.status_code == 200  # not one of the choices: a form error, nothing run
    assert db.session.scalar(select(func.count()).select_from(MatchRun)) == 1


def test_volunteers_cannot_run_matching(client, world):
    _login(client, world["near"])
    assert client.get("/koordinator/matchning").status_code == 403


def test_match_run_command_with_dry_run(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["match", "run", "--organisation", "Hedensted Kommune", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "Dry run: 1 proposals for 2 needs" in result.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    result = runner.invoke(args=["match", "run", "--organisation", str(world["org"].id)])
    assert "1 proposals" in result.output
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1


def test_a_volunteers_page_suggests_needs_they_can_take(client, world):
    _login(client, world["near"])
    page = client.get("/min-side/").get_data(as_text=True)
    assert "Forslag til dig" in page
    assert "Spiseven i Juelsminde" in page and "har tid torsdag 16.00–21.00" in page
    assert "Spiseven i Tørring" not in page  # too far for 15 km
    client.post(f"/opgaver/{world['need'].id}/tilmeld")
    page = client.get("/min-side/").get_data(as_text=True)
    assert "Forslag til dig" not in page  # the only feasible need is now theirs


def test_the_review_page_runs_a_fixed_number_of_queries(client, world):
    _login(client, world["coordinator"])
    activity = world["need"].activity_type
    few = count_queries(client, _run(client, world))
    for i in range(4):
        _volunteer(world["org"], name=f"Ekstra Frivillig{i}")
        need = factories.need(
            world["org"], activity, title=f"Ekstra {i}", first_date=date(2026, 1, 1)
        )
        sync_occurrences(need, utcnow().date())
    db.session.commit()
    many = count_queries(client, _run(client, world))
    assert few == many, (few, many)
