"""A contact for every need: chosen on the need form among the organisation's coordinators,
named on the need page (with tel:/mailto: links, also instead of "Spørg din koordinator" about a
child certificate), told when a volunteer who cannot sign up yet is interested, and named at the
end of every email about the need."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from support import factories, make_app
from support.auth import log_in
from volunteer.audit import AuditEvent
from volunteer.centres import services as centres
from volunteer.coordination import proposals
from volunteer.db import utcnow
from volunteer.extensions import db, limiter
from volunteer.jobs.invitations import expire_invitations
from volunteer.jobs.visits import visit_followups, visit_reminders
from volunteer.models import (
    AssignmentState,
    Need,
    NeedStatus,
    Occurrence,
    OutboxMessage,
    Role,
    Visit,
)
from volunteer.needs import manage, signup
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers import services as volunteers

TEMPLATES = Path(__file__).parents[2] / "templates" / "mail"
ASK = "Spørg Mette Hansen, tlf. +45 75 00 00 01, e-mail mette@example.org."
QUESTIONS = "Spørgsmål? Kontakt Mette Hansen, tlf. +45 75 00 00 01, e-mail mette@example.org."


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    other = factories.organisation("Røde Kors")
    mette = factories.coordinator(
        org, name="Mette Hansen", email="mette@example.org", phone="+45 75 00 00 01"
    )
    karl = factories.coordinator(org, name="Karl Nielsen", email="karl@example.org")
    stranger = factories.coordinator(other, name="Ole Fremmed")
    lektie = factories.activity_type("lektiecafe", child=True)
    cafe = factories.need(
        org,
        lektie,
        title="Lektiecafé i Tørring",
        postcode="7160",
        weekday=0,
        start_time=time(15),
        end_time=time(17),
        first_date=date(2026, 1, 1),
        requires_child_certificate=True,
        contact=mette,
    )
    sync_occurrences(cafe, utcnow().date())
    db.session.commit()
    return {
        "org": org,
        "mette": mette,
        "karl": karl,
        "stranger": stranger,
        "lektie": lektie,
        "cafe": cafe,
    }


def _volunteer(**fields):
    return factories.free_volunteer(postcode="7160", **fields)


def _page(client, need):
    return client.get(f"/opgaver/{need.id}").get_data(as_text=True)


# The need page


def test_the_need_page_names_the_contact_with_links(client, world):
    page = _page(client, world["cafe"])
    assert ASK in re.sub(r"<[^>]+>", "", page)
    assert 'href="tel:+4575000001"' in page
    assert 'href="mailto:mette@example.org"' in page


def test_a_contact_without_a_phone_is_named_with_the_email(client, world):
    cafe = world["cafe"]
    cafe.contact = world["karl"]
    db.session.commit()
    text = re.sub(r"<[^>]+>", "", _page(client, cafe))
    assert "Spørg Karl Nielsen, e-mail karl@example.org." in text
    assert "tlf." not in text


def test_a_child_certificate_need_names_the_contact_not_your_coordinator(client, world):
    log_in(client, _volunteer())
    page = _page(client, world["cafe"])
    text = re.sub(r"<[^>]+>", "", page)
    assert f"Det kræver en gyldig børneattest. {ASK}" in text
    assert "En gyldig børneattest. Mette Hansen sørger for den sammen med dig." in text
    assert "Spørg din koordinator" not in page and "Din koordinator" not in page
    assert "Jeg er interesseret" in page


def test_signing_up_without_a_certificate_names_the_contact(client, world):
    log_in(client, _volunteer())
    response = client.post(f"/opgaver/{world['cafe'].id}/tilmeld", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"Det kræver en gyldig børneattest. {ASK}" in re.sub(r"<[^>]+>", "", page)
    assert 'href="mailto:mette@example.org"' in page
    assert "Spørg din koordinator" not in page


def test_the_contacts_details_are_escaped(client, world):
    mette = world["mette"]
    mette.name = '<script>alert("x")</script>'
    mette.phone = '"><img src=x onerror=alert(1)>'
    db.session.commit()
    page = _page(client, world["cafe"])
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "Spørg &lt;script&gt;alert" in page


def test_a_need_whose_contact_left_falls_back_to_a_coordinator(client, world):
    world["mette"].active = False
    db.session.commit()
    assert "Spørg Karl Nielsen" in _page(client, world["cafe"])


# "I am interested"


def _interest_messages(need):
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedup_key.like(f"need-interest:{need.id}:%"))
    ).all()


def test_i_am_interested_tells_the_contact_once(client, world):
    volunteer = _volunteer(name="Sofie Sørensen", phone="+45 20 30 40 50")
    cafe = world["cafe"]
    log_in(client, volunteer)
    first = client.post(f"/opgaver/{cafe.id}/interesseret", follow_redirects=True)
    assert "Tak! Vi har fortalt Mette Hansen, at du er interesseret." in first.get_data(
        as_text=True
    )
    second = client.post(f"/opgaver/{cafe.id}/interesseret", follow_redirects=True)
    assert "Du har allerede fortalt Mette Hansen" in second.get_data(as_text=True)
    (message,) = _interest_messages(cafe)
    assert message.recipient_id == world["mette"].id
    assert message.dedup_key == f"need-interest:{cafe.id}:{volunteer.id}"
    assert message.subject == "Sofie Sørensen er interesseret i Lektiecafé i Tørring"
    body = message.body_text
    assert "Sofie Sørensen vil gerne hjælpe med" in body
    assert "Det kræver en gyldig børneattest" in body
    assert volunteer.email in body and "+45 20 30 40 50" in body
    assert "Spørgsmål? Kontakt" not in body  # the contact is not told to ask themselves
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "need.interest")
    ).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(volunteer.id, cafe.id)]
    page = _page(client, cafe)
    assert "Du har fortalt Mette Hansen, at du er interesseret." in page
    assert "Jeg er interesseret</button>" not in page


def test_anonymous_interest_goes_to_the_login_page(client, world):
    response = client.post(f"/opgaver/{world['cafe'].id}/interesseret")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/konto/log-ind")
    assert _interest_messages(world["cafe"]) == []


def test_interest_in_a_missing_or_draft_need_is_404(client, world):
    draft = factories.need(world["org"], world["lektie"], status=NeedStatus.DRAFT)
    log_in(client, _volunteer())
    assert client.post("/opgaver/999999/interesseret").status_code == 404
    assert client.post(f"/opgaver/{draft.id}/interesseret").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_volunteer_who_can_sign_up_sends_nothing(client, world):
    volunteer = _volunteer()
    volunteer.profile.child_cert_valid_until = date(2099, 1, 1)
    db.session.commit()
    log_in(client, volunteer)
    assert "Jeg er interesseret" not in _page(client, world["cafe"])
    response = client.post(f"/opgaver/{world['cafe'].id}/interesseret", follow_redirects=True)
    assert "Du kan melde dig til denne aktivitet med det samme." in response.get_data(as_text=True)
    assert _interest_messages(world["cafe"]) == []


# The need form


def _form(world, **changes):
    return {
        "organisation_id": str(world["org"].id),
        "activity_type_id": str(world["lektie"].id),
        "title": "Lektiehjælp i Juelsminde",
        "description": "",
        "centre_id": "0",
        "postcode": "7130",
        "address": "",
        "local_area_id": "0",
        "schedule": "weekly",
        "weekday": "2",
        "first_date": (utcnow().date() + timedelta(days=7)).isoformat(),
        "last_date": "",
        "start_time": "15:00",
        "end_time": "17:00",
        "slots": "2",
        **changes,
    }


def _new_need():
    return db.session.scalar(select(Need).where(Need.title == "Lektiehjælp i Juelsminde"))


def test_the_form_offers_the_coordinators_and_defaults_to_the_creator(client, world):
    log_in(client, world["karl"])
    page = client.get("/opgaver/ny").get_data(as_text=True)
    assert "Kontaktperson" in page and "Mette Hansen" in page
    assert re.search(rf'<option selected value="{world["karl"].id}">Karl Nielsen', page)
    assert "Ole Fremmed" not in page  # another organisation's coordinator
    client.post("/opgaver/ny", data=_form(world))
    assert _new_need().contact_id == world["karl"].id


def test_the_form_sets_the_contact(client, world):
    log_in(client, world["karl"])
    client.post("/opgaver/ny", data=_form(world, contact_id=str(world["mette"].id)))
    need = _new_need()
    assert need.contact_id == world["mette"].id
    client.post(f"/opgaver/{need.id}/rediger", data=_form(world, contact_id=str(world["karl"].id)))
    db.session.refresh(need)
    assert need.contact_id == world["karl"].id


@pytest.mark.parametrize("who", ["stranger", "volunteer", "nobody"])
def test_only_a_coordinator_of_the_organisation_can_be_the_contact(client, world, who):
    ids = {
        "stranger": world["stranger"].id,
        "volunteer": factories.member(world["org"]).id,
        "nobody": 999999,
    }
    log_in(client, world["karl"])
    response = client.post("/opgaver/ny", data=_form(world, contact_id=str(ids[who])))
    assert response.status_code == 200
    assert "Kontaktpersonen skal være koordinator i opgavens organisation." in response.get_data(
        as_text=True
    )
    assert _new_need() is None
    cafe = world["cafe"]
    response = client.post(
        f"/opgaver/{cafe.id}/rediger", data=_form(world, contact_id=str(ids[who]))
    )
    assert "Kontaktpersonen skal være koordinator" in response.get_data(as_text=True)
    db.session.refresh(cafe)
    assert cafe.contact_id == world["mette"].id


# Every email about a need


def _occurrence(need, starts_at):
    occ = Occurrence(need=need, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2))
    db.session.add(occ)
    db.session.commit()
    return occ


def _visit(need, volunteer, starts_at):
    visit = Visit(occurrence=_occurrence(need, starts_at), volunteer=volunteer)
    db.session.add(visit)
    db.session.commit()
    return visit


def _send_invitation(world, need, now):
    proposal = factories.assignment(need, _volunteer(), AssignmentState.PROPOSED)
    proposals.approve(world["mette"], [proposal.id], now)


def _send_slot_offered(world, need, now):
    factories.assignment(need, _volunteer(), AssignmentState.WAITLISTED)
    signup.offer_next(need, now)
    db.session.commit()


def _send_invitation_expired(world, need, now):
    invited = factories.assignment(need, _volunteer(), AssignmentState.INVITED)
    invited.invite_expires_at = now - timedelta(hours=1)
    db.session.commit()
    expire_invitations(current_app, now)


def _send_need_closed(world, need, now):
    factories.assignment(need, _volunteer(), AssignmentState.ACCEPTED)
    manage.close_need(world["mette"], need, now)


def _send_visit_reminder(world, need, now):
    _visit(need, _volunteer(), now + timedelta(hours=12))
    visit_reminders(current_app, now)


def _send_visit_followup(world, need, now):
    _visit(need, _volunteer(), now - timedelta(hours=30))
    visit_followups(current_app, now)


def _send_assignment_withdrawn(world, need, now):
    volunteer = _volunteer()
    held = factories.assignment(need, volunteer, AssignmentState.ACCEPTED)
    volunteers.withdraw(volunteer, held.id, now)


def _send_visit_cancelled(world, need, now):
    volunteer = _volunteer()
    factories.assignment(need, volunteer, AssignmentState.ACCEPTED)
    visit = _visit(need, volunteer, now + timedelta(days=3))
    volunteers.cancel_visit(volunteer, visit.id, "Jeg er syg", now)


def _send_centre_help_request(world, need, now):
    staff = factories.user(role=Role.CENTRE, centres=[need.centre])
    centres.ask_for_help(
        staff,
        centres.HelpRequest(
            centre_id=need.centre_id,
            activity_type_id=world["lektie"].id,
            weekday=3,
            start_time=time(15),
            end_time=time(17),
            slots=1,
            text="Vi mangler en til lektiecaféen.",
        ),
        now,
    )


SENDERS = {
    "invitation": _send_invitation,
    "slot_offered": _send_slot_offered,
    "invitation_expired": _send_invitation_expired,  # + invitation_expired_coordinator
    "need_closed": _send_need_closed,
    "visit_reminder": _send_visit_reminder,
    "visit_followup": _send_visit_followup,
    "volunteer_assignment_withdrawn": _send_assignment_withdrawn,
    "volunteer_visit_cancelled": _send_visit_cancelled,
    "centre_help_request": _send_centre_help_request,
}


@pytest.mark.parametrize("template", sorted(SENDERS))
def test_every_email_about_a_need_names_the_contact(app, world, template):
    """Sent the way the app sends it: everyone but the contact is told whom to ask, in the text
    and (where there is one) the HTML body."""
    cafe = world["cafe"]
    school = factories.centre(world["org"], postcode="7160", name="Tørring Skole")
    factories.user(role=Role.CENTRE, centres=[school])
    cafe.centre = school
    db.session.commit()
    SENDERS[template](world, cafe, utcnow())
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert messages, "the sender sent nothing"
    for message in messages:
        if message.recipient_id == world["mette"].id:
            assert "Spørgsmål? Kontakt" not in message.body_text
            continue
        assert QUESTIONS in message.body_text, (message.dedup_key, message.body_text)
        assert message.body_text.rstrip().endswith(f"{QUESTIONS}\n\nVenlig hilsen\nSamskab")
        if message.body_html:
            assert 'href="tel:+4575000001"' in message.body_html
            assert 'href="mailto:mette@example.org"' in message.body_html
            assert QUESTIONS in re.sub(r"<[^>]+>", "", message.body_html)


def test_every_need_mail_template_includes_the_contact():
    """A new email about one need cannot forget whom to ask (the digests list many needs)."""
    about_one_need = [
        path
        for path in TEMPLATES.glob("*.txt")
        if not path.name.endswith(".subject.txt")
        and not path.name.startswith("_")
        and re.search(r"(?<![.\w])need\.", path.read_text())
        and "{% for need" not in path.read_text()
    ]
    assert len(about_one_need) >= 10
    missing = [
        p.name for p in about_one_need if "{% include 'mail/_contact.txt' %}" not in p.read_text()
    ]
    assert missing == []
    assert "mail/_contact.html" in (TEMPLATES / "_layout.html").read_text()


@pytest.fixture
def limited_app(backend, tmp_path):
    for limited in make_app(
        backend, tmp_path, RATELIMIT_ENABLED=True, INTEREST_RATE_LIMIT="3 per hour"
    ):
        limiter._storage_dead = False
        limiter.reset()
        yield limited


def test_interest_is_rate_limited(limited_app):
    """Clicking through many needs cannot flood the contacts: past the limit, 429."""
    org = factories.organisation()
    factories.coordinator(org)
    activity = factories.activity_type(child=True)
    needs = [
        factories.need(org, activity, requires_child_certificate=True, first_date=date(2026, 1, 1))
        for _ in range(4)
    ]
    for need in needs:
        sync_occurrences(need, utcnow().date())
    db.session.commit()
    client = limited_app.test_client()
    log_in(client, _volunteer())
    statuses = [client.post(f"/opgaver/{n.id}/interesseret").status_code for n in needs]
    assert statuses == [302, 302, 302, 429]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999999", "1e309", "\x00"])
def test_a_hostile_contact_is_refused_without_an_error(client, world, value):
    log_in(client, world["karl"])
    response = client.post("/opgaver/ny", data=_form(world, contact_id=value))
    assert response.status_code == 200
    assert _new_need() is None
