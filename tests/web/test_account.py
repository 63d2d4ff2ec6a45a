"""The account page (every role): change the password (every other session ends, this one is
renewed, a notice is sent) and the email address (confirmed by a link to the new address)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from support import delivered_text, factories, queued
from support.auth import log_in
from volunteer.audit import AuditEvent
from volunteer.extensions import db
from volunteer.models import OutboxMessage, Role, User

NEW_PASSWORD = "blaabaer-traktor-skov"


def _change_password(client, current=factories.PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/konto/adgangskode",
        data={
            "current_password": current,
            "new_password": new,
            "new_password_confirm": confirm or new,
        },
        follow_redirects=True,
    )


def _mails(template_key: str) -> list[OutboxMessage]:
    return queued(f"{template_key}:")


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.COORDINATOR, Role.CENTRE, Role.ADMIN])
def test_every_role_has_an_account_page(client, role):
    user = factories.user(role=role)
    log_in(client, user)
    page = client.get("/konto/").get_data(as_text=True)
    assert "Skift adgangskode" in page and "Skift e-mailadresse" in page
    assert 'href="/konto/"' in client.get("/om").get_data(as_text=True)  # in the header


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, smtp):
    user = factories.user(email="karen@example.org")
    log_in(client, user)
    other = app.test_client()
    log_in(other, user)
    assert other.get("/min-side/").status_code == 200
    page = _change_password(client).get_data(as_text=True)
    assert "Din adgangskode er ændret" in page
    assert client.get("/min-side/").status_code == 200  # still logged in here
    assert other.get("/min-side/").status_code == 302  # logged out on the other device
    client.post("/konto/log-ud")
    log_in(client, user, NEW_PASSWORD)
    (notice,) = _mails("password-changed")
    assert notice.recipient_email == "karen@example.org"
    assert notice.subject == "Din adgangskode er ændret"
    assert "logget ud på alle andre enheder" in delivered_text(notice)
    assert "account.password_changed" in _actions()


def test_a_copied_cookie_dies_with_the_password_change(app, client):
    user = factories.user()
    log_in(client, user)
    stolen = client.get_cookie("session").value
    _change_password(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/min-side/").status_code == 302


def test_wrong_current_password_is_refused(app, client):
    user = factories.user()
    log_in(client, user)
    other = app.test_client()
    log_in(other, user)
    page = _change_password(client, current="ikke-min-kode-123").get_data(as_text=True)
    assert "Det er ikke din nuværende adgangskode." in page
    db.session.expire_all()
    assert other.get("/min-side/").status_code == 200
    assert _mails("password-changed") == []
    client.post("/konto/log-ud")
    log_in(client, user)  # the old password still works


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("kort", None, "mindst 10 tegn"),
        ("adgangskode123", None, "for nem at gætte"),
        (NEW_PASSWORD, "noget-helt-andet-her", "De to adgangskoder er ikke ens."),
    ],
)
def test_the_new_password_follows_the_sign_up_rules(client, new, confirm, message):
    user = factories.user()
    log_in(client, user)
    page = _change_password(client, new=new, confirm=confirm).get_data(as_text=True)
    assert message in page
    assert _mails("password-changed") == []


def test_the_new_password_may_not_be_the_email(client):
    user = factories.user(email="lang.adresse.her@example.org")
    log_in(client, user)
    page = _change_password(client, new="lang.adresse.her").get_data(as_text=True)
    assert "for nem at gætte" in page


def _request_email(client, new="ny.adresse@example.org", password=factories.PASSWORD):
    return client.post(
        "/konto/email",
        data={"new_email": new, "email_password": password},
        follow_redirects=True,
    )


def _email_link(message: OutboxMessage) -> str:
    assert "/konto/ny-email/" not in message.body_text  # the outbox holds only a marker
    assert "/konto/ny-email/" not in str(message.links)
    text = delivered_text(message)
    match = re.search(r"http://samskab\.test(/konto/ny-email/\S+)", text)
    assert match, text
    return match.group(1)


def test_email_change_is_confirmed_by_a_link_to_the_new_address(app, client, smtp):
    user = factories.user(email="karen@example.org", name="Karen Jensen")
    log_in(client, user)
    page = _request_email(client, new="Karen.Ny@Example.org").get_data(as_text=True)
    assert "Vi har sendt et link til karen.ny@example.org" in page
    (message,) = _mails("email-change")
    assert message.recipient_email == "karen.ny@example.org"
    assert message.subject == "Bekræft din nye e-mailadresse til Samskab"
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "karen@example.org"  # not before the link
    link = _email_link(message)

    assert "karen.ny@example.org" in client.get(link).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "karen@example.org"  # GET only asks
    page = client.post(link, follow_redirects=True).get_data(as_text=True)
    assert "Din e-mailadresse er nu karen.ny@example.org." in page
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "karen.ny@example.org"
    (notice,) = _mails("email-changed")
    assert notice.recipient_email == "karen@example.org"
    assert notice.subject == "Din e-mailadresse til Samskab er ændret"
    assert "karen.ny@example.org" in delivered_text(notice)
    assert {"account.email_change_requested", "account.email_changed"} <= set(_actions())

    # Used once: the address changed, so the link is dead.
    page = client.post(link, follow_redirects=True).get_data(as_text=True)
    assert "Linket er udløbet, brugt eller ikke længere gyldigt." in page
    client.post("/konto/log-ud")
    log_in(client, "karen.ny@example.org")


def test_a_tampered_email_link_is_refused(client):
    user = factories.user()
    log_in(client, user)
    _request_email(client)
    link = _email_link(_mails("email-change")[0])
    for bad in (link[:-3] + "abc", "/konto/ny-email/ikke-et-link"):
        page = client.post(bad, follow_redirects=True).get_data(as_text=True)
        assert "Linket er udløbet, brugt eller ikke længere gyldigt." in page
    db.session.expire_all()
    assert db.session.get(User, user.id).email == user.email


def test_an_expired_email_link_is_refused(app, client):
    user = factories.user()
    log_in(client, user)
    _request_email(client)
    link = _email_link(_mails("email-change")[0])
    app.config["EMAIL_CHANGE_MAX_AGE_S"] = -1
    page = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "Linket er udløbet, brugt eller ikke længere gyldigt." in page
    page = client.post(link, follow_redirects=True).get_data(as_text=True)
    assert "Linket er udløbet, brugt eller ikke længere gyldigt." in page
    db.session.expire_all()
    assert db.session.get(User, user.id).email == user.email


def test_an_email_link_dies_when_the_password_changes(client):
    user = factories.user()
    log_in(client, user)
    _request_email(client)
    link = _email_link(_mails("email-change")[0])
    _change_password(client)
    page = client.post(link, follow_redirects=True).get_data(as_text=True)
    assert "Linket er udløbet, brugt eller ikke længere gyldigt." in page
    db.session.expire_all()
    assert db.session.get(User, user.id).email == user.email


def test_a_taken_address_is_refused_and_nothing_is_sent(client):
    factories.user(email="optaget@example.org")
    user = factories.user()
    log_in(client, user)
    page = _request_email(client, new="OPTAGET@example.org").get_data(as_text=True)
    assert "En anden konto bruger allerede denne e-mailadresse." in page
    assert _mails("email-change") == []


def test_an_address_taken_after_the_link_was_sent_is_refused(client):
    user = factories.user()
    log_in(client, user)
    _request_email(client, new="ny.adresse@example.org")
    link = _email_link(_mails("email-change")[0])
    factories.user(email="ny.adresse@example.org")
    page = client.post(link, follow_redirects=True).get_data(as_text=True)
    assert "En anden konto bruger allerede denne e-mailadresse." in page
    db.session.expire_all()
    assert db.session.get(User, user.id).email == user.email


def test_email_change_needs_the_current_password(client):
    user = factories.user()
    log_in(client, user)
    page = _request_email(client, password="ikke-min-kode-123").get_data(as_text=True)
    assert "Det er ikke din nuværende adgangskode." in page
    page = _request_email(client, new=user.email).get_data(as_text=True)
    assert "Det er allerede din e-mailadresse." in page
    assert _mails("email-change") == []


def test_the_account_page_needs_a_login(client):
    response = client.get("/konto/")
    assert response.status_code == 302 and "/konto/log-ind" in response.headers["Location"]
    response = client.post("/konto/adgangskode", data={})
    assert response.status_code == 302 and "/konto/log-ind" in response.headers["Location"]


def test_the_account_forms_are_rate_limited(backend, tmp_path):
    from support import make_app
    from volunteer.extensions import limiter

    for app in make_app(backend, tmp_path, RATELIMIT_ENABLED=True, ACCOUNT_RATE_LIMIT="3 per hour"):
        limiter._storage_dead = False
        limiter.reset()
        client = app.test_client()
        log_in(client, factories.user())
        for _ in range(3):
            assert _change_password(client, current="ikke-min-kode-123").status_code == 200
        response = client.post("/konto/adgangskode", data={"current_password": "gæt-igen-123"})
        assert response.status_code == 429
        assert "For mange forsøg" in response.get_data(as_text=True)
        assert client.get("/konto/").status_code == 200  # the page itself is not limited


def test_keep_me_logged_in_survives_the_change_on_this_device(app, client):
    user = factories.user()
    client.post(
        "/konto/log-ind",
        data={"email": user.email, "password": factories.PASSWORD, "remember": "y"},
    )
    old_cookie = client.get_cookie("remember_token").value
    _change_password(client)
    new_cookie = client.get_cookie("remember_token")
    assert new_cookie is not None and new_cookie.value != old_cookie
    # Only the remember cookie, no session: this device stays logged in, a copy of the old
    # cookie does not.
    fresh = app.test_client()
    fresh.set_cookie("remember_token", new_cookie.value)
    assert fresh.get("/min-side/").status_code == 200
    thief = app.test_client()
    thief.set_cookie("remember_token", old_cookie)
    assert thief.get("/min-side/").status_code == 302
