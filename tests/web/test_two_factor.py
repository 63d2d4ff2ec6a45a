"""Two-factor login for staff (TOTP with recovery codes), the per-role policies an administrator
sets (require two-factor, switch the password off once single sign-on works), all audited."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from support import make_app
from support.factories import PASSWORD, coordinator, organisation, user
from support.oidc import provider_settings
from volunteer.audit import AuditEvent
from volunteer.auth.models import LoginPolicy, OidcLink, RecoveryCode, Role, User
from volunteer.auth.services import make_reset_token
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.volunteers.gdpr import export, forget_person


def _password(client, person: User):  # type: ignore[no-untyped-def]
    return client.post("/konto/log-ind", data={"email": person.email, "password": PASSWORD})


def _code(person: User, ahead: int = 0) -> str:
    db.session.refresh(person)
    assert person.totp_secret
    return pyotp.TOTP(person.totp_secret).at(time.time() + 30 * ahead)


def _enrol(client, person: User) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get("/konto/to-faktor").get_data(as_text=True)
    assert "<svg" in page and "totp-secret" in page
    response = client.post("/konto/to-faktor", data={"code": _code(person)})
    page = response.get_data(as_text=True)
    assert "Totrinslogin er slået til" in page
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page)


def test_enrolment_shows_a_local_qr_code_and_ten_hashed_recovery_codes(client, auth):
    person = user(role=Role.CENTRE)
    auth(person)
    response = client.get("/konto/to-faktor")
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert "QR-kode til din godkendelsesapp" in page and "http" not in page.split("<svg")[1][:200]
    wrong = client.post("/konto/to-faktor", data={"code": "000000"})
    assert "Koden passer ikke" in wrong.get_data(as_text=True)
    codes = _enrol(client, person)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert "account.two_factor_enabled" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_password_login_then_needs_the_code_and_a_code_works_once(client, auth, app):
    person = user(role=Role.CENTRE)
    auth(person)
    _enrol(client, person)
    client.post("/konto/log-ud")
    response = _password(client, person)
    assert response.headers["Location"].endswith("/konto/to-faktor/kode")
    assert client.get("/center/").status_code == 302  # not logged in yet
    code = _code(person, ahead=1)
    wrong = client.post("/konto/to-faktor/kode", data={"code": "123456"})
    assert "Koden passer ikke" in wrong.get_data(as_text=True)
    assert client.post("/konto/to-faktor/kode", data={"code": code}).status_code == 302
    assert client.get("/center/").status_code == 200
    client.post("/konto/log-ud")
    _password(client, person)
    replay = client.post("/konto/to-faktor/kode", data={"code": code})
    assert replay.status_code == 200 and "hver kode virker én gang" in replay.get_data(as_text=True)


def test_a_recovery_code_logs_in_once(client, auth):
    person = user(role=Role.COORDINATOR)
    auth(person)
    codes = _enrol(client, person)
    client.post("/konto/log-ud")
    _password(client, person)
    assert client.post("/konto/to-faktor/kode", data={"code": codes[3].upper()}).status_code == 302
    client.post("/konto/log-ud")
    _password(client, person)
    again = client.post("/konto/to-faktor/kode", data={"code": codes[3]})
    assert again.status_code == 200
    assert "account.recovery_code_used" in db.session.scalars(select(AuditEvent.action)).all()


def test_the_code_step_without_a_password_first_goes_to_the_login(client):
    response = client.get("/konto/to-faktor/kode")
    assert response.status_code == 302 and response.headers["Location"].endswith("/konto/log-ind")
    assert client.get("/konto/to-faktor").status_code == 302


def test_an_administrator_requires_two_factor_for_a_role(client, auth):
    admin = user(role=Role.ADMIN)
    staff = user(role=Role.CENTRE)
    admin_client = client.application.test_client()
    auth(admin, admin_client)
    page = admin_client.get("/admin/login").get_data(as_text=True)
    assert "Kræv to-faktor" in page and "Må logge ind med adgangskode" in page
    saved = admin_client.post(
        "/admin/login",
        data={
            "centre_two_factor": "y",
            "centre_password": "y",
            "coordinator_password": "y",
            "admin_password": "y",
        },
    )
    assert saved.status_code == 302
    policy = db.session.get(LoginPolicy, "centre")
    assert (policy.require_two_factor, policy.password_login, policy.updated_by_id) == (
        True,
        True,
        admin.id,
    )
    assert "login_policy.changed" in db.session.scalars(select(AuditEvent.action)).all()
    # The centre's staff member must set it up before being logged in.
    response = _password(client, staff)
    assert response.headers["Location"].endswith("/konto/to-faktor")
    assert client.get("/center/").status_code == 302
    _enrol(client, staff)
    assert client.get("/center/").status_code == 200


def test_the_password_cannot_be_switched_off_without_single_sign_on(client, auth):
    admin = user(role=Role.ADMIN)
    auth(admin)
    response = client.post("/admin/login", data={"centre_password": "y", "admin_password": "y"})
    assert response.status_code == 200
    assert "kun slås fra, når et fælles log ind" in response.get_data(as_text=True)
    assert db.session.get(LoginPolicy, "coordinator") is None


@pytest.fixture
def sso_app(tmp_path: Path) -> Iterator[Flask]:
    providers = {"entra": provider_settings("http://127.0.0.1:9", label="Hedensted Kommune")}
    yield from make_app("sqlite", tmp_path, OIDC_PROVIDERS=providers)


def test_with_single_sign_on_staff_password_login_can_be_switched_off(sso_app):
    admin = user(role=Role.ADMIN)
    staff = coordinator(organisation())
    volunteer = user()
    client = sso_app.test_client()
    _password(client, admin)
    saved = client.post("/admin/login", data={"centre_password": "y", "admin_password": "y"})
    assert saved.status_code == 302
    assert db.session.get(LoginPolicy, "coordinator").password_login is False
    other = sso_app.test_client()
    refused = _password(other, staff)
    assert refused.status_code == 200
    assert "Personale logger ind med kommunens log ind" in refused.get_data(as_text=True)
    assert other.get("/koordinator/").status_code == 302
    assert _password(other, volunteer).status_code == 302  # volunteers are not affected


def test_logging_out_everywhere_ends_a_half_done_login(client, auth):
    person = user(role=Role.CENTRE)
    auth(person)
    _enrol(client, person)
    half = client.application.test_client()
    _password(half, person)
    client.post("/konto/log-ud")  # rotates the session token
    response = half.post("/konto/to-faktor/kode", data={"code": _code(person, ahead=1)})
    assert response.headers["Location"].endswith("/konto/log-ind")


def test_an_administrator_resets_a_lost_second_factor(client, auth):
    admin = user(role=Role.ADMIN)
    staff = user(role=Role.CENTRE)
    staff_client = client.application.test_client()
    auth(staff, staff_client)
    _enrol(staff_client, staff)
    auth(admin)
    assert "Nulstil totrinslogin" in client.get(f"/admin/personale/{staff.id}").get_data(
        as_text=True
    )
    client.post(f"/admin/personale/{staff.id}/to-faktor")
    db.session.expire_all()
    staff = db.session.get(User, staff.id)
    assert not staff.two_factor_enabled and not staff.recovery_codes


@pytest.fixture
def limited_app(tmp_path: Path) -> Iterator[Flask]:
    yield from make_app(
        "sqlite", tmp_path, RATELIMIT_ENABLED=True, TWO_FACTOR_RATE_LIMIT="3 per minute"
    )


def test_the_code_step_is_rate_limited(limited_app):
    person = user(role=Role.CENTRE)
    client = limited_app.test_client()
    _password(client, person)
    _enrol(client, person)
    client.post("/konto/log-ud")
    _password(client, person)
    statuses = [
        client.post("/konto/to-faktor/kode", data={"code": "000000"}).status_code for _ in range(4)
    ]
    assert statuses[-1] == 429


def test_a_password_reset_link_does_not_skip_the_second_factor(client, auth):
    person = user(role=Role.CENTRE)
    auth(person)
    _enrol(client, person)
    client.post("/konto/log-ud")
    db.session.refresh(person)
    new = "en helt ny kode til centret"
    response = client.post(
        f"/konto/nulstil/{make_reset_token(person)}",
        data={"password": new, "password_confirm": new},
    )
    assert response.headers["Location"].endswith("/konto/to-faktor/kode")
    assert client.get("/center/").status_code == 302


def test_the_personal_data_export_and_erasure_leave_no_second_factor(client, auth):
    person = user()
    auth(person)
    _enrol(client, person)
    db.session.refresh(person)
    secret = person.totp_secret
    data = export(person, actor=person)
    assert secret not in repr(data) and "code_hash" not in repr(data)
    assert len(data["recovery_codes"]) == 10
    db.session.add(OidcLink(provider="mitid", subject="uuid-1", user=person))
    db.session.commit()
    forget_person(person, utcnow(), reason="deleted")
    db.session.commit()
    db.session.expire_all()
    gone = db.session.get(User, person.id)
    assert gone.totp_secret is None and not gone.recovery_codes
    assert db.session.scalar(select(OidcLink)) is None
