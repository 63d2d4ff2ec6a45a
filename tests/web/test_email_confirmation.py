"""A volunteer's email address is confirmed (by a link mailed at sign-up) before anything about
them goes to third parties: until then a yes is refused by the booking rules, the matching
leaves them out, and "Jeg er interesseret" sends nothing. A password reset or an email-change
link proves the address too."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from support import delivered_text, factories, queued
from support.auth import log_in
from volunteer import bookings
from volunteer.audit import AuditEvent
from volunteer.auth import services as accounts
from volunteer.clock import local_today
from volunteer.coordination import proposals
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Assignment, AssignmentState, OutboxMessage, User, Visit
from volunteer.needs import contact, signup
from volunteer.needs.services import sync_occurrences

REGISTRATION = {
    "name": "Karen Jensen",
    "email": "karen.jensen@example.org",
    "postcode": "7130",
    "password": "solsikke-havn-cykel",
    "password_confirm": "solsikke-havn-cykel",
    "consent": "y",
}
BANNER = "Bekræft din e-mailadresse"
REFUSED = "Bekræft først din e-mailadresse: åbn linket, vi har sendt dig på e-mail."


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    mette = factories.coordinator(org, name="Mette Hansen", email="mette@example.org")
    place = factories.centre(org, name="Plejecenter Bakkegården")
    spiseven = factories.need(
        org,
        factories.activity_type("spisevenner"),
        title="Spiseven på Bakkegården",
        weekday=3,
        start_time=time(17, 30),
        end_time=time(19),
        first_date=date(2026, 1, 1),
        centre=place,
        contact=mette,
    )
    cafe = factories.need(
        org,
        factories.activity_type("lektiecafe", child=True),
        title="Lektiecafé i Juelsminde",
        weekday=1,
        start_time=time(15),
        end_time=time(17),
        first_date=date(2026, 1, 1),
        requires_child_certificate=True,
        contact=mette,
    )
    for need in (spiseven, cafe):
        sync_occurrences(need, local_today(utcnow()))
    db.session.commit()
    return {"org": org, "mette": mette, "spiseven": spiseven, "cafe": cafe}


def _unconfirmed(world) -> User:
    return factories.free_volunteer(world["org"], name="Sofie Sørensen", email_confirmed_at=None)


def _confirmation_mails(user: User) -> list[OutboxMessage]:
    return queued(f"email-confirm:{user.id}:")


def _link(message: OutboxMessage) -> str:
    assert "/konto/bekraeft/" not in message.body_text  # the outbox holds only a marker
    match = re.search(r"http://samskab\.test(/konto/bekraeft/\S+)", delivered_text(message))
    assert match, delivered_text(message)
    return match.group(1)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _messages_to_others(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(OutboxMessage.recipient_email != user.email)
    )


def test_registration_mails_a_link_and_the_address_waits_for_it(client):
    page = _text(client.post("/konto/opret", data=REGISTRATION, follow_redirects=True))
    assert "åbn det for at bekræfte din adresse, før du melder dig til aktiviteter" in page
    assert BANNER in page and "Vi har sendt et link til karen.jensen@example.org" in page
    user = db.session.scalar(select(User))
    assert user.email_confirmed_at is None and not user.email_confirmed
    (message,) = _confirmation_mails(user)
    assert message.recipient_email == "karen.jensen@example.org"
    assert message.subject == "Bekræft din e-mailadresse til Samskab"
    text = delivered_text(message)
    assert "Kære Karen" in text and "Linket virker i 7 dage" in text
    assert "intet center eller kontaktperson får dine oplysninger" in text


def test_the_link_asks_first_and_confirms_on_any_device(app, client):
    client.post("/konto/opret", data=REGISTRATION)
    user = db.session.scalar(select(User))
    link = _link(_confirmation_mails(user)[0])
    phone = app.test_client()  # the mail is read on another device, not logged in
    asked = phone.get(link)
    assert asked.status_code == 200
    assert "Ja, det er min adresse" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is None  # a GET changes nothing
    done = _text(phone.post(link, follow_redirects=True))
    assert "Tak! karen.jensen@example.org er bekræftet." in done
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed
    assert "account.email_confirmed" in db.session.scalars(select(AuditEvent.action)).all()
    # The browser that registered no longer shows the banner; the link is spent in new mail.
    assert BANNER not in _text(client.get("/min-side/"))
    assert "allerede bekræftet" in _text(phone.get(link))
    assert "[linket virker ikke længere – bed om et nyt]" in delivered_text(
        _confirmation_mails(user)[0]
    )


def test_an_unconfirmed_volunteer_cannot_sign_up_and_nobody_is_told(client, world):
    sofie = _unconfirmed(world)
    log_in(client, sofie)
    need = world["spiseven"]
    assert REFUSED in _text(client.get(f"/opgaver/{need.id}"))
    page = _text(client.post(f"/opgaver/{need.id}/tilmeld", follow_redirects=True))
    assert REFUSED in page
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    assert _messages_to_others(sofie) == 0
    # Once the address is confirmed, the same click books the place.
    sofie.email_confirmed_at = utcnow()
    db.session.commit()
    client.post(f"/opgaver/{need.id}/tilmeld")
    assert db.session.scalar(select(Assignment.state)) == AssignmentState.ACCEPTED


def test_the_booking_rules_refuse_a_yes_whatever_the_path(world):
    sofie = _unconfirmed(world)
    need = world["spiseven"]
    with pytest.raises(signup.NotEligible) as refused:
        signup.sign_up(sofie, need.id, utcnow())
    assert "email_unconfirmed" in refused.value.reasons
    # An invitation (the coordinator's, or the waiting list's) cannot be accepted either.
    invited = factories.assignment(need, sofie, AssignmentState.INVITED)
    invited.invite_expires_at = utcnow() + timedelta(days=3)
    db.session.commit()
    with pytest.raises(bookings.Refused) as answer:
        signup.accept_invitation(sofie, invited.id, utcnow())
    assert answer.value.code == "email_unconfirmed"
    db.session.expire_all()
    assert db.session.get(Assignment, invited.id).state == AssignmentState.INVITED
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_the_matching_leaves_out_unconfirmed_volunteers(world):
    sofie = _unconfirmed(world)
    ole = factories.free_volunteer(world["org"], name="Ole Olsen")
    profiles = proposals.eligible_profiles(world["org"].id, local_today(utcnow()))
    assert [p.user_id for p in profiles] == [ole.id]
    assert sofie.profile not in profiles


def test_interest_sends_nothing_to_the_contact_before_the_address_is_confirmed(client, world):
    sofie = _unconfirmed(world)
    log_in(client, sofie)
    cafe = world["cafe"]
    page = _text(client.get(f"/opgaver/{cafe.id}"))
    assert REFUSED in page and "Jeg er interesseret" not in page
    answer = _text(client.post(f"/opgaver/{cafe.id}/interesseret", follow_redirects=True))
    assert REFUSED in answer
    with pytest.raises(contact.ContactError) as refused:
        contact.express_interest(sofie, cafe, utcnow(), {})
    assert refused.value.code == "email_unconfirmed"
    assert _messages_to_others(sofie) == 0


def test_a_new_link_on_request_and_none_once_confirmed(client, world):
    sofie = _unconfirmed(world)
    log_in(client, sofie)
    page = _text(client.post("/konto/bekraeft-igen", follow_redirects=True))
    assert "Vi har sendt et nyt link til" in page
    (message,) = _confirmation_mails(sofie)
    client.post(_link(message))
    page = _text(client.post("/konto/bekraeft-igen", follow_redirects=True))
    assert "Din e-mailadresse er allerede bekræftet." in page
    assert len(_confirmation_mails(sofie)) == 1


@pytest.mark.parametrize("spoil", ["tampered", "expired", "address changed"])
def test_a_bad_link_confirms_nothing(app, client, world, spoil):
    sofie = _unconfirmed(world)
    log_in(client, sofie)
    client.post("/konto/bekraeft-igen")
    link = _link(_confirmation_mails(sofie)[0])
    if spoil == "tampered":
        link = link[:-3] + "abc"
    elif spoil == "expired":
        app.config["EMAIL_CONFIRM_MAX_AGE_S"] = -1
    else:
        sofie.email = "sofie.ny@example.org"
        db.session.commit()
    for method in (client.get, client.post):
        page = _text(method(link, follow_redirects=True))
        assert "Linket er udløbet eller hører til en anden adresse." in page
    db.session.expire_all()
    assert db.session.get(User, sofie.id).email_confirmed_at is None


def test_a_password_reset_and_an_email_change_prove_the_address(client, world):
    sofie = _unconfirmed(world)
    token = accounts.make_reset_token(sofie)
    client.post(
        f"/konto/nulstil/{token}",
        data={"password": "ny-lang-adgangskode", "password_confirm": "ny-lang-adgangskode"},
    )
    db.session.expire_all()
    assert db.session.get(User, sofie.id).email_confirmed

    ole = factories.free_volunteer(world["org"], email_confirmed_at=None)
    accounts.confirm_email_change(accounts.make_email_change_token(ole, "ole.ny@example.org"))
    db.session.expire_all()
    ole = db.session.get(User, ole.id)
    assert ole.email == "ole.ny@example.org" and ole.email_confirmed


def test_staff_see_no_banner(client, world):
    mette = world["mette"]
    mette.email_confirmed_at = None
    db.session.commit()
    log_in(client, mette)
    assert BANNER not in _text(client.get("/koordinator/"))
