"""A person disconnects a linked login from the account page (POST, audited; the CSRF token is
checked by tests/web/test_csrf.py through the route table), unless it is their only way in."""

from __future__ import annotations

from sqlalchemy import select

from support.factories import coordinator, organisation, user
from volunteer.audit import AuditEvent
from volunteer.auth import oidc
from volunteer.auth.models import LoginPolicy, OidcLink
from volunteer.extensions import db


def _no_password(account):
    account.password_hash = None
    db.session.commit()
    return account


def _linked(account, provider: str = "mitid", subject: str = "sub-1") -> OidcLink:
    link = OidcLink(
        provider=provider, subject=subject, user=account, approved_at=account.created_at
    )
    db.session.add(link)
    db.session.commit()
    return link


def test_the_account_page_disconnects_a_login_and_audits_it(client, auth):
    person = user()
    _linked(person)
    auth(person)
    page = client.get("/konto/").get_data(as_text=True)
    assert "/konto/oidc/mitid/afbryd" in page and "Afbryd" in page
    response = client.post("/konto/oidc/mitid/afbryd", follow_redirects=True)
    assert "Log ind er afbrudt" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(OidcLink)) is None
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.oidc_disconnected")
    )
    assert event is not None and event.actor_id == person.id


def test_the_only_way_in_stays_connected(client, auth):
    person = user()
    _linked(person)
    auth(person)
    _no_password(person)  # logged in before (as through the provider); no password now
    response = client.post("/konto/oidc/mitid/afbryd", follow_redirects=True)
    assert "din eneste måde at logge ind på" in response.get_data(as_text=True)
    assert db.session.scalar(select(OidcLink)) is not None


def test_another_connected_login_is_a_way_in(app):
    person = _no_password(user())
    _linked(person, "mitid", "a")
    _linked(person, "broker", "b")
    assert oidc.disconnect(person, "mitid", password_login=False) is True
    try:
        oidc.disconnect(person, "broker", password_login=False)
    except oidc.OnlyWayIn:
        pass
    else:
        raise AssertionError("the last login went")


def test_staff_whose_password_is_switched_off_keep_their_login(app):
    person = coordinator(organisation())
    _linked(person, "entra")
    db.session.add(LoginPolicy(role="coordinator", require_two_factor=False, password_login=False))
    db.session.commit()
    try:
        oidc.disconnect(person, "entra", password_login=False)
    except oidc.OnlyWayIn:
        pass
    else:
        raise AssertionError("the staff login went")
    assert oidc.disconnect(person, "entra", password_login=True) is True


def test_a_waiting_link_can_always_go_and_an_unknown_one_is_nothing(app):
    person = _no_password(user())
    db.session.add(OidcLink(provider="mitid", subject="w", user=person))
    db.session.commit()
    assert oidc.disconnect(person, "nothing", password_login=True) is False
    assert oidc.disconnect(person, "mitid", password_login=False) is True
