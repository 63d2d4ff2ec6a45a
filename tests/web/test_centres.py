"""Centre staff: today's and this week's visits, recording outcomes (page and one-click links),
and asking for a volunteer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from support import csrf_token_from, delivered_text, factories
from support.auth import log_in
from support.factories import coordinator, occurrence, visit
from volunteer.audit import AuditEvent
from volunteer.centres import services
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Need, NeedStatus, OutboxMessage, Role, VisitState


@pytest.fixture
def world(app):
    org, other_org = factories.organisation("Hedensted Kommune"), factories.organisation("Andet")
    home = factories.centre(org, name="Plejecenter Bakkegården")
    away = factories.centre(other_org, name="Plejecenter Solvang")
    activity = factories.activity_type("spisevenner")
    here = factories.need(org, activity, title="Spiseven", centre=home)
    there = factories.need(other_org, activity, title="Spiseven", centre=away)
    volunteer = factories.user(name="Karen Jensen", phone="+45 21 43 65 87")
    now = utcnow()
    staff = factories.user(role=Role.CENTRE, centres=[home], name="Lise Staff")
    return {
        "org": org,
        "staff": staff,
        "other_staff": factories.user(role=Role.CENTRE, centres=[away]),
        "coordinator": coordinator(org, name="Kim Koordinator"),
        "activity": activity,
        "home": home,
        "past": visit(occurrence(here, now - timedelta(hours=3), hours=2), volunteer),
        "future": visit(occurrence(here, now + timedelta(days=1)), volunteer),
        "elsewhere": visit(occurrence(there, now - timedelta(hours=3)), volunteer),
    }


def _post(client, visit_id, outcome, **fields):
    data = {f"v{visit_id}-outcome": outcome}
    data.update({f"v{visit_id}-{k}": v for k, v in fields.items()})
    return client.post(f"/center/besoeg/{visit_id}", data=data, follow_redirects=True)


def test_staff_page_lists_my_visits_only(client, world):
    log_in(client, world["staff"])
    page = client.get("/center/").get_data(as_text=True)
    assert "Dagens besøg" in page or "Denne uge" in page
    assert f'id="besoeg-{world["past"].id}"' in page
    assert f'id="besoeg-{world["elsewhere"].id}"' not in page
    # What staff need to welcome the visitor: full name and phone, not email or address.
    assert "Karen Jensen" in page and "+45 21 43 65 87" in page
    assert 'href="tel:+4521436587"' in page
    assert world["past"].volunteer.email not in page


def test_other_centres_staff_see_neither_name_nor_phone(client, world):
    log_in(client, world["other_staff"])
    page = client.get("/center/").get_data(as_text=True)
    assert f'id="besoeg-{world["elsewhere"].id}"' in page  # their own centre's visit ...
    assert f'id="besoeg-{world["past"].id}"' not in page  # ... but not ours
    # The volunteer visits both centres; the other centre sees her for its own visit only.
    assert page.count("Karen Jensen") == 1


@pytest.mark.parametrize(
    ("outcome", "hours"),
    [("confirmed", 2.0), ("no_show", None), ("cancelled", None)],
)
def test_staff_record_an_outcome(client, world, outcome, hours):
    log_in(client, world["staff"])
    response = _post(client, world["past"].id, outcome, note="Fint besøg")
    assert "Tak, det er registreret." in response.get_data(as_text=True)
    db.session.expire_all()
    v = world["past"]
    assert v.state == outcome and v.hours == hours and v.note == "Fint besøg"
    assert v.confirmed_by_id == world["staff"].id and v.confirmed_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == v.id))
    assert event.action == f"visit.{outcome}" and event.actor_id == world["staff"].id


def test_hours_can_be_edited_and_are_checked(client, world):
    log_in(client, world["staff"])
    page = _post(client, world["past"].id, "confirmed", hours="25").get_data(as_text=True)
    assert "Skriv et antal timer fra 0 til 24." in page
    db.session.expire_all()
    assert world["past"].state == VisitState.SCHEDULED
    _post(client, world["past"].id, "confirmed", hours="1.5")
    db.session.expire_all()
    assert world["past"].hours == 1.5


def test_confirming_twice_changes_nothing(client, world):
    log_in(client, world["staff"])
    _post(client, world["past"].id, "confirmed")
    db.session.expire_all()
    first = world["past"].confirmed_at
    response = _post(client, world["past"].id, "confirmed")
    assert "Det var allerede registreret." in response.get_data(as_text=True)
    db.session.expire_all()
    assert world["past"].confirmed_at == first
    assert len(db.session.scalars(select(AuditEvent)).all()) == 1


def test_a_recorded_visit_says_so_and_folds_its_buttons_away(client, world):
    log_in(client, world["staff"])
    card = f'id="besoeg-{world["past"].id}"'

    def visit_card() -> str:
        page = client.get("/center/").get_data(as_text=True)
        start = page.index(card)
        return page[start : page.index("</li>", start)]

    assert "Registreret" not in visit_card() and "<details>" not in visit_card()
    _post(client, world["past"].id, "confirmed", hours="1.5")
    recorded = visit_card()
    assert "Registreret: Bekræftet, 1,5 timer." in recorded
    assert "<details>" in recorded and "Ret registreringen" in recorded
    assert recorded.index("<details>") < recorded.index('value="confirmed"')
    _post(client, world["past"].id, "no_show")
    assert "Registreret: Udeblevet." in visit_card()


def test_not_before_the_visit_has_started(client, world):
    log_in(client, world["staff"])
    for outcome in ("confirmed", "no_show"):
        page = _post(client, world["future"].id, outcome).get_data(as_text=True)
        assert "Besøget er ikke begyndt endnu." in page
    db.session.expire_all()
    assert world["future"].state == VisitState.SCHEDULED
    _post(client, world["future"].id, "cancelled")
    db.session.expire_all()
    assert world["future"].state == VisitState.CANCELLED


def test_service_rules(app, world):
    staff, past = world["staff"], world["past"]
    with pytest.raises(services.TooEarly):
        services.record_visit(staff, past.id, "confirmed", past.occurrence.starts_at - timedelta(1))
    with pytest.raises(ValueError):
        services.record_visit(staff, past.id, "confirmed", utcnow(), hours=24.5)
    result = services.record_visit(staff, past.id, "confirmed", utcnow(), hours=0)
    assert result.changed and result.visit.hours == 0
    assert not services.record_visit(staff, past.id, "confirmed", utcnow()).changed


def test_another_centres_visit_is_not_found(client, world):
    log_in(client, world["staff"])
    elsewhere = world["elsewhere"].id
    response = client.post(
        f"/center/besoeg/{elsewhere}", data={f"v{elsewhere}-outcome": "confirmed"}
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert world["elsewhere"].state == VisitState.SCHEDULED


def _link(world, visit_key="past", outcome="confirmed", staff_key="staff"):
    return "/center/link/" + services.action_token(world[staff_key], world[visit_key], outcome)


def test_one_click_link_shows_then_records(client, world):
    url = _link(world)
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bekræft besøget" in html and "Karen" in html
    db.session.expire_all()
    assert world["past"].state == VisitState.SCHEDULED  # GET changes nothing
    done = client.post(url, data={"link-outcome": "confirmed", "link-hours": "2"})
    assert "Det er registreret." in done.get_data(as_text=True)
    db.session.expire_all()
    assert world["past"].state == VisitState.CONFIRMED
    assert world["past"].confirmed_by_id == world["staff"].id
    again = client.post(url, data={"link-outcome": "confirmed"})
    assert "Det var allerede registreret." in again.get_data(as_text=True)


def test_link_needs_the_csrf_token_from_its_page(app, world, tmp_path):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    url = _link(world, outcome="no_show")
    client.post(url, data={"link-outcome": "no_show"})
    db.session.expire_all()
    assert world["past"].state == VisitState.SCHEDULED
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    client.post(url, data={"link-outcome": "no_show", "csrf_token": token})
    db.session.expire_all()
    assert world["past"].state == VisitState.NO_SHOW


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        (lambda w: _link(w, "elsewhere"), 404, "Vi kan ikke finde besøget på jeres center."),
        (lambda w: _link(w, staff_key="other_staff"), 404, "Vi kan ikke finde besøget"),
        (lambda w: _link(w)[:-3] + "abc", 400, "Linket er ikke gyldigt."),
        (lambda w: "/center/link/noget-helt-andet", 400, "Linket er ikke gyldigt."),
    ],
)
def test_bad_links_change_nothing(client, world, make, status, message):
    url = make(world)
    for method in ("get", "post"):
        response = getattr(client, method)(url, data={"link-outcome": "confirmed"})
        assert response.status_code == status
        assert message in response.get_data(as_text=True)
        assert "Intet er ændret." in response.get_data(as_text=True)
    db.session.expire_all()
    assert world["past"].state == world["elsewhere"].state == VisitState.SCHEDULED


def test_expired_link(app, world):
    token = services.action_token(world["staff"], world["past"], "confirmed")
    services.read_action_link(token, utcnow() + timedelta(hours=35))
    with pytest.raises(services.BadLink) as caught:
        services.record_from_link(token, utcnow() + timedelta(hours=37))
    assert caught.value.problem == services.LinkProblem.EXPIRED
    db.session.expire_all()
    assert world["past"].state == VisitState.SCHEDULED


def test_link_before_the_visit_started(client, world):
    url = _link(world, "future")
    response = client.post(url, data={"link-outcome": "confirmed"})
    assert response.status_code == 409
    assert "Besøget er ikke begyndt endnu." in response.get_data(as_text=True)


def test_morning_digest_links_work(app, client, world):
    from volunteer.jobs.digests import centre_digest

    centre_digest(app, world["past"].occurrence.starts_at)
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == world["staff"].id)
    )
    assert "/center/link/" not in message.body_text + message.body_html
    text = delivered_text(message)
    links = [line.split()[-1] for line in text.splitlines() if "/center/link/" in line]
    assert len(links) == 2 and "/center/link/" in delivered_text(message, "html")
    path = links[1].removeprefix("http://samskab.test")
    assert "Den frivillige kom ikke" in client.get(path).get_data(as_text=True)
    client.post(path, data={"link-outcome": "no_show"})
    db.session.expire_all()
    assert world["past"].state == VisitState.NO_SHOW


def test_staff_ask_for_a_volunteer(client, world):
    log_in(client, world["staff"])
    response = client.post(
        "/center/bed-om-hjaelp",
        data={
            "centre_id": world["home"].id,
            "activity_type_id": world["activity"].id,
            "weekday": 3,
            "start_time": "17:30",
            "end_time": "19:00",
            "slots": 1,
            "text": "Vi mangler en spiseven om torsdagen",
        },
        follow_redirects=True,
    )
    assert "Koordinatorerne har fået besked" in response.get_data(as_text=True)
    need = db.session.scalar(select(Need).where(Need.description.like("Vi mangler%")))
    assert need.status == NeedStatus.DRAFT and need.organisation_id == world["org"].id
    assert need.centre_id == world["home"].id and need.weekday == 3
    assert need.first_date.weekday() == 3
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient_id == world["coordinator"].id)
    )
    assert "Plejecenter Bakkegården" in message.subject
    assert f"/opgaver/{need.id}/rediger" in message.body_text


def test_ask_for_help_checks_the_form(client, world):
    log_in(client, world["staff"])
    page = client.post(
        "/center/bed-om-hjaelp",
        data={
            "centre_id": world["home"].id,
            "activity_type_id": world["activity"].id,
            "weekday": 3,
            "start_time": "19:00",
            "end_time": "17:00",
            "slots": 1,
            "text": "x",
        },
    ).get_data(as_text=True)
    assert "Sluttidspunktet skal være efter starttidspunktet." in page
    assert db.session.scalar(select(Need).where(Need.description == "x")) is None


def test_visits_still_to_be_confirmed_lists_own_past_unconfirmed_only(client, world):
    volunteer = world["past"].volunteer
    here = world["past"].occurrence.need
    there = world["elsewhere"].occurrence.need
    waiting = visit(occurrence(here, utcnow() - timedelta(days=20)), volunteer)
    yesterday = visit(occurrence(here, utcnow() - timedelta(days=1)), volunteer)
    done = visit(
        occurrence(here, utcnow() - timedelta(days=3)), volunteer, state=VisitState.CONFIRMED
    )
    foreign = visit(occurrence(there, utcnow() - timedelta(days=2)), volunteer)
    log_in(client, world["staff"])
    page = client.get("/center/").get_data(as_text=True)
    start = page.index("Besøg der mangler at blive bekræftet")
    section = page[start : page.index("</section>", start)]
    for shown in (waiting, yesterday):
        assert f'id="besoeg-{shown.id}"' in section
        assert page.count(f'id="besoeg-{shown.id}"') == 1  # not again under "this week"
    for hidden in (done, foreign, world["future"], world["elsewhere"]):
        assert f'id="besoeg-{hidden.id}"' not in section
    assert f'id="besoeg-{foreign.id}"' not in page
    # The confirm action there works as everywhere else.
    response = _post(client, waiting.id, "confirmed", hours="2")
    assert "Tak, det er registreret." in response.get_data(as_text=True)
    page = client.get("/center/").get_data(as_text=True)
    assert f'id="besoeg-{waiting.id}"' not in page
    db.session.expire_all()
    assert waiting.state == VisitState.CONFIRMED


def test_nothing_to_confirm_says_so(client, world):
    log_in(client, world["other_staff"])
    page = client.get("/center/").get_data(as_text=True)
    assert "Besøg der mangler at blive bekræftet" in page
    assert "Alle tidligere besøg har fået svar." in page


def _centre_mails(world):
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like("visit-cancelled-centre:%"))
    ).all()


def _cancel_as_volunteer(client, world, starts_in):
    volunteer = world["past"].volunteer
    booked = visit(occurrence(world["past"].occurrence.need, utcnow() + starts_in), volunteer)
    log_in(client, volunteer)
    response = client.post(f"/min-side/besoeg/{booked.id}/aflys", data={"reason": "Jeg er syg"})
    assert response.status_code == 302
    db.session.expire_all()
    assert booked.state == VisitState.CANCELLED
    return booked


def test_centre_staff_are_emailed_when_todays_visit_is_cancelled(client, world, smtp):
    colleague = factories.user(role=Role.CENTRE, centres=[world["home"]], name="Bo Kollega")
    booked = _cancel_as_volunteer(client, world, timedelta(minutes=30))
    mails = _centre_mails(world)
    assert {m.recipient_id for m in mails} == {world["staff"].id, colleague.id}
    assert world["other_staff"].id not in {m.recipient_id for m in mails}
    text = delivered_text(mails[0])
    assert mails[0].subject.startswith("Aflyst besøg: Spiseven")
    assert "Karen Jensen kan alligevel ikke komme til Plejecenter Bakkegården" in text
    assert "Jeg er syg" not in text  # the reason is for the coordinators, not the centre
    assert "http://samskab.test/center/" in text
    # The coordinators are told as before, once.
    coordinator_mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"visit-cancelled:{booked.id}:%"))
    ).all()
    assert [m.recipient_id for m in coordinator_mails] == [world["coordinator"].id]


def test_centre_staff_are_not_emailed_about_a_visit_next_month(client, world):
    _cancel_as_volunteer(client, world, timedelta(days=30))
    assert _centre_mails(world) == []


def test_tell_centre_follows_the_local_calendar(app, world):
    """Tomorrow is the Copenhagen tomorrow: 23:30 UTC on 1 July is already 2 July there."""
    from datetime import UTC, datetime

    from volunteer import bookings

    now = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 01.30 on 2 July in Copenhagen
    need = world["past"].occurrence.need
    volunteer = world["past"].volunteer
    day_after = visit(occurrence(need, datetime(2026, 7, 3, 21, 0, tzinfo=UTC)), volunteer)
    beyond = visit(occurrence(need, datetime(2026, 7, 3, 22, 30, tzinfo=UTC)), volunteer)
    bookings.tell_centre(day_after, now)  # 23.00 on 3 July, local tomorrow
    bookings.tell_centre(beyond, now)  # 00.30 on 4 July, local: two days ahead
    db.session.commit()
    assert {m.dedup_key for m in _centre_mails(world)} == {
        f"visit-cancelled-centre:{day_after.id}:{world['staff'].id}"
    }
