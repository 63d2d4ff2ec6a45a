"""Staff look after their own second factor: new recovery codes (the old ones stop working,
the new are shown once and never cached) and switching it off where the role does not require
it, each after a current code or the password, audited."""

from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import select

from support.factories import PASSWORD, user
from volunteer.audit import AuditEvent
from volunteer.auth import two_factor
from volunteer.auth.models import LoginPolicy, RecoveryCode, Role, User
from volunteer.db import utcnow
from volunteer.extensions import db

_CODES = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


def _code(person: User, ahead: int = 0) -> str:
    db.session.refresh(person)
    assert person.totp_secret
    return pyotp.TOTP(person.totp_secret).at(time.time() + 30 * ahead)


def _enrolled(client, auth) -> tuple[User, list[str]]:  # type: ignore[no-untyped-def]
    person = user(role=Role.CENTRE)
    auth(person)
    client.get("/konto/to-faktor")
    page = client.post("/konto/to-faktor", data={"code": _code(person)}).get_data(as_text=True)
    return person, _CODES.findall(page)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action)))


def test_new_recovery_codes_replace_the_old_ones(client, auth):
    person, old = _enrolled(client, auth)
    page = client.get("/konto/to-faktor").get_data(as_text=True)
    assert "Lav nye gendannelseskoder" in page
    wrong = client.post("/konto/to-faktor/nye-koder", data={"renew-proof": "forkert"})
    assert "hverken en aktuel kode fra appen eller din adgangskode" in wrong.get_data(as_text=True)
    response = client.post("/konto/to-faktor/nye-koder", data={"renew-proof": PASSWORD})
    assert response.headers["Cache-Control"] == "private, no-store"
    new = _CODES.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert "account.recovery_codes_renewed" in _actions()
    db.session.expire_all()
    assert not two_factor.verify(person, old[0], utcnow())
    assert two_factor.verify(person, new[0], utcnow())


def test_a_current_code_also_proves_the_account(client, auth):
    person, _old = _enrolled(client, auth)
    response = client.post("/konto/to-faktor/nye-koder", data={"renew-proof": _code(person, 1)})
    assert len(_CODES.findall(response.get_data(as_text=True))) == 10


def test_two_factor_can_be_switched_off_with_the_password(client, auth):
    person, _codes = _enrolled(client, auth)
    assert "Slå totrinslogin fra" in client.get("/konto/to-faktor").get_data(as_text=True)
    wrong = client.post("/konto/to-faktor/slaa-fra", data={"off-proof": "forkert"})
    assert wrong.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, person.id).two_factor_enabled
    response = client.post("/konto/to-faktor/slaa-fra", data={"off-proof": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert not person.two_factor_enabled and person.totp_secret is None
    assert db.session.scalar(select(RecoveryCode)) is None
    assert "account.two_factor_disabled" in _actions()


def test_a_role_that_requires_two_factor_cannot_switch_it_off(client, auth):
    person, _codes = _enrolled(client, auth)
    db.session.add(LoginPolicy(role="centre", require_two_factor=True, password_login=True))
    db.session.commit()
    page = client.get("/konto/to-faktor").get_data(as_text=True)
    assert "kan ikke slås fra" in page and "/konto/to-faktor/slaa-fra" not in page
    response = client.post("/konto/to-faktor/slaa-fra", data={"off-proof": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).two_factor_enabled
    assert "account.two_factor_disabled" not in _actions()
