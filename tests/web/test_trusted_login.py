"""Single sign-on through real OpenID providers on 127.0.0.1 (oidc-provider-mock and a provider
of our own that spoils its answers on purpose), the MitID profile, linking a first login to an
existing account, and what is never stored or logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from joserfc.jwk import RSAKey
from sqlalchemy import select

from support import make_app
from support.factories import PASSWORD, coordinator, organisation, user
from support.oidc import (
    OwnProvider,
    follow_to_provider,
    mock_provider,
    own_provider,
    provider_settings,
    set_mock_user,
)
from volunteer.audit import AuditEvent
from volunteer.auth import oidc
from volunteer.auth.models import OidcLink, Role, User
from volunteer.extensions import db

CPR = "0101701234"


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with mock_provider() as url:
        yield url


@pytest.fixture(scope="module")
def own() -> Iterator[OwnProvider]:
    with own_provider() as provider:
        yield provider


@pytest.fixture
def app(mock_url: str, own: OwnProvider, tmp_path: Path) -> Iterator[Flask]:
    own.reset()
    providers = {
        "entra": provider_settings(mock_url, label="Hedensted Kommune"),
        "egen": provider_settings(
            own.issuer("staff"),
            roles=("coordinator", "centre"),
            role_claim="roles",
            role_map={"Samskab.Koordinator": "coordinator", "Samskab.Admin": "admin"},
        ),
        "mitid": provider_settings(own.issuer("mitid"), kind="mitid", adult_claim="birthdate"),
        "tenant": provider_settings(own.issuer("tenant"), trust_email=True),
        "impostor": provider_settings(own.issuer("impostor")),
    }
    yield from make_app("sqlite", tmp_path, OIDC_PROVIDERS=providers)


def _linked(provider: str, subject: str, account: User, approved: bool = True) -> OidcLink:
    link = OidcLink(
        provider=provider,
        subject=subject,
        user=account,
        approved_at=account.created_at if approved else None,
    )
    db.session.add(link)
    db.session.commit()
    return link


def test_the_login_page_offers_the_providers_in_danish(client):
    page = client.get("/konto/log-ind").get_data(as_text=True)
    assert "Log ind med Hedensted Kommune" in page
    assert "Log ind med MitID" in page


def test_a_linked_coordinator_logs_in_through_the_mock_provider(client, mock_url):
    person = coordinator(organisation())
    _linked("entra", "anne-sub", person)
    set_mock_user(mock_url, "anne-sub", email=person.email, email_verified=True)
    response = follow_to_provider(client, "/konto/oidc/entra", sub="anne-sub")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/koordinator/")
    assert client.get("/koordinator/").status_code == 200
    events = db.session.scalars(select(AuditEvent.action)).all()
    assert "account.oidc_login" in events


def test_logout_everywhere_still_ends_a_single_sign_on_session(client, mock_url):
    person = coordinator(organisation())
    _linked("entra", "bo-sub", person)
    follow_to_provider(client, "/konto/oidc/entra", sub="bo-sub")
    other = client.application.test_client()
    follow_to_provider(other, "/konto/oidc/entra", sub="bo-sub")
    client.post("/konto/log-ud")
    assert other.get("/koordinator/").status_code == 302  # the token rotated


def test_a_first_login_with_a_verified_address_asks_for_the_password(client, mock_url):
    person = coordinator(organisation())
    set_mock_user(mock_url, "new-sub", email=person.email, email_verified=True)
    response = follow_to_provider(client, "/konto/oidc/entra", sub="new-sub")
    assert response.headers["Location"].endswith("/konto/oidc/forbind")
    page = client.get("/konto/oidc/forbind").get_data(as_text=True)
    assert "Bekræft med din adgangskode" in page
    assert db.session.scalar(select(OidcLink)) is None  # nothing linked silently
    wrong = client.post("/konto/oidc/forbind", data={"password": "not-the-password"})
    assert wrong.status_code == 200 and db.session.scalar(select(OidcLink)) is None
    right = client.post("/konto/oidc/forbind", data={"password": PASSWORD})
    assert right.status_code == 302
    link = db.session.scalar(select(OidcLink))
    assert (link.user_id, link.subject, link.approved) == (person.id, "new-sub", True)
    assert client.get("/koordinator/").status_code == 200


def test_a_first_login_can_wait_for_an_administrator(client, mock_url, auth):
    person = coordinator(organisation())
    admin = user(role=Role.ADMIN)
    set_mock_user(mock_url, "wait-sub", email=person.email, email_verified=True)
    follow_to_provider(client, "/konto/oidc/entra", sub="wait-sub")
    assert client.post("/konto/oidc/forbind/godkendelse").status_code == 302
    again = follow_to_provider(client, "/konto/oidc/entra", sub="wait-sub")
    assert again.status_code == 400
    assert "venter på, at en koordinator eller en administrator godkender" in again.get_data(
        as_text=True
    )
    link = db.session.scalar(select(OidcLink))
    admin_client = client.application.test_client()
    auth(admin, admin_client)
    assert "wait-sub" not in admin_client.get("/admin/login").get_data(as_text=True)
    admin_client.post(f"/admin/login/forbindelser/{link.id}/godkend")
    db.session.expire_all()
    assert db.session.get(OidcLink, link.id).approved_by_id == admin.id
    assert follow_to_provider(client, "/konto/oidc/entra", sub="wait-sub").status_code == 302


def test_an_unverified_address_links_nothing(client, mock_url):
    person = coordinator(organisation())
    set_mock_user(mock_url, "unverified", email=person.email, email_verified=False)
    response = follow_to_provider(client, "/konto/oidc/entra", sub="unverified")
    assert response.status_code == 400
    assert "Vi fandt ingen Samskab-konto" in response.get_data(as_text=True)


def test_a_provider_trusted_with_addresses_asks_for_the_password_too(client, own):
    person = coordinator(organisation())
    own.reset(sub="entra-oid", email=person.email.upper())  # no email_verified, as Entra ID
    response = _own_login(client, "tenant")
    assert response.headers["Location"].endswith("/konto/oidc/forbind")
    assert db.session.scalar(select(OidcLink)) is None
    own.reset(sub="entra-oid", email=person.email)
    assert _own_login(client, "egen").status_code == 400  # not trusted: no account found


def test_a_staff_provider_cannot_log_a_volunteer_in(client, mock_url):
    volunteer = user()
    _linked("entra", "vol-sub", volunteer)
    response = follow_to_provider(client, "/konto/oidc/entra", sub="vol-sub")
    assert response.status_code == 400
    assert "må ikke bruges til din slags konto" in response.get_data(as_text=True)


def _own_login(client, tenant: str = "egen"):  # type: ignore[no-untyped-def]
    return follow_to_provider(client, f"/konto/oidc/{tenant}")


@pytest.mark.parametrize(
    ("answer", "danish"),
    [
        ("wrong_nonce", "kunne ikke bekræftes"),
        ("tampered", "kunne ikke bekræftes"),
        ("wrong_audience", "kunne ikke bekræftes"),
        ("expired", "Login er udløbet"),
        ("foreign_issuer", "som Samskab ikke kender"),
    ],
)
def test_a_spoiled_id_token_is_refused_with_a_danish_page(client, own, answer, danish):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    own.answer = answer
    response = _own_login(client)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert danish in page and "<h1>Login blev afvist</h1>" in page
    assert client.get("/koordinator/").status_code == 302  # not logged in


def test_the_own_provider_logs_in_when_nothing_is_spoiled(client, own):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    assert _own_login(client).status_code == 302
    assert client.get("/koordinator/").status_code == 200


def test_the_discovery_document_is_fetched_once_and_kept(client, own):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    before = own.discovery_fetches
    assert _own_login(client).status_code == 302
    client.post("/konto/log-ud")
    assert _own_login(client).status_code == 302
    assert own.discovery_fetches - before == 1


def test_a_new_signing_key_at_the_provider_is_fetched_again(client, own):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    assert _own_login(client).status_code == 302  # the keys are cached now
    client.post("/konto/log-ud")
    old = own.key
    own.key = RSAKey.generate_key(2048, parameters={"kid": "own-2", "use": "sig"})
    try:
        assert _own_login(client).status_code == 302
    finally:
        own.key = old


def test_only_the_latest_login_attempt_of_a_browser_counts(client, own):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    first = client.get("/konto/oidc/egen").headers["Location"]
    second = client.get("/konto/oidc/egen").headers["Location"]
    with client.session_transaction() as cookie:
        assert len([key for key in cookie if key.startswith("_state_")]) == 1
    stale = urlsplit(requests.get(first, allow_redirects=False, timeout=5).headers["Location"])
    assert client.get(f"{stale.path}?{stale.query}").status_code == 400
    fresh = urlsplit(requests.get(second, allow_redirects=False, timeout=5).headers["Location"])
    assert client.get(f"{fresh.path}?{fresh.query}").status_code == 302


def test_a_wrong_state_is_refused(client, own):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    client.get("/konto/oidc/egen")
    response = client.get("/konto/oidc/egen/retur?code=abc&state=forged")
    assert response.status_code == 400
    assert "hørte ikke til dette login" in response.get_data(as_text=True)
    fresh = client.application.test_client()  # no login started in this browser at all
    assert fresh.get("/konto/oidc/egen/retur?code=abc&state=x").status_code == 400


def test_a_discovery_document_naming_another_issuer_is_refused(client, own):
    response = client.get("/konto/oidc/impostor")
    assert response.status_code == 400
    assert "som Samskab ikke kender" in response.get_data(as_text=True)


def test_a_provider_cannot_grant_a_role_it_may_not(client, own):
    person = coordinator(organisation())
    _linked("egen", "own-subject", person)
    own.reset(roles=["Samskab.Admin"])
    response = _own_login(client)
    assert response.status_code == 400
    assert "må ikke bruges til din slags konto" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).role == Role.COORDINATOR
    assert "account.oidc_role_refused" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_mapped_role_is_applied_and_audited(client, own):
    person = user(role=Role.CENTRE)
    _linked("egen", "own-subject", person)
    own.reset(roles=["Samskab.Koordinator"])
    assert _own_login(client).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).role == Role.COORDINATOR


def test_without_a_mapping_roles_stay_samskabs(client, mock_url):
    person = coordinator(organisation())
    _linked("entra", "claims-admin", person)
    set_mock_user(mock_url, "claims-admin", roles=["admin"], role="admin")
    assert follow_to_provider(client, "/konto/oidc/entra", sub="claims-admin").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).role == Role.COORDINATOR


def test_mitid_keeps_the_subject_and_never_the_cpr_number(client, own, caplog):
    caplog.set_level(logging.DEBUG)
    volunteer = user(email="mette@example.org")
    own.reset(
        sub="9b2f6c1e-mitid-uuid",
        cpr=CPR,
        **{"dk:gov:cpr": CPR, "birthdate": "1970-01-01"},
    )
    client.post("/konto/log-ind", data={"email": volunteer.email, "password": PASSWORD})
    connect = client.post("/konto/oidc/mitid/forbind")
    assert connect.status_code == 302
    answer = requests.get(connect.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    link = db.session.scalar(select(OidcLink))
    assert (link.provider, link.subject, link.adult) == ("mitid", "9b2f6c1e-mitid-uuid", True)
    assert oidc.age_assured(volunteer) is True
    client.post("/konto/log-ud")
    assert _own_login(client, "mitid").status_code == 302
    assert client.get("/min-side/").status_code == 200
    # The CPR number is nowhere: not in any table, not in the audit trail, not in the log.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            assert CPR not in repr(tuple(row))
    assert CPR not in caplog.text


def test_the_mitid_provider_cannot_log_staff_in(client, own):
    person = coordinator(organisation())
    _linked("mitid", "own-subject", person)
    response = _own_login(client, "mitid")
    assert response.status_code == 400


def test_an_unknown_provider_is_not_found(client):
    assert client.get("/konto/oidc/ukendt").status_code == 404
    assert client.get("/konto/oidc/ukendt/retur").status_code == 404


def test_an_unreachable_provider_gives_a_danish_page(client, app, tmp_path):
    providers = {"nede": provider_settings("http://127.0.0.1:9")}
    (tmp_path / "b").mkdir()
    for other in make_app("sqlite", tmp_path / "b", OIDC_PROVIDERS=providers):
        response = other.test_client().get("/konto/oidc/nede")
        assert response.status_code == 400
        assert "kan ikke nås" in response.get_data(as_text=True)
