"""From "Kør matchning" to an accepted invitation, and the rules around it."""

from __future__ import annotations

from datetime import date, time, timedelta
from time import monotonic

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import matching
from support import count_queries, factories
from support.auth import log_in
from volunteer.coordination import runs
from volunteer.coordination.models import RunState
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Assignment, JobRun, MatchRun, OutboxMessage, Role, Visit
from volunteer.needs.services import sync_occurrences
from volunteer.scheduler import run_job
from volunteer.volunteers.models import AvailabilityWindow


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
    """Queue a run as the coordinator does, let the worker solve it; the review page's URL."""
    response = client.post(
        "/koordinator/matchning",
        data={
            "organisation_id": world["org"].id,
            "local_area_id": 0,
            "activity_type_id": 0,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    progress = response.headers["Location"]
    assert progress.endswith("/status")
    assert runs.run_queued(utcnow())["done"] == 1
    return progress.removesuffix("/status")


def test_from_run_to_accepted_invitation(client, world):
    log_in(client, world["coordinator"])
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
    log_in(client, world["near"])
    page = client.get(f"/opgaver/{world['need'].id}").get_data(as_text=True)
    assert "Ja, jeg tager den" in page
    response = client.post(f"/opgaver/tilbud/{proposal.id}/ja", follow_redirects=True)
    assert "Du har sagt ja." in response.get_data(as_text=True)
    db.session.refresh(proposal)
    assert proposal.state == "accepted"
    assert db.session.scalar(select(func.count()).select_from(Visit)) >= 4


def test_rerunning_keeps_accepted_pairs_and_proposes_nothing_for_full_needs(client, world):
    log_in(client, world["coordinator"])
    _run(client, world)
    proposal = db.session.scalar(select(Assignment))
    proposal.state = "accepted"
    db.session.commit()
    _volunteer(world["org"], name="Ole Olsen")  # a second, equally good volunteer
    _run(client, world)
    rows = db.session.scalars(select(Assignment)).all()
    assert [(r.volunteer_id, r.state) for r in rows] == [(world["near"].id, "accepted")]


def test_a_rejected_proposal_is_not_proposed_again(client, world):
    log_in(client, world["coordinator"])
    review_url = _run(client, world)
    proposal = db.session.scalar(select(Assignment))
    client.post(review_url + "/beslut", data={"proposal": [proposal.id], "action": "reject"})
    db.session.refresh(proposal)
    assert proposal.state == "declined"
    _run(client, world)
    assert db.session.scalar(select(func.count()).where(Assignment.state == "proposed")) == 0


def test_swap_in_a_candidate_from_the_shortlist(client, world):
    other = _volunteer(world["org"], name="Ole Olsen", postcode="7130")
    log_in(client, world["coordinator"])
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
    log_in(client, world["coordinator"])
    _run(client, world)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_another_organisation_cannot_see_or_decide_a_run(client, world):
    log_in(client, world["coordinator"])
    review_url = _run(client, world)
    proposal = db.session.scalar(select(Assignment))
    client.post("/konto/log-ud")
    stranger = factories.user(
        role=Role.COORDINATOR, organisations=[factories.organisation("Ældre Sagen")]
    )
    log_in(client, stranger)
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
    log_in(client, world["near"])
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
    log_in(client, world["near"])
    page = client.get("/min-side/").get_data(as_text=True)
    assert "Forslag til dig" in page
    assert "Spiseven i Juelsminde" in page and "har tid torsdag 16.00–21.00" in page
    assert "Spiseven i Tørring" not in page  # too far for 15 km
    client.post(f"/opgaver/{world['need'].id}/tilmeld")
    page = client.get("/min-side/").get_data(as_text=True)
    assert "Forslag til dig" not in page  # the only feasible need is now theirs


def test_the_review_page_runs_a_fixed_number_of_queries(client, world):
    log_in(client, world["coordinator"])
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


# The run goes to the worker: queued by the POST, solved by the matching_runs job.


def _queue(client, world):
    return client.post(
        "/koordinator/matchning",
        data={"organisation_id": world["org"].id, "local_area_id": 0, "activity_type_id": 0},
    )


def _solving_forbidden(*args, **kwargs):
    raise AssertionError("the web request solved the matching")


def test_the_post_only_queues_the_run_and_the_worker_solves_it(app, client, world, monkeypatch):
    log_in(client, world["coordinator"])
    with monkeypatch.context() as patch:
        patch.setattr("matching.solve", _solving_forbidden)
        started = monotonic()
        response = _queue(client, world)
        elapsed = monotonic() - started
    assert response.status_code == 302 and elapsed < 2.0, elapsed
    run = db.session.scalar(select(MatchRun))
    assert response.headers["Location"] == f"/koordinator/matchning/{run.id}/status"
    assert (run.state, run.created_by_id, run.started_at) == (
        "queued",
        world["coordinator"].id,
        None,
    )
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0

    page = client.get(f"/koordinator/matchning/{run.id}/status").get_data(as_text=True)
    assert "<h1>Matchningskørsel</h1>" in page and "Hedensted Kommune" in page
    assert 'aria-live="polite"' in page and 'aria-current="step">I kø' in page
    assert "js/run-progress.js" in page and "<script>" not in page
    assert client.get(f"/koordinator/matchning/{run.id}").headers["Location"].endswith("/status")
    status = client.get(f"/koordinator/matchning/{run.id}/status.json").get_json()
    assert (status["key"], status["finished"]) == ("queued", False)

    assert run_job(app, "matching_runs") == {"stale": 0, "done": 1, "failed": 0}
    db.session.expire_all()
    assert run.state == "done" and run.started_at <= run.finished_at
    assert (run.needs, run.volunteers, run.proposals, run.status) == (2, 1, 1, "optimal")
    assert db.session.scalar(select(Assignment)).match_run_id == run.id
    status = client.get(f"/koordinator/matchning/{run.id}/status.json").get_json()
    assert (status["key"], status["finished"]) == ("done", True)
    page = client.get(f"/koordinator/matchning/{run.id}/status").get_data(as_text=True)
    assert "data-poll-url" not in page and "run-progress.js" not in page
    for figure in ("Nye forslag</dt><dd", "Pladser stadig uden frivillig</dt><dd"):
        assert figure in page
    assert "bedst mulige resultat" in page and "sekunder" in page
    assert f'href="/koordinator/matchning/{run.id}">Se forslagene</a>' in page


def test_a_second_run_is_refused_while_one_is_queued(client, world):
    log_in(client, world["coordinator"])
    first = _queue(client, world).headers["Location"]
    response = _queue(client, world)
    assert response.headers["Location"] == first
    page = client.get(first).get_data(as_text=True)
    assert "Der er allerede en matchning i gang for denne organisation" in page
    assert db.session.scalar(select(func.count()).select_from(MatchRun)) == 1
    runs.run_queued(utcnow())
    assert _queue(client, world).headers["Location"] != first  # finished: a new one may start


def test_the_database_allows_one_active_run_per_organisation(world):
    # Two requests at the same moment both pass the service's check; the index stops one.
    for _ in range(2):
        db.session.add(MatchRun(organisation=world["org"], state=RunState.QUEUED))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_failing_engine_leaves_a_failed_run_and_no_proposals(app, client, world, monkeypatch):
    admin = factories.user(role=Role.ADMIN)
    log_in(client, world["coordinator"])
    run_url = _queue(client, world).headers["Location"]

    def exploding(*args, **kwargs):
        raise RuntimeError("the solver exploded")

    monkeypatch.setattr("matching.solve", exploding)
    assert runs.run_queued(utcnow()) == {"stale": 0, "done": 0, "failed": 1}
    run = db.session.scalar(select(MatchRun))
    assert run.state == "failed" and run.error == "RuntimeError: the solver exploded"
    assert run.finished_at is not None
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    page = client.get(run_url).get_data(as_text=True)
    assert "Matchningen kunne ikke gøres færdig" in page and "Kør matchning igen" in page
    assert "the solver exploded" not in page  # the technical message is for administrators
    client.post("/konto/log-ud")
    log_in(client, admin)
    assert "the solver exploded" in client.get(run_url).get_data(as_text=True)


def test_a_run_whose_worker_died_is_failed_after_the_timeout(app, world):
    now = utcnow()
    run = runs.queue(world["coordinator"], world["org"].id, now)
    assert runs.claim(now) == run.id  # … and then the worker is killed
    assert runs.run_queued(now + timedelta(minutes=4))["stale"] == 0
    db.session.refresh(run)
    assert run.state == "running"
    assert runs.run_queued(now + runs.STALE_AFTER + timedelta(seconds=1))["stale"] == 1
    db.session.refresh(run)
    assert run.state == "failed" and "no result after 5 minutes" in run.error
    runs.queue(world["coordinator"], world["org"].id, now)  # the organisation is free again


def test_a_worker_that_finishes_after_its_run_was_failed_as_stale_keeps_nothing(
    app, world, monkeypatch
):
    now = utcnow()
    run = runs.queue(world["coordinator"], world["org"].id, now)
    real_solve = matching.solve

    def slow(*args, **kwargs):
        result = real_solve(*args, **kwargs)
        with app.app_context():  # another worker's turn, much later
            assert runs.fail_stale(now + runs.STALE_AFTER + timedelta(minutes=1)) == 1
        return result

    monkeypatch.setattr("matching.solve", slow)
    assert runs.run_queued(now)["failed"] == 1
    db.session.refresh(run)
    assert run.state == "failed" and "no result after" in run.error
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_runs_move_only_as_the_table_allows(world):
    run = runs.queue(world["coordinator"], world["org"].id, utcnow())
    with pytest.raises(runs.InvalidMove):
        runs.move(run.id, RunState.QUEUED, RunState.DONE)
    with pytest.raises(runs.InvalidMove):
        runs.move(run.id, RunState.DONE, RunState.RUNNING)
    assert runs.move(run.id, RunState.QUEUED, RunState.RUNNING, started_at=utcnow())
    assert not runs.move(run.id, RunState.QUEUED, RunState.RUNNING)  # someone was first


def test_two_workers_never_claim_the_same_run(world):
    other = factories.organisation("Ældre Sagen")
    now = utcnow()
    queued = [
        runs.queue(factories.user(role=Role.ADMIN), org.id, now) for org in (world["org"], other)
    ]
    claimed = [runs.claim(now), runs.claim(now), runs.claim(now)]
    assert claimed == [queued[0].id, queued[1].id, None]


def test_only_the_organisations_coordinators_and_admins_see_a_run(client, world):
    log_in(client, world["coordinator"])
    run_url = _queue(client, world).headers["Location"]
    client.post("/konto/log-ud")
    stranger = factories.user(
        role=Role.COORDINATOR, organisations=[factories.organisation("Ældre Sagen")]
    )
    log_in(client, stranger)
    assert client.get(run_url).status_code == 404
    assert client.get(run_url + ".json").status_code == 404
    client.post("/konto/log-ud")
    log_in(client, world["near"])
    assert client.get(run_url).status_code == 403
    client.post("/konto/log-ud")
    log_in(client, factories.user(role=Role.ADMIN))
    assert client.get(run_url).status_code == 200


def test_queued_runs_from_the_command_line(app, client, world):
    log_in(client, world["coordinator"])
    _queue(client, world)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "run", "--organisation", "Hedensted Kommune"])
    assert result.exit_code != 0 and "already queued or running" in result.output
    result = runner.invoke(args=["match", "run-queued"])
    assert result.exit_code == 0, result.output
    assert "matching_runs: stale=0 done=1 failed=0" in result.output
    _queue(client, world)
    result = runner.invoke(args=["jobs", "run", "matching_runs"])
    assert result.exit_code == 0 and "done=1" in result.output
    db.session.expire_all()
    assert db.session.get(JobRun, "matching_runs").runs == 2
    assert db.session.scalars(select(MatchRun.state)).all() == ["done", "done"]
