"""Forløb (#13, parts 3 and 5): a volunteer proposed for a waiting person from the engine's
candidates, the answer, pausing, resuming and ending through one ``move()``, the visits that
follow, the person's state, who sees the person's address, and the dashboard's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

import matching
from support import factories
from support.auth import log_in
from support.factories import coordinator, free_volunteer
from volunteer.clock import local_today
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.jobs.maintenance import retention
from volunteer.models import (
    Assignment,
    EndReason,
    Forloeb,
    ForloebState,
    Need,
    NeedStatus,
    OutboxMessage,
    PersonState,
    Visit,
    VisitState,
)
from volunteer.pairs import candidates, services, states
from volunteer.persons import services as persons
from volunteer.persons.services import can_see_contact
from volunteer.volunteers import gdpr

# A Monday morning in Copenhagen; the visits are on Wednesdays 14–16.
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PATTERN = services.Pattern(2, time(14), time(16), date(2026, 12, 9))
ADDRESS, PHONE = "Rosenvej 12", "+45 75 99 88 77"


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    other_org = factories.organisation("Røde Kors")
    visiting = factories.activity_type("besoegsven")
    visiting.for_persons = True
    db.session.commit()
    person = factories.person(org, visiting, address=ADDRESS, phone=PHONE)
    return {
        "org": org,
        "other_org": other_org,
        "activity": visiting,
        "person": person,
        "coordinator": coordinator(org),
        "other_coordinator": coordinator(other_org),
        "volunteer": free_volunteer(org),
        "other_volunteer": free_volunteer(org),
    }


def _propose(world, now=NOW, pattern=PATTERN, volunteer="volunteer"):
    return services.propose(
        world["coordinator"], world["person"], world[volunteer].id, pattern, now
    )


def _visits(forloeb, state=VisitState.SCHEDULED):
    return db.session.scalars(
        select(Visit)
        .join(Visit.occurrence)
        .where(Visit.volunteer_id == forloeb.volunteer_id, Visit.state == state)
    ).all()


# The state table.


def test_the_state_table_allows_only_its_moves():
    table = states.TRANSITIONS
    assert table[ForloebState.PROPOSED] == {ForloebState.ACTIVE, ForloebState.ENDED}
    assert table[ForloebState.ACTIVE] == {ForloebState.PAUSED, ForloebState.ENDED}
    assert table[ForloebState.PAUSED] == {ForloebState.ACTIVE, ForloebState.ENDED}
    assert table[ForloebState.ENDED] == frozenset()


def test_an_ended_forloeb_cannot_move_and_an_end_needs_a_reason(app, world):
    forloeb = _propose(world)
    with pytest.raises(ValueError):
        states.move(forloeb, ForloebState.ENDED, NOW)
    db.session.rollback()
    services.end(world["coordinator"], forloeb, EndReason.WITHDRAWN, NOW)
    for to in ForloebState:
        with pytest.raises(states.ForbiddenMove):
            states.move(forloeb, to, NOW, reason=EndReason.OTHER)
    with pytest.raises(services.ForloebError) as error:
        services.pause(world["coordinator"], forloeb, NOW)
    assert error.value.code == "state"


# Proposing, answering and the visits.


def test_a_proposal_books_nothing_until_the_volunteer_says_yes(app, world):
    forloeb = _propose(world)
    assert forloeb.state == ForloebState.PROPOSED
    need = db.session.get(Need, forloeb.need_id)
    assert need.private and need.status == NeedStatus.DRAFT
    assert need.address is None and world["person"].name not in need.title
    assert _visits(forloeb) == []
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedup_key == f"forloeb-proposed:{forloeb.id}")
    )
    assert mail.recipient_id == world["volunteer"].id
    assert "onsdag" in mail.body_text and "9. december 2026" in mail.body_text
    assert world["person"].name not in mail.body_text  # not paired yet


def test_yes_books_the_weekly_visits_and_pairs_the_person(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    assert forloeb.state == ForloebState.ACTIVE and forloeb.activated_on == date(2026, 12, 7)
    visits = _visits(forloeb)
    assert len(visits) >= 4
    starts = sorted(v.occurrence.starts_at for v in visits)
    assert starts[0] == datetime(2026, 12, 9, 13, 0, tzinfo=UTC)  # 14.00 in Copenhagen
    assert all(s.weekday() == 2 for s in starts)
    need = db.session.get(Need, forloeb.need_id)
    assert need.status == NeedStatus.FILLED
    assert world["person"].state == PersonState.PAIRED
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedup_key.like(f"forloeb-answered:{forloeb.id}:%"))
        )
        == 1
    )


def test_no_ends_the_proposal_as_declined_and_the_person_waits_on(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, False, NOW)
    assert forloeb.state == ForloebState.ENDED and forloeb.end_reason == EndReason.DECLINED
    assert world["person"].state == PersonState.WAITING
    # The person can be proposed to someone else, not the one who said no.
    found = candidates.candidates(world["person"], PATTERN, NOW)
    assert [c.volunteer.id for c in found] == [world["other_volunteer"].id]


def test_only_the_forloebs_volunteer_answers(app, world):
    forloeb = _propose(world)
    with pytest.raises(NotFound):
        services.answer(world["other_volunteer"], forloeb, True, NOW)
    assert forloeb.state == ForloebState.PROPOSED


def test_the_coordinator_records_a_yes_given_by_phone(app, world):
    forloeb = _propose(world)
    services.record_yes(world["coordinator"], forloeb, NOW)
    assert forloeb.state == ForloebState.ACTIVE and _visits(forloeb)


def test_a_volunteer_busy_at_the_time_is_refused_and_nothing_changes(app, world):
    first = _propose(world)
    services.answer(world["volunteer"], first, True, NOW)
    second_person = factories.person(world["org"], world["activity"])
    second = services.propose(
        world["coordinator"], second_person, world["volunteer"].id, PATTERN, NOW
    )
    with pytest.raises(services.ForloebError) as error:
        services.answer(world["volunteer"], second, True, NOW)
    assert error.value.code == "clash"
    db.session.refresh(second)
    assert second.state == ForloebState.PROPOSED
    assert second_person.state == PersonState.WAITING


def test_a_proposal_is_refused_for_someone_not_waiting_or_outside_the_organisation(app, world):
    stranger = free_volunteer(world["other_org"])
    with pytest.raises(services.ForloebError) as error:
        services.propose(world["coordinator"], world["person"], stranger.id, PATTERN, NOW)
    assert error.value.code == "not_member"
    _propose(world)
    with pytest.raises(services.ForloebError) as error:
        _propose(world, volunteer="other_volunteer")
    assert error.value.code == "has_forloeb"
    with pytest.raises(NotFound):
        services.propose(
            world["other_coordinator"], world["person"], world["volunteer"].id, PATTERN, NOW
        )


# Pausing, resuming, ending.


def test_pause_cancels_the_visits_ahead_and_resume_books_them_again(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    booked = len(_visits(forloeb))
    services.pause(world["coordinator"], forloeb, NOW + timedelta(days=3))
    assert forloeb.state == ForloebState.PAUSED
    ahead = [v for v in _visits(forloeb) if v.occurrence.starts_at > NOW + timedelta(days=3)]
    assert ahead == []
    assert {v.cancel_reason for v in _visits(forloeb, VisitState.CANCELLED)} == {"forløb paused"}
    assert world["person"].state == PersonState.PAIRED  # a pause keeps the pair
    assert db.session.get(Need, forloeb.need_id).status == NeedStatus.DRAFT
    later = NOW + timedelta(days=20)
    services.resume(world["coordinator"], forloeb, later)
    assert forloeb.state == ForloebState.ACTIVE
    again = [v for v in _visits(forloeb) if v.occurrence.starts_at > later]
    assert len(again) >= booked - 3
    assert db.session.get(Need, forloeb.need_id).status == NeedStatus.FILLED


def test_end_cancels_the_visits_closes_the_need_and_the_person_waits_again(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    end_at = NOW + timedelta(days=30)
    services.end(world["coordinator"], forloeb, EndReason.VOLUNTEER_STOPPED, end_at)
    assert forloeb.state == ForloebState.ENDED and forloeb.ended_on == local_today(end_at)
    assert [v for v in _visits(forloeb) if v.occurrence.starts_at > end_at] == []
    assert db.session.get(Need, forloeb.need_id).status == NeedStatus.CLOSED
    assignment = db.session.scalar(select(Assignment).where(Assignment.need_id == forloeb.need_id))
    assert assignment.state == "ended"
    assert world["person"].state == PersonState.WAITING
    assert world["person"].waiting_since == local_today(end_at)


def test_end_with_the_person_ends_their_registration_for_retention(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    services.end(world["coordinator"], forloeb, EndReason.PERSON_STOPPED, NOW, end_person=True)
    assert world["person"].state == PersonState.ENDED
    assert world["person"].ended_on == date(2026, 12, 7)


# Candidates: the engine, with reasons.


def test_candidates_are_ranked_by_the_engine_with_reasons(app, world):
    far = free_volunteer(world["org"], postcode="8700")
    busy_wednesday = factories.member(world["org"])
    found = candidates.candidates(world["person"], PATTERN, NOW)
    ids = [c.volunteer.id for c in found]
    assert world["volunteer"].id in ids and world["other_volunteer"].id in ids
    assert busy_wednesday.id not in ids  # no availability at all
    codes = {code for code, _ in found[0].explanation}
    assert {"distance", "free"} <= codes
    if far.id in ids:
        assert ids.index(far.id) > ids.index(world["volunteer"].id)


def test_a_volunteer_in_an_active_forloeb_is_not_proposed_at_the_same_time(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    someone = factories.person(world["org"], world["activity"])
    found = candidates.candidates(someone, PATTERN, NOW)
    assert world["volunteer"].id not in [c.volunteer.id for c in found]


def test_the_person_needs_a_shared_language(app, world):
    world["person"].languages = ["ar"]
    db.session.commit()
    assert candidates.candidates(world["person"], PATTERN, NOW) == []
    world["other_volunteer"].profile.languages = ["da", "ar"]
    db.session.commit()
    found = candidates.candidates(world["person"], PATTERN, NOW)
    assert [c.volunteer.id for c in found] == [world["other_volunteer"].id]


def test_rank_volunteers_is_pure_and_deterministic():
    when = matching.Weekly(2, time(14), time(16))
    need = matching.Need("p", 55.77, 9.70, when, activity="besoegsven", languages=frozenset({"da"}))
    free = (matching.Weekly(2, time(8), time(20)),)
    near = matching.Volunteer("a", 55.77, 9.70, 10, free)
    keen = matching.Volunteer("b", 55.78, 9.70, 10, free, interests=frozenset({"besoegsven"}))
    busy = matching.Volunteer("c", 55.77, 9.70, 10, (matching.Weekly(3, time(8), time(20)),))
    ranked = matching.rank_volunteers([near, busy, keen], need)
    assert [m.volunteer_id for m in ranked] == ["b", "a"]
    assert ranked == matching.rank_volunteers([keen, busy, near], need)


# Who sees the person's address and phone (part 5, extended).


def test_contact_details_only_for_the_volunteer_of_an_active_forloeb(app, world):
    person, volunteer = world["person"], world["volunteer"]
    assert can_see_contact(world["coordinator"], person)
    assert not can_see_contact(world["other_coordinator"], person)
    forloeb = _propose(world)
    assert not can_see_contact(volunteer, person)  # proposed
    services.answer(volunteer, forloeb, True, NOW)
    assert can_see_contact(volunteer, person)
    assert not can_see_contact(world["other_volunteer"], person)
    services.pause(world["coordinator"], forloeb, NOW)
    assert not can_see_contact(volunteer, person)  # paused
    services.resume(world["coordinator"], forloeb, NOW)
    services.end(world["coordinator"], forloeb, EndReason.MOVED, NOW)
    assert not can_see_contact(volunteer, person)  # ended


def test_the_volunteers_pages_show_the_address_only_while_active(app, client, world):
    now = utcnow()
    pattern = services.Pattern(2, time(14), time(16), local_today(now) + timedelta(days=7))
    forloeb = _propose(world, now=now, pattern=pattern)
    log_in(client, world["volunteer"])
    page = client.get(f"/min-side/forloeb/{forloeb.id}").get_data(as_text=True)
    assert ADDRESS not in page and PHONE not in page and world["person"].name not in page
    home = client.get("/min-side/").get_data(as_text=True)
    assert f"/min-side/forloeb/{forloeb.id}" in home and world["person"].name not in home
    response = client.post(f"/min-side/forloeb/{forloeb.id}/svar", data={"answer": "yes"})
    assert response.status_code == 302
    page = client.get(f"/min-side/forloeb/{forloeb.id}").get_data(as_text=True)
    assert ADDRESS in page and PHONE in page
    visits = client.get("/min-side/besoeg").get_data(as_text=True)
    assert f"/opgaver/{forloeb.need_id}" not in visits  # a private need has no public page
    assert client.get(f"/opgaver/{forloeb.need_id}").status_code == 404
    boss = app.test_client()
    log_in(boss, world["coordinator"])
    # Its need is changed only through the forløb: no edit page, not in the needs list.
    assert boss.get(f"/opgaver/{forloeb.need_id}/rediger").status_code == 404
    assert boss.get(f"/opgaver/{forloeb.need_id}").status_code == 404
    assert f"/opgaver/{forloeb.need_id}" not in boss.get("/koordinator/opgaver").get_data(
        as_text=True
    )
    # The GDPR export has the volunteer's own forløb, not the person's contact details.
    export = client.get("/min-side/mine-data.json").get_data(as_text=True)
    assert ADDRESS not in export and PHONE not in export
    other = app.test_client()
    log_in(other, world["other_volunteer"])
    assert other.get(f"/min-side/forloeb/{forloeb.id}").status_code == 404


def test_the_coordinator_finds_candidates_proposes_and_ends_in_the_browser(app, client, world):
    start = local_today(utcnow()) + timedelta(days=7)
    query = f"weekday=2&start_time=14:00&end_time=16:00&start_date={start.isoformat()}"
    other = app.test_client()
    log_in(other, world["other_coordinator"])
    url = f"/koordinator/borgere/{world['person'].id}/kandidater?{query}"
    assert other.get(url).status_code == 404
    log_in(client, world["coordinator"])
    page = client.get(f"/koordinator/borgere/{world['person'].id}/kandidater?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and world["volunteer"].name in html and "km" in html
    response = client.post(
        f"/koordinator/borgere/{world['person'].id}/foreslaa",
        data={
            "volunteer_id": world["volunteer"].id,
            "weekday": 2,
            "start_time": "14:00",
            "end_time": "16:00",
            "start_date": start.isoformat(),
        },
    )
    assert response.status_code == 302
    forloeb = db.session.scalar(select(Forloeb))
    assert {code for code, _ in forloeb.explanation} >= {"distance", "free"}  # the engine's
    client.post(f"/koordinator/forloeb/{forloeb.id}/status", data={"action": "yes"})
    db.session.refresh(forloeb)
    assert forloeb.state == ForloebState.ACTIVE
    # An end without a reason is refused with a message, nothing changes.
    client.post(f"/koordinator/forloeb/{forloeb.id}/status", data={"action": "end"})
    db.session.refresh(forloeb)
    assert forloeb.state == ForloebState.ACTIVE
    client.post(
        f"/koordinator/forloeb/{forloeb.id}/status", data={"action": "end", "reason": "moved"}
    )
    db.session.refresh(forloeb)
    assert forloeb.state == ForloebState.ENDED and forloeb.end_reason == "moved"
    assert other.get(f"/koordinator/forloeb/{forloeb.id}").status_code == 404
    assert world["person"].name not in other.get("/koordinator/forloeb").get_data(as_text=True)


def test_the_volunteers_export_holds_their_forloeb_without_the_persons_details(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    data = gdpr.export(world["volunteer"], actor=world["volunteer"])
    rows = data.get("forloeb", [])
    assert [row["id"] for row in rows] == [forloeb.id]
    text = repr(data)
    assert ADDRESS not in text and PHONE not in text and world["person"].name not in text


# The dashboard's figures.


def test_figures_count_waiting_and_how_long_pairs_last(app, world):
    start = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    pattern = services.Pattern(2, time(14), time(16), date(2025, 6, 4))
    first = _propose(world, now=start, pattern=pattern)
    services.answer(world["volunteer"], first, True, start)
    services.end(world["coordinator"], first, EndReason.NOT_A_MATCH, start + timedelta(days=100))
    second_person = factories.person(world["org"], world["activity"])
    second = services.propose(
        world["coordinator"], second_person, world["other_volunteer"].id, PATTERN, NOW
    )
    services.answer(world["other_volunteer"], second, True, NOW)
    figures = services.figures([world["org"].id], date(2026, 12, 17))
    assert figures.active_pairs == 1 and figures.ended_pairs == 1
    assert figures.started_a_year_ago == 1 and figures.ended_within_a_year == 1
    assert figures.ended_within_a_year_share == 1.0
    assert figures.median_pair_days == (100 + 10) / 2
    assert figures.persons_waiting == 1  # the first person waits again
    assert services.figures([world["other_org"].id], date(2026, 12, 17)).active_pairs == 0


def test_ending_or_erasing_the_person_ends_their_forloeb(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    persons.end_person(world["coordinator"], world["person"], NOW + timedelta(days=1))
    assert forloeb.state == ForloebState.ENDED and forloeb.end_reason == "person_stopped"
    assert world["person"].state == PersonState.ENDED
    assert [v for v in _visits(forloeb) if v.occurrence.starts_at > NOW + timedelta(days=1)] == []
    other = factories.person(world["org"], world["activity"])
    second = services.propose(
        world["coordinator"], other, world["other_volunteer"].id, PATTERN, NOW
    )
    services.answer(world["other_volunteer"], second, True, NOW)
    persons.erase_person(world["coordinator"], other, NOW)
    assert second.state == ForloebState.ENDED and _visits(second) == []


def test_retention_anonymises_a_person_whose_forloeb_ended_with_them(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    services.end(world["coordinator"], forloeb, EndReason.PERSON_STOPPED, NOW, end_person=True)
    later = NOW + timedelta(days=400)
    assert retention(app, later, dry_run=True)["persons_anonymised"] == 1
    assert world["person"].anonymised_at is None  # a dry run changes nothing
    retention(app, later)
    db.session.refresh(world["person"])
    assert world["person"].anonymised_at is not None and world["person"].address == ""
    assert db.session.get(Forloeb, forloeb.id).state == ForloebState.ENDED  # the figures stay
    with pytest.raises(NotFound):
        services.visible_forloeb(world["volunteer"], forloeb.id)


def test_a_volunteer_who_leaves_ends_their_forloeb_and_the_person_waits(app, world):
    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    gdpr.forget_person(world["volunteer"], NOW + timedelta(days=1), reason="deleted")
    db.session.commit()
    assert forloeb.state == ForloebState.ENDED and forloeb.end_reason == "volunteer_stopped"
    assert world["person"].state == PersonState.WAITING
    assert _visits(forloeb) == []


def test_the_persons_export_lists_their_forloeb(app, world):
    forloeb = _propose(world)
    data = persons.export_person(world["coordinator"], world["person"])
    assert [row["id"] for row in data["forloeb"]] == [forloeb.id]


def test_the_volunteers_data_page_shows_their_forloeb_in_danish(app, client, world):
    now = utcnow()
    pattern = services.Pattern(2, time(14), time(16), local_today(now) + timedelta(days=7))
    forloeb = _propose(world, now=now, pattern=pattern)
    services.answer(world["volunteer"], forloeb, True, now)
    log_in(client, world["volunteer"])
    page = client.get("/min-side/mine-data/vis").get_data(as_text=True)
    assert "Hver onsdag fra 14.00 til 16.00" in page and "Aktiv" in page
    assert ADDRESS not in page and world["person"].name not in page


def test_kan_ikke_komme_on_a_forloeb_visit_tells_the_coordinator_with_the_forloebs_page(app, world):
    from volunteer.volunteers import services as volunteering

    forloeb = _propose(world)
    services.answer(world["volunteer"], forloeb, True, NOW)
    visit = sorted(_visits(forloeb), key=lambda v: v.occurrence.starts_at)[0]
    volunteering.cancel_visit(world["volunteer"], visit.id, "Syg", NOW)
    mail = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"visit-cancelled:{visit.id}:%"))
    )
    assert f"/koordinator/forloeb/{forloeb.id}" in mail.body_text
    assert f"/opgaver/{forloeb.need_id}" not in mail.body_text
