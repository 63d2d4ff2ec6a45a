"""Proposals (forslag): drafts, sending, the official answer's state machine, who may answer
(the responsible organisation's coordinators and the local area's council), the answer
deadline in local days, edit history, co-authors by a signed link, "Jeg er med", following,
comments with reports and hiding, the followers' digest and the overdue lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from support import factories
from support.auth import log_in
from support.factories import coordinator, member
from volunteer.coordination import attention
from volunteer.extensions import db
from volunteer.jobs.digests import coordinator_digest
from volunteer.models import (
    CommentReport,
    OutboxMessage,
    Proposal,
    ProposalComment,
    ProposalState,
    ProposalSupport,
    User,
)
from volunteer.notifications import links
from volunteer.proposals import services, states
from volunteer.proposals.digest import proposal_digests
from volunteer.proposals.states import TRANSITIONS, ForbiddenMove, NotAllowed, ReasonRequired

S = ProposalState
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene(app):
    org = factories.organisation("Hedensted Kommune")
    council = factories.organisation("Løsning Lokalråd")
    council.kind = "local_council"
    other = factories.organisation("Røde Kors")
    area = factories.local_area("Løsning", "7860", council)
    db.session.commit()
    people = {
        "citizen": member(org, name="Birte Borger"),
        "friend": member(org, name="Frede Frivillig"),
        "coordinator": coordinator(org, name="Karen Koordinator"),
        "council": coordinator(council, name="Lars Lokalråd"),
        "other_coordinator": coordinator(other, name="Ole Anden"),
        "admin": factories.user(role="admin"),
    }
    return {"org": org, "council": council, "other": other, "area": area, **people}


def _data(**overrides):  # type: ignore[no-untyped-def]
    values = dict(
        title="Gåklub i Løsning",
        what="Vi går en tur hver tirsdag",
        postcode="7860",
        for_whom="Alle, der vil gå",
        helpers_wanted=2,
        helper_roles="To turledere",
        amount_ore=150_000,
    )
    values.update(overrides)
    return services.ProposalData(**values)


def _form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "title": "Gåklub i Løsning",
        "what": "Vi går en tur hver tirsdag",
        "for_whom": "Alle, der vil gå",
        "postcode": "7860",
        "local_area_id": "0",
        "organisation_id": "0",
        "schedule": "weekly",
        "weekday": "1",
        "start_time": "10:00",
        "end_time": "11:30",
        "helpers_wanted": "2",
        "helper_roles": "To turledere",
        "ask_room": "y",
        "ask_materials": "Refleksveste",
        "amount": "1500,50",
    }
    data.update(overrides)
    return data


# Drafts and sending.


def test_a_citizen_writes_a_draft_only_the_authors_see_then_sends_it(app, scene):
    citizen = app.test_client()
    log_in(citizen, scene["citizen"])
    response = citizen.post("/forslag/nyt", data=_form())
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    proposal = db.session.scalar(select(Proposal))
    assert proposal.state == S.DRAFT
    # Routed to Løsning's local area; the council answers; the amount in øre.
    assert proposal.local_area_id == scene["area"].id and proposal.organisation_id is None
    assert proposal.amount_ore == 150_050 and proposal.ask_room
    url = f"/forslag/{proposal.id}"
    assert citizen.get(url).status_code == 200
    assert app.test_client().get(url).status_code == 404
    friend = app.test_client()
    log_in(friend, scene["friend"])
    assert friend.get(url).status_code == 404
    assert "Gåklub" not in friend.get("/forslag").get_data(as_text=True)

    assert citizen.post(f"{url}/indsend").status_code == 302
    db.session.expire_all()
    assert proposal.state == S.RECEIVED and proposal.answer_deadline is not None
    page = app.test_client().get(url).get_data(as_text=True)
    assert "Modtaget" in page and "Løsning Lokalråd" in page  # where it stands, who answers
    assert "1.500,50 kr." in page  # Danish number format
    assert "Gåklub i Løsning" in app.test_client().get("/forslag").get_data(as_text=True)


def test_the_answer_deadline_counts_local_days_from_sending(app, scene):
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    # 23:30 UTC on 1 March is already 2 March in Copenhagen.
    sent = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    services.submit(scene["citizen"], proposal, sent)
    assert proposal.answer_deadline == date(2026, 3, 16)
    assert not states.is_overdue(proposal, datetime(2026, 3, 16, 22, 59, tzinfo=UTC))
    assert states.is_overdue(proposal, datetime(2026, 3, 16, 23, 0, tzinfo=UTC))  # 17 March


def test_the_deadline_is_a_setting(app, scene):
    app.config["PROPOSAL_ANSWER_DAYS"] = 7
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    services.submit(scene["citizen"], proposal, NOW)
    assert proposal.answer_deadline == date(2026, 12, 7)


def test_only_an_author_sends_a_draft_and_only_once(app, scene):
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    with pytest.raises(services.ProposalError):
        services.submit(scene["friend"], proposal, NOW)
    services.submit(scene["citizen"], proposal, NOW)
    with pytest.raises(services.ProposalError):
        services.submit(scene["citizen"], proposal, NOW)


def test_a_local_area_without_a_council_needs_an_organisation(app, scene):
    factories.local_area("Juelsminde", "7130")
    with pytest.raises(services.ProposalError) as raised:
        services.create_draft(scene["citizen"], _data(postcode="7130"), NOW)
    assert raised.value.code == "nobody_answers"
    made = services.create_draft(
        scene["citizen"], _data(postcode="7130", organisation_id=scene["org"].id), NOW
    )
    assert made.organisation_id == scene["org"].id


# The state machine.


def _sent(scene, **fields):  # type: ignore[no-untyped-def]
    proposal = services.create_draft(scene["citizen"], _data(**fields), NOW)
    services.submit(scene["citizen"], proposal, NOW)
    return proposal


def _at(scene, state):  # type: ignore[no-untyped-def]
    """A proposal brought to ``state`` through the machine."""
    path = {
        S.DRAFT: [],
        S.RECEIVED: [S.RECEIVED],
        S.UNDER_REVIEW: [S.RECEIVED, S.UNDER_REVIEW],
        S.ADOPTED: [S.RECEIVED, S.ADOPTED],
        S.DECLINED: [S.RECEIVED, S.DECLINED],
        S.COMPLETED: [S.RECEIVED, S.ADOPTED, S.COMPLETED],
    }[state]
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    for step in path:
        actor = scene["citizen"] if step == S.RECEIVED else scene["council"]
        states.move(proposal, step, actor, NOW, "Fordi")
    db.session.commit()
    return proposal


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("to", list(S))
def test_every_move_follows_the_state_table(app, scene, start, to):
    proposal = _at(scene, start)
    actor = scene["citizen"] if start == S.DRAFT else scene["council"]
    if to in TRANSITIONS[start]:
        states.move(proposal, to, actor, NOW, "Begrundelse")
        assert proposal.state == to
    else:
        with pytest.raises(ForbiddenMove):
            states.move(proposal, to, actor, NOW, "Begrundelse")
        assert proposal.state == start


def test_a_decline_needs_a_public_reason(app, scene):
    proposal = _sent(scene)
    with pytest.raises(ReasonRequired):
        states.move(proposal, S.DECLINED, scene["council"], NOW, "  ")
    assert proposal.state == S.RECEIVED
    services.answer(scene["council"], proposal, "declined", "Ingen lokaler ledige", NOW)
    page = factories_client_page(app, f"/forslag/{proposal.id}")
    assert "Afslået" in page and "Ingen lokaler ledige" in page and "Lars Lokalråd" in page


def factories_client_page(app, url: str) -> str:  # type: ignore[no-untyped-def]
    return app.test_client().get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("citizen", False),  # the proposer cannot answer their own proposal
        ("friend", False),
        ("other_coordinator", False),
        ("council", True),  # the local area's council
        ("admin", True),
    ],
)
def test_who_may_answer(app, scene, who, allowed):
    proposal = _sent(scene)
    if allowed:
        states.move(proposal, S.UNDER_REVIEW, scene[who], NOW)
        assert proposal.state == S.UNDER_REVIEW
    else:
        with pytest.raises(NotAllowed):
            states.move(proposal, S.UNDER_REVIEW, scene[who], NOW)


def test_the_responsible_organisations_coordinators_answer_too(app, scene):
    proposal = _sent(scene, organisation_id=scene["org"].id)
    assert states.may_answer(scene["coordinator"], proposal)
    assert states.may_answer(scene["council"], proposal)  # still the area's council
    assert not states.may_answer(scene["other_coordinator"], proposal)


def test_answering_from_the_browser_and_the_citizen_is_refused(app, scene):
    proposal = _sent(scene)
    url = f"/forslag/{proposal.id}/svar"
    citizen = app.test_client()
    log_in(citizen, scene["citizen"])
    assert citizen.get(url).status_code == 403
    assert citizen.post(url, data={"state": "adopted", "text": "Ja"}).status_code == 403
    other = app.test_client()
    log_in(other, scene["other_coordinator"])
    assert other.post(url, data={"state": "adopted", "text": "Ja"}).status_code == 403
    council = app.test_client()
    log_in(council, scene["council"])
    response = council.post(url, data={"state": "declined", "text": ""})
    assert (
        response.status_code == 200
        and "Et afslag skal have en begrundelse." in response.get_data(as_text=True)
    )
    assert council.post(url, data={"state": "completed", "text": ""}).status_code == 200
    db.session.expire_all()
    assert proposal.state == S.RECEIVED
    assert (
        council.post(url, data={"state": "under_review", "text": "Vi ser på det"}).status_code
        == 302
    )
    db.session.expire_all()
    assert proposal.state == S.UNDER_REVIEW and proposal.answered_by_id == scene["council"].id


# Edit history.


def test_an_edit_keeps_each_changed_field_and_the_page_shows_it(app, scene):
    proposal = _sent(scene)
    changed = services.update_proposal(
        scene["citizen"], proposal, _data(title="Gåklub for alle", amount_ore=200_000), NOW
    )
    assert changed
    assert not services.update_proposal(
        scene["citizen"], proposal, _data(title="Gåklub for alle", amount_ore=200_000), NOW
    )
    (revision,) = services.revisions(proposal)
    assert revision.changes == {
        "title": ["Gåklub i Løsning", "Gåklub for alle"],
        "amount_ore": [150_000, 200_000],
    }
    page = factories_client_page(app, f"/forslag/{proposal.id}")
    assert (
        "Ændringer" in page
        and "<del>1.500,00 kr.</del>" in page
        and "<ins>2.000,00 kr.</ins>" in page
    )
    with pytest.raises(services.ProposalError):
        services.update_proposal(scene["friend"], proposal, _data(title="Mit"), NOW)


def test_an_answered_proposal_can_no_longer_be_edited(app, scene):
    proposal = _at(scene, S.ADOPTED)
    with pytest.raises(services.ProposalError):
        services.update_proposal(scene["citizen"], proposal, _data(title="Nyt"), NOW)
    client = app.test_client()
    log_in(client, scene["citizen"])
    assert client.get(f"/forslag/{proposal.id}/rediger").status_code == 302


# Co-authors.


def test_a_co_author_is_invited_by_a_signed_link_and_may_then_edit(app, scene):
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    author = services.invite_coauthor(scene["citizen"], proposal, "Frede@Example.org", NOW)
    assert author.email == "frede@example.org"
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedup_key == f"proposal-coauthor:{author.id}")
    )
    assert "[[link:0]]" in message.body_text and "/forslag/medforfatter/" not in message.body_text
    with app.test_request_context():
        url = links.mint(message.body_text, message.links)
    path = url[url.index("/forslag/medforfatter/") :].split()[0]
    friend_user = factories.user(email="frede@example.org", name="Frede Medforfatter")
    friend = app.test_client()
    log_in(friend, friend_user)
    assert friend.get(f"/forslag/{proposal.id}").status_code == 404  # a draft, not theirs yet
    assert friend.get(path).status_code == 200
    assert friend.post(path, data={"answer": "yes"}).status_code == 302
    db.session.expire_all()
    assert states.is_author(db.session.get(User, friend_user.id), proposal)
    assert friend.get(f"/forslag/{proposal.id}/rediger").status_code == 200
    # The link is used: it works no more.
    assert friend.get(path).status_code == 302
    with pytest.raises(services.ProposalError):
        services.invite_coauthor(scene["citizen"], proposal, "frede@example.org", NOW)


def test_a_forged_or_declined_invitation_makes_no_author(app, scene):
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    author = services.invite_coauthor(scene["citizen"], proposal, "x@example.org", NOW)
    token = services.make_coauthor_token(author)
    services.answer_coauthor(scene["friend"], token, False, NOW)
    assert not states.is_author(scene["friend"], proposal)
    with pytest.raises(services.ProposalError):
        services.answer_coauthor(scene["friend"], token, True, NOW)
    with pytest.raises(services.ProposalError):
        services.read_coauthor_token(token[:-2] + "xx")
    with pytest.raises(services.ProposalError):
        services.invite_coauthor(scene["friend"], proposal, "y@example.org", NOW)


# Jeg er med, following, comments.


def test_jeg_er_med_is_one_per_person_and_follows_the_proposal(app, scene):
    proposal = _sent(scene)
    client = app.test_client()
    log_in(client, scene["friend"])
    url = f"/forslag/{proposal.id}"
    assert client.post(f"{url}/med", data={"kind": "helper"}).status_code == 302
    assert client.post(f"{url}/med", data={"kind": "participant"}).status_code == 302
    assert db.session.scalar(select(func.count(ProposalSupport.id))) == 1
    assert services.support_counts(proposal) == {"helper": 0, "participant": 1}
    assert services.is_following(scene["friend"], proposal)
    assert client.post(f"{url}/med", data={"kind": "boss"}).status_code == 302
    assert client.post(f"{url}/med", data={"kind": ""}).status_code == 302
    assert db.session.scalar(select(func.count(ProposalSupport.id))) == 0
    assert client.post(f"{url}/foelg", data={"follow": "0"}).status_code == 302
    assert not services.is_following(scene["friend"], proposal)


def test_a_declined_proposal_takes_no_new_supporters(app, scene):
    proposal = _at(scene, S.DECLINED)
    with pytest.raises(services.ProposalError):
        services.set_support(scene["friend"], proposal, "helper", NOW)


def test_a_reported_comment_is_hidden_with_its_reason_shown_in_place(app, scene):
    proposal = _sent(scene)
    comment = services.add_comment(scene["friend"], proposal, "Dumme idé, I er idioter", NOW)
    services.report_comment(scene["citizen"], comment.id, "Grimt sprog", NOW)
    services.report_comment(scene["citizen"], comment.id, "Igen", NOW)
    assert db.session.scalar(select(func.count(CommentReport.id))) == 1
    assert services.reported_comments(scene["council"]) == [(comment, 1)]
    assert services.reported_comments(scene["other_coordinator"]) == []

    url = f"/forslag/kommentarer/{comment.id}/skjul"
    for who in ("citizen", "other_coordinator"):
        client = app.test_client()
        log_in(client, scene[who])
        assert client.post(url, data={"reason": "Nej"}).status_code == 403
    council = app.test_client()
    log_in(council, scene["council"])
    assert council.post(url, data={"reason": ""}).status_code == 302
    assert db.session.get(ProposalComment, comment.id).hidden_at is None
    assert council.post(url, data={"reason": "Krænkende sprog"}).status_code == 302
    page = factories_client_page(app, f"/forslag/{proposal.id}")
    assert "En koordinator har skjult kommentaren: Krænkende sprog" in page
    assert "idioter" not in page


def test_no_comments_on_a_draft(app, scene):
    proposal = services.create_draft(scene["citizen"], _data(), NOW)
    with pytest.raises(services.ProposalError):
        services.add_comment(scene["citizen"], proposal, "Hej", NOW)


# The followers' digest.


def test_followers_are_told_the_actual_change_exactly_once(app, scene):
    proposal = _sent(scene)
    services.set_following(scene["friend"], proposal, True, NOW)
    proposal_digests(app, NOW)  # the sending itself: the proposer did it, the friend is told
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()

    services.answer(scene["council"], proposal, "under_review", "Vi taler med kommunen", NOW)
    services.add_comment(scene["friend"], proposal, "Jeg kan tage tirsdagene", NOW)
    result = proposal_digests(app, NOW)
    assert result == {"events": 2, "messages": 2}
    mails = {m.recipient_email: m.body_text for m in db.session.scalars(select(OutboxMessage))}
    to_citizen = mails[scene["citizen"].email]
    assert "Status ændret fra Modtaget til Under behandling: Vi taler med kommunen" in to_citizen
    assert "Ny kommentar af Frede Frivillig: Jeg kan tage tirsdagene" in to_citizen
    to_friend = mails[scene["friend"].email]
    assert "Under behandling" in to_friend
    assert "Ny kommentar" not in to_friend  # not told of their own comment
    assert scene["council"].email not in mails  # the answerer does not follow it
    assert proposal_digests(app, NOW) == {"events": 0, "messages": 0}
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_the_digest_job_is_in_the_job_table(app):
    from volunteer.scheduler import JOBS

    assert JOBS["proposal_digests"].func is proposal_digests


# Overdue answers.


def test_overdue_proposals_come_first_on_the_coordinators_start_page(app, scene):
    late = factories.proposal(
        scene["citizen"], scene["org"], title="Strikkeklub", submitted_at=NOW - timedelta(days=20)
    )
    factories.proposal(scene["citizen"], scene["org"], title="Ny idé", submitted_at=NOW)
    factories.proposal(
        scene["citizen"],
        scene["org"],
        title="Besvaret",
        state="adopted",
        submitted_at=NOW - timedelta(days=30),
    )
    section = attention.overdue_proposals(scene["coordinator"], NOW)
    assert [p.id for p in section.rows] == [late.id] and section.total == 1
    assert attention.overdue_proposals(scene["other_coordinator"], NOW).total == 0
    assert [p.title for p in services.to_answer(scene["coordinator"], NOW)][0] == "Strikkeklub"

    client = app.test_client()
    log_in(client, scene["coordinator"])
    page = client.get("/koordinator/").get_data(as_text=True)
    first = page.index('data-attention="')
    assert page[first:].startswith('data-attention="overdue_proposals"')
    assert "Strikkeklub" in page
    queue = client.get("/koordinator/forslag").get_data(as_text=True)
    assert queue.index("Strikkeklub") < queue.index("Ny idé") and "forsinket" in queue


def test_the_weekly_digest_names_overdue_proposals_first(app, scene):
    factories.proposal(
        scene["citizen"], scene["org"], title="Strikkeklub", submitted_at=NOW - timedelta(days=20)
    )
    monday = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    coordinator_digest(app, monday)
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == scene["coordinator"].id)
    )
    assert message is not None
    body = message.body_text
    assert "Forslag, der har ventet for længe på svar:" in body
    assert body.index("Strikkeklub") < body.index("Åbne opgaver med ledige pladser")
    assert (
        db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient_id == scene["other_coordinator"].id)
        )
        is None
    )


# The demo.


def test_the_demo_has_proposals_with_one_in_loesning_and_one_overdue(app):
    from volunteer import demo

    demo.seed(date(2026, 11, 30), volunteers=20)
    proposals = {p.title: p for p in db.session.scalars(select(Proposal))}
    walking = proposals["Vi vil starte en gåklub i Løsning"]
    assert walking.local_area.name == "Løsning" and walking.state == S.RECEIVED
    assert services.support_counts(walking) == {"helper": 2, "participant": 1}
    council = db.session.scalar(select(User).where(User.email == "lokalraad@example.org"))
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    overdue = attention.overdue_proposals(council, now)
    assert [p.title for p in overdue.rows] == ["Strikkecafé på biblioteket i Juelsminde"]
    client = app.test_client()
    page = client.get("/forslag").get_data(as_text=True)
    assert "gåklub i Løsning" in page and "Havehold" not in page  # the draft stays hidden
    assert client.get(f"/forslag/{walking.id}").status_code == 200


# Adoption: the adopted proposal becomes a need; the proposer is its tovholder.


def _need_form(scene, **overrides):  # type: ignore[no-untyped-def]
    from support.factories import activity_type

    activity = activity_type("gaaklub")
    data = {
        "organisation_id": str(scene["council"].id),
        "activity_type_id": str(activity.id),
        "title": "Gåklub i Løsning",
        "description": "Vi går en tur",
        "centre_id": "0",
        "postcode": "7860",
        "address": "",
        "local_area_id": str(scene["area"].id),
        "schedule": "weekly",
        "weekday": "1",
        "first_date": (date.today() + timedelta(days=7)).isoformat(),
        "last_date": "",
        "start_time": "10:00",
        "end_time": "11:30",
        "slots": "3",
        "contact_id": "",
        "aaben": "1",
    }
    data.update(overrides)
    return data


def test_an_adopted_proposal_becomes_a_need_and_its_helpers_are_invited_first(app, scene):
    from volunteer.models import Assignment, AssignmentState, Need
    from volunteer.proposals import adoption

    proposal = _sent(scene, weekday=1, helpers_wanted=3)
    services.set_support(scene["friend"], proposal, "helper", NOW)
    participant = member(scene["org"], name="Pia Deltager")
    services.set_support(participant, proposal, "participant", NOW)
    council = app.test_client()
    log_in(council, scene["council"])
    url = f"/forslag/{proposal.id}/opgave"
    assert council.get(url).status_code == 302  # not adopted yet
    services.answer(scene["council"], proposal, "adopted", "Ja, gerne!", NOW)

    page = council.get(url).get_data(as_text=True)
    assert 'value="Gåklub i Løsning"' in page and 'value="7860"' in page  # filled in
    prefill = adoption.need_prefill(proposal, scene["council"], date(2026, 11, 30))
    assert prefill["slots"] == 3 and prefill["first_date"] == date(2026, 12, 1)  # a Tuesday
    assert prefill["organisation_id"] == scene["council"].organisations[0].id

    citizen = app.test_client()
    log_in(citizen, scene["citizen"])
    assert citizen.get(url).status_code == 403  # a citizen cannot make needs

    form = _need_form(scene, organisation_id=str(scene["council"].organisations[0].id))
    response = council.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    need = db.session.scalar(select(Need).order_by(Need.id.desc()))
    assert need.local_area_id == scene["area"].id
    invited = db.session.scalars(select(Assignment).where(Assignment.need_id == need.id)).all()
    assert [(a.volunteer_id, a.state) for a in invited] == [
        (scene["friend"].id, AssignmentState.INVITED)
    ]  # the helper, not the participant
    assert db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == scene["friend"].id)
    )
    # The proposer is the tovholder: the activity page with its helpers.
    page = citizen.get(f"/forslag/{proposal.id}/aktivitet")
    assert page.status_code == 200 and "Frede Frivillig" in page.get_data(as_text=True)
    assert adoption.lead_needs(scene["citizen"], proposal) == [need]


def test_a_tovholder_confirms_their_activitys_visits_and_sees_nothing_else(app, scene):
    from support.factories import activity_type, need, occurrence, visit
    from volunteer.models import ActivityLead, ProposalNeed, Visit, VisitState
    from volunteer.proposals import adoption

    activity = activity_type()
    own = _at(scene, S.ADOPTED)
    other = _at(scene, S.ADOPTED)
    own_need = need(scene["council"].organisations[0], activity, title="Gåklub")
    other_need = need(scene["council"].organisations[0], activity, title="Strikkeklub")
    db.session.add_all(
        [
            ProposalNeed(need_id=own_need.id, proposal_id=own.id),
            ProposalNeed(need_id=other_need.id, proposal_id=other.id),
            ActivityLead(need_id=own_need.id, user_id=scene["citizen"].id),
            ActivityLead(need_id=other_need.id, user_id=scene["friend"].id),
        ]
    )
    db.session.commit()
    helper = member(scene["org"], name="Hans Hjælper")
    started = datetime.now(UTC) - timedelta(hours=1)
    own_visit = visit(occurrence(own_need, started), helper)
    other_visit = visit(occurrence(other_need, started), helper)
    ahead = visit(occurrence(own_need, datetime.now(UTC) + timedelta(days=2)), helper)

    client = app.test_client()
    log_in(client, scene["citizen"])
    assert client.get(f"/forslag/{own.id}/aktivitet").status_code == 200
    assert client.get(f"/forslag/{other.id}/aktivitet").status_code == 403
    assert (
        client.post(
            f"/forslag/aktivitet/besoeg/{other_visit.id}", data={"outcome": "confirmed"}
        ).status_code
        == 403
    )
    # The tovholder role reaches no staff page.
    assert client.get(f"/opgaver/{own_need.id}/frivillige").status_code == 403
    assert client.get("/koordinator/").status_code == 403
    assert client.get("/center/").status_code == 403

    response = client.post(
        f"/forslag/aktivitet/besoeg/{own_visit.id}", data={"outcome": "confirmed"}
    )
    assert response.status_code == 302
    client.post(f"/forslag/aktivitet/besoeg/{ahead.id}", data={"outcome": "confirmed"})
    client.post(f"/forslag/aktivitet/besoeg/{own_visit.id}", data={"outcome": "cancelled"})
    db.session.expire_all()
    assert db.session.get(Visit, own_visit.id).state == VisitState.CONFIRMED
    assert db.session.get(Visit, own_visit.id).confirmed_by_id == scene["citizen"].id
    assert db.session.get(Visit, ahead.id).state == VisitState.SCHEDULED  # not started yet
    assert db.session.get(Visit, other_visit.id).state == VisitState.SCHEDULED
    with pytest.raises(adoption.BadOutcome):
        adoption.lead_record_visit(
            scene["citizen"], own_visit.id, "cancelled", NOW + timedelta(days=9)
        )


def test_a_comment_hidden_before_the_digest_is_not_mailed(app, scene):
    proposal = _sent(scene)
    proposal_digests(app, NOW)
    comment = services.add_comment(scene["friend"], proposal, "Noget grimt", NOW)
    services.hide_comment(scene["council"], comment.id, "Krænkende", NOW)
    before = db.session.scalar(select(func.count(OutboxMessage.id)))
    assert proposal_digests(app, NOW) == {"events": 0, "messages": 0}
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == before
