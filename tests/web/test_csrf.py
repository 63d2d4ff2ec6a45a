"""With CSRF protection on (as in production), a POST without a valid token is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from support import csrf_token_from, factories, make_app
from volunteer.extensions import db
from volunteer.models import User


@pytest.fixture
def csrf_app(backend, tmp_path):
    yield from make_app(backend, tmp_path, WTF_CSRF_ENABLED=True)


@pytest.mark.parametrize("url", ["/konto/opret", "/konto/log-ind", "/konto/glemt-adgangskode"])
def test_posts_without_a_token_are_rejected_in_danish(csrf_app, url):
    response = csrf_app.test_client().post(url, data={"email": "a@example.org", "locale": "en"})
    assert response.status_code == 400
    assert "Formularen var udløbet" in response.get_data(as_text=True)


def test_logout_needs_a_token_too(csrf_app):
    client = csrf_app.test_client()
    user = factories.user()
    token = csrf_token_from(client.get("/konto/log-ind").get_data(as_text=True))
    response = client.post(
        "/konto/log-ind",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert client.post("/konto/log-ud").status_code == 400
    assert client.get("/min-side/").status_code == 200


def test_a_form_with_its_token_is_accepted(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/konto/opret").get_data(as_text=True))
    response = client.post(
        "/konto/opret",
        data={
            "name": "Ole Olsen",
            "email": "ole@example.org",
            "postcode": "8722",
            "password": "rugbroed-og-ost-42",
            "password_confirm": "rugbroed-og-ost-42",
            "consent": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_token_from_another_session_is_rejected(csrf_app):
    token = csrf_token_from(csrf_app.test_client().get("/konto/log-ind").get_data(as_text=True))
    response = csrf_app.test_client().post(
        "/konto/log-ind", data={"email": "a@example.org", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400


def test_the_language_switch_needs_a_token_only_when_logged_in(csrf_app):
    client = csrf_app.test_client()
    assert client.post("/sprog", data={"locale": "en"}).status_code == 302
    user = factories.user()
    token = csrf_token_from(client.get("/konto/log-ind").get_data(as_text=True))
    client.post(
        "/konto/log-ind",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert client.post("/sprog", data={"locale": "da"}).status_code == 400
    db.session.refresh(user)
    assert user.locale == "da"
