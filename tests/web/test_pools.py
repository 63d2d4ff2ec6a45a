"""Local-area funds (puljer): the grant given with the answer (only the council, at most what
is left, once, audited), the residents' approval vote (one per account, pool and proposal,
also when two requests come at once), and the public pages in Danish kroner."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from support import factories
from support.auth import log_in
from support.factories import coordinator, member
from volunteer.extensions import db
from volunteer.models import AuditEvent, Pool, PoolGrant, PoolVote, ProposalState, User
from volunteer.proposals import pools, services

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene(app):
    org = factories.organisation("Hedensted Kommune")
    council = factories.organisation("Løsning Lokalråd")
    council.kind = "local_council"
    area = factories.local_area("Løsning", "7860", council)
    other_area = factories.local_area("Juelsminde", "7130")
    db.session.commit()
    pool = Pool(local_area_id=area.id, year=2026, amount_ore=500_000, voting=True)
    db.session.add(pool)
    db.session.commit()
    citizen = member(org, name="Birte Borger", postcode="7860")
    proposal = factories.proposal(
        citizen, None, submitted_at=NOW, local_area_id=area.id, postcode="7860", amount_ore=200_000
    )
    neighbours = [member(org, name=f"Nabo {i}", postcode="7860") for i in range(2)]
    for person in neighbours:
        person.profile.local_area_id = area.id
    stranger = member(org, name="Fremmed Person", postcode="7130")
    stranger.profile.local_area_id = other_area.id
    db.session.commit()
    return {
        "pool": pool,
        "area": area,
        "proposal": proposal,
        "citizen": citizen,
        "neighbours": neighbours,
        "stranger": stranger,
        "council": coordinator(council, name="Lars Lokalråd"),
        "coordinator": coordinator(org, name="Karen Koordinator"),
        "admin": factories.user(role="admin"),
    }


def test_the_council_grants_with_the_adoption_and_it_is_audited(scene):
    proposal = scene["proposal"]
    services.answer(scene["council"], proposal, "adopted", "Godt forslag", NOW, grant_ore=200_000)
    grant = db.session.scalar(select(PoolGrant))
    assert grant.amount_ore == 200_000 and grant.granted_by_id == scene["council"].id
    assert pools.left_ore(scene["pool"]) == 300_000
    assert (
        db.session.scalar(
            select(func.count()).where(
                AuditEvent.action == "pool.grant", AuditEvent.object_id == proposal.id
            )
        )
        == 1
    )


@pytest.mark.parametrize(
    ("amount", "to", "code"),
    [(600_000, "adopted", "too_much"), (100, "declined", "not_adopted"), (-1, "adopted", "range")],
)
def test_a_grant_beyond_the_fund_or_without_adoption_changes_nothing(scene, amount, to, code):
    proposal = scene["proposal"]
    with pytest.raises(services.ProposalError) as caught:
        services.answer(scene["council"], proposal, to, "Nej tak", NOW, grant_ore=amount)
    assert caught.value.code == code
    db.session.expire_all()
    assert proposal.state == ProposalState.RECEIVED
    assert db.session.scalar(select(func.count()).select_from(PoolGrant)) == 0


def test_only_the_answerers_grant_and_only_once(scene):
    proposal = scene["proposal"]
    with pytest.raises(services.ProposalError) as caught:
        services.answer(scene["citizen"], proposal, "adopted", "", NOW, grant_ore=100)
    assert caught.value.code == "not_answerer"
    services.answer(scene["admin"], proposal, "adopted", "", NOW)
    with pytest.raises(pools.PoolError, match="not_answerer"):
        pools.grant(scene["coordinator"], proposal, 100, NOW)
    pools.grant(scene["council"], proposal, 100_000, NOW, commit=True)
    with pytest.raises(pools.PoolError, match="granted_already"):
        pools.grant(scene["council"], proposal, 100, NOW)
    with pytest.raises(pools.PoolError, match="positive"):
        pools.grant(scene["council"], scene["proposal"], 0, NOW)


def test_a_proposal_without_a_fund_for_its_year_cannot_be_granted(scene):
    later = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    proposal = factories.proposal(
        scene["citizen"], None, submitted_at=later, local_area_id=scene["area"].id, postcode="7860"
    )
    with pytest.raises(services.ProposalError) as caught:
        services.answer(scene["council"], proposal, "adopted", "", later, grant_ore=100)
    assert caught.value.code == "no_pool"


def test_residents_approve_once_each_and_others_cannot(scene):
    proposal, (a, b) = scene["proposal"], scene["neighbours"]
    pools.vote(a, proposal, NOW)
    pools.vote(b, proposal, NOW)
    with pytest.raises(pools.PoolError, match="voted_already"):
        pools.vote(a, proposal, NOW)
    with pytest.raises(pools.PoolError, match="not_resident"):
        pools.vote(scene["stranger"], proposal, NOW)
    # The postcode counts when the profile has no local area.
    assert pools.is_resident(scene["citizen"], scene["pool"])
    assert pools.votes_for(proposal) == 2
    assert [(p.id, n) for p, n in pools.vote_results(scene["pool"])] == [(proposal.id, 2)]
    # Approval voting: the same resident approves another proposal too.
    second = factories.proposal(
        scene["citizen"], None, submitted_at=NOW, local_area_id=scene["area"].id, postcode="7860"
    )
    pools.vote(a, second, NOW)
    assert db.session.scalar(select(func.count()).select_from(PoolVote)) == 3


def test_the_vote_closes_on_its_day_and_with_the_answer(scene):
    pool, proposal, (a, b) = scene["pool"], scene["proposal"], scene["neighbours"]
    pool.voting_closes_on = date(2026, 11, 30)
    db.session.commit()
    pools.vote(a, proposal, NOW)
    with pytest.raises(pools.PoolError, match="vote_closed"):
        pools.vote(b, proposal, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December locally
    pool.voting_closes_on = None
    services.answer(scene["council"], proposal, "adopted", "", NOW)
    with pytest.raises(pools.PoolError, match="vote_closed"):
        pools.vote(b, proposal, NOW)
    pool.voting = False
    db.session.commit()
    with pytest.raises(pools.PoolError, match="no_vote"):
        pools.vote(b, proposal, NOW)


def test_two_votes_at_once_count_once(app, backend, scene):
    """Two requests from the same account at the same moment: the unique constraint keeps one,
    the other gets the Danish "already voted" message, never a 500."""
    if backend != "postgresql":
        pytest.skip("a race needs a real server")
    user_id, proposal_id = scene["neighbours"][0].id, scene["proposal"].id
    db.session.close()
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    real_has_voted = pools.has_voted

    def worker() -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                proposal = services.visible_proposal(user, proposal_id)
                real_has_voted(user, pools.pool_for(proposal, NOW), proposal)
                barrier.wait()
                pools.vote(user, proposal, NOW)
                outcomes.append("voted")
            except pools.PoolError as exc:
                outcomes.append(exc.code)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    # Both pass the "has voted?" check before either inserts.
    pools.has_voted = lambda *args: False  # type: ignore[assignment]
    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        pools.has_voted = real_has_voted  # type: ignore[assignment]
    assert not errors, errors
    assert sorted(outcomes) == ["voted", "voted_already"]
    assert db.session.scalar(select(func.count()).select_from(PoolVote)) == 1


def test_the_pages_show_kroner_grants_and_votes(scene, client):
    proposal = scene["proposal"]
    pools.vote(scene["neighbours"][0], proposal, NOW)
    services.answer(scene["council"], proposal, "adopted", "", NOW, grant_ore=200_000)
    page = client.get("/puljer").get_data(as_text=True)
    assert "Løsning" in page and "5.000,00 kr." in page and "3.000,00 kr." in page
    page = client.get(f"/puljer/{scene['pool'].id}").get_data(as_text=True)
    assert proposal.title in page and "2.000,00 kr." in page and "1 stemme" in page
    assert client.get("/puljer/999").status_code == 404


def test_a_resident_votes_from_the_proposal_page(scene, client):
    proposal = scene["proposal"]
    log_in(client, scene["neighbours"][1])
    page = client.get(f"/forslag/{proposal.id}").get_data(as_text=True)
    assert "Stem for forslaget" in page
    response = client.post(f"/forslag/{proposal.id}/stem", follow_redirects=True)
    assert "Tak for din stemme" in response.get_data(as_text=True)
    response = client.post(f"/forslag/{proposal.id}/stem", follow_redirects=True)
    assert "Du har allerede stemt på forslaget" in response.get_data(as_text=True)


def test_the_council_grants_from_the_answer_form(scene, client):
    proposal = scene["proposal"]
    log_in(client, scene["council"])
    page = client.get(f"/forslag/{proposal.id}/svar").get_data(as_text=True)
    assert "5.000,00 kr." in page
    response = client.post(
        f"/forslag/{proposal.id}/svar",
        data={"state": "adopted", "text": "Ja", "grant": "6000,00"},
        follow_redirects=True,
    )
    assert "mere end puljen har tilbage" in response.get_data(as_text=True)
    response = client.post(
        f"/forslag/{proposal.id}/svar",
        data={"state": "adopted", "text": "Ja", "grant": "2000"},
        follow_redirects=True,
    )
    assert "Bevilget: 2.000,00 kr." in response.get_data(as_text=True)


def test_the_demo_has_a_fund_per_local_area_and_proposals_1_to_5_stay(app):
    from volunteer import demo

    demo.seed(date(2026, 11, 30), volunteers=40)
    assert db.session.scalar(select(func.count()).select_from(Pool)) == 12
    titles = dict(db.session.execute(select(services.Proposal.id, services.Proposal.title)).all())
    assert titles[1] == "Vi vil starte en gåklub i Løsning" and titles[5].startswith("Havehold")
    assert {titles[6], titles[7]} == {
        "Cykling uden alder i Tørring",
        "Bænke på stien langs stranden i Juelsminde",
    }
    assert db.session.scalar(select(func.sum(PoolGrant.amount_ore))) == 1_200_000
    page = app.test_client().get("/puljer").get_data(as_text=True)
    assert "Hornsyld" in page and "9.000,00 kr." in page


def test_an_administrator_creates_a_fund_once_per_area_and_year(scene, client):
    log_in(client, scene["admin"])
    data = {
        "local_area_id": str(scene["area"].id),
        "year": "2027",
        "amount": "40000",
        "voting": "y",
        "voting_closes_on": "2027-03-01",
    }
    response = client.post("/puljer/ny", data=data, follow_redirects=True)
    assert "Puljen er oprettet" in response.get_data(as_text=True)
    pool = db.session.scalar(select(Pool).where(Pool.year == 2027))
    assert pool.amount_ore == 4_000_000 and pool.voting_closes_on == date(2027, 3, 1)
    again = client.post("/puljer/ny", data=data).get_data(as_text=True)
    assert "har allerede en pulje for det år" in again
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "pool.create")) == 1
    council = client.application.test_client()
    log_in(council, scene["council"])
    assert council.get("/puljer/ny").status_code == 403
