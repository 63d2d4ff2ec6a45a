"""Register → log in → Min side → log out, and every way that can go wrong."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from support import delivered_text, factories
from support.auth import log_in
from volunteer.extensions import db
from volunteer.models import AuditEvent, OutboxMessage, Role, User, VolunteerProfile

GOOD = {
    "name": "Karen Jensen",
    "email": "Karen.Jensen@Example.org",
    "postcode": "7130",
    "password": "solsikke-havn-cykel",
    "password_confirm": "solsikke-havn-cykel",
    "consent": "y",
}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_register_log_in_see_min_side_in_danish_and_log_out(client):
    response = client.post("/konto/opret", data=GOOD, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Min side</h1>" in page
    assert "Velkommen til Samskab, Karen!" in page
    assert "7130 Juelsminde" in page

    user = db.session.scalar(select(User))
    assert user.email == "karen.jensen@example.org"
    assert user.role == Role.VOLUNTEER
    assert user.password_hash and "solsikke" not in user.password_hash
    assert (user.profile.postcode, user.profile.town) == ("7130", "Juelsminde")

    response = client.post("/konto/log-ud", follow_redirects=True)
    assert "Du er logget ud." in response.get_data(as_text=True)
    assert client.get("/min-side/").status_code == 302

    response = client.post(
        "/konto/log-ind",
        data={"email": "karen.jensen@example.org", "password": GOOD["password"]},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "<h1>Min side</h1>" in page and "Du er logget ind." in page
    db.session.refresh(user)
    assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"postcode": "0000"}, "Vi kender ikke postnummeret 0000."),
        ({"postcode": "71x0"}, "Skriv et dansk postnummer på fire cifre"),
        ({"postcode": ""}, "Skriv dit postnummer."),
        ({"consent": ""}, "Du skal acceptere privatlivserklæringen"),
        ({"password": "kort", "password_confirm": "kort"}, "mindst 10 tegn"),
        (
            {"password": "1234567890", "password_confirm": "1234567890"},
            "for nem at gætte",
        ),
        (
            {"password": "aaaaaaaaaaaa", "password_confirm": "aaaaaaaaaaaa"},
            "for nem at gætte",
        ),
        ({"password_confirm": "noget-helt-andet"}, "De to adgangskoder er ikke ens."),
        ({"email": "ikke-en-mail"}, "Det ligner ikke en e-mailadresse."),
        ({"name": "   "}, "Skriv dit navn."),
    ],
)
def test_bad_registrations_get_a_danish_message_and_store_nothing(client, change, message):
    response = client.post("/konto/opret", data={**GOOD, **change})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert _count(User) == 0 and _count(VolunteerProfile) == 0 and _count(AuditEvent) == 0


def test_a_duplicate_email_is_refused_whatever_its_case(client):
    factories.user(email="karen.jensen@example.org")
    response = client.post("/konto/opret", data=GOOD)
    assert "Der findes allerede en konto med denne e-mail." in response.get_data(as_text=True)
    assert _count(User) == 1 and _count(VolunteerProfile) == 1


def test_wrong_password_gives_one_message_for_unknown_and_known_emails(client):
    factories.user(email="karen@example.org")
    for email in ("karen@example.org", "nobody@example.org"):
        response = client.post(
            "/konto/log-ind", data={"email": email, "password": "forkert-adgangskode"}
        )
        assert response.status_code == 200
        assert "Forkert e-mail eller adgangskode." in response.get_data(as_text=True)
    assert client.get("/min-side/").status_code == 302


def test_an_inactive_account_cannot_log_in(client):
    factories.user(email="karen@example.org", active=False)
    response = client.post(
        "/konto/log-ind", data={"email": "karen@example.org", "password": factories.PASSWORD}
    )
    assert "Forkert e-mail eller adgangskode." in response.get_data(as_text=True)


def test_anonymous_users_are_sent_to_login_and_back(client):
    response = client.get("/koordinator/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/konto/log-ind?next=")
    coordinator = factories.user(role=Role.COORDINATOR)
    response = client.post(
        "/konto/log-ind?next=/koordinator/",
        data={"email": coordinator.email, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/koordinator/"


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", "http:evil"]
)
def test_next_to_another_host_is_ignored(client, target):
    user = factories.user()
    response = client.post(
        f"/konto/log-ind?next={target}",
        data={"email": user.email, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/min-side/"


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.VOLUNTEER, "/koordinator/", 403),
        (Role.VOLUNTEER, "/center/", 403),
        (Role.VOLUNTEER, "/admin/", 403),
        (Role.CENTRE, "/koordinator/", 403),
        (Role.COORDINATOR, "/admin/", 403),
        (Role.COORDINATOR, "/center/", 403),
        (Role.COORDINATOR, "/koordinator/", 200),
        (Role.CENTRE, "/center/", 200),
        (Role.ADMIN, "/admin/", 200),
        (Role.ADMIN, "/koordinator/", 200),
    ],
)
def test_roles_guard_staff_pages(client, role, url, status):
    log_in(client, factories.user(role=role))
    response = client.get(url)
    assert response.status_code == status
    if status == 403:
        assert "Du har ikke adgang til denne side" in response.get_data(as_text=True)


def test_logout_invalidates_a_copied_session_cookie(client, app):
    user = factories.user()
    log_in(client, user)
    stolen = client.get_cookie("session").value
    client.post("/konto/log-ud")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/min-side/").status_code == 302


def test_login_starts_a_fresh_session(client):
    user = factories.user()
    client.get("/konto/log-ind")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    log_in(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session


def _reset_link(user_id: int) -> str:
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == user_id))
    assert message is not None
    assert "/konto/nulstil/" not in message.body_text
    text = delivered_text(message)
    match = re.search(r"http://samskab\.test(/konto/nulstil/\S+)", text)
    assert match, text
    return match.group(1)


def test_password_reset_by_emailed_link_works_once(client):
    user = factories.user(email="karen@example.org", locale="da")
    response = client.post(
        "/konto/glemt-adgangskode", data={"email": "KAREN@example.org"}, follow_redirects=True
    )
    assert "Hvis der findes en konto med den e-mail" in response.get_data(as_text=True)
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient_email == "karen@example.org"
    assert message.subject == "Vælg en ny adgangskode til Samskab"
    assert message.state == "pending"
    link = _reset_link(user.id)

    new = "blaabaer-traktor-skov"
    response = client.post(link, data={"password": new, "password_confirm": new})
    assert response.status_code == 302 and response.headers["Location"] == "/min-side/"
    # The notice survives the fresh session the reset starts.
    assert "Din adgangskode er ændret." in client.get("/min-side/").get_data(as_text=True)
    client.post("/konto/log-ud")

    response = client.post(
        link,
        data={"password": "andet-ord-helt-nyt", "password_confirm": "andet-ord-helt-nyt"},
        follow_redirects=True,
    )
    assert "Linket er udløbet eller allerede brugt." in response.get_data(as_text=True)
    response = client.post("/konto/log-ind", data={"email": user.email, "password": new})
    assert response.status_code == 302


def test_reset_for_an_unknown_email_says_the_same_and_sends_nothing(client):
    response = client.post(
        "/konto/glemt-adgangskode", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert "Hvis der findes en konto med den e-mail" in response.get_data(as_text=True)
    assert _count(OutboxMessage) == 0


def test_an_expired_reset_link_is_refused(client, app):
    user = factories.user()
    client.post("/konto/glemt-adgangskode", data={"email": user.email})
    link = _reset_link(user.id)
    app.config["PASSWORD_RESET_MAX_AGE_S"] = -1
    response = client.get(link, follow_redirects=True)
    assert "Linket er udløbet eller allerede brugt." in response.get_data(as_text=True)


def test_a_tampered_reset_link_is_refused(client):
    response = client.get("/konto/nulstil/not-a-token", follow_redirects=True)
    assert "Linket er udløbet eller allerede brugt." in response.get_data(as_text=True)


def test_reset_mail_is_in_the_recipients_language(client):
    user = factories.user(locale="en")
    client.post("/konto/glemt-adgangskode", data={"email": user.email})
    message = db.session.scalar(select(OutboxMessage))
    assert message.subject == "Choose a new password for Samskab"
    assert message.locale == "en"


@pytest.mark.parametrize(
    ("role", "start"),
    [
        (Role.VOLUNTEER, "/min-side/"),
        (Role.COORDINATOR, "/koordinator/"),
        (Role.ADMIN, "/koordinator/"),
        (Role.CENTRE, "/center/"),
    ],
)
def test_each_role_starts_on_its_own_page_after_logging_in(client, role, start):
    user = factories.user(role=role)
    response = client.post(
        "/konto/log-ind", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == start
    assert client.get(start).status_code == 200
    # A page that asked for the login still wins.
    again = client.application.test_client()
    response = again.post(
        "/konto/log-ind?next=/om", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/om"
