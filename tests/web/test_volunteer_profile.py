"""Min side → Mine oplysninger and away periods: saving, validation, escaping, no certificate."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from support import factories
from support.auth import log_in
from volunteer.clock import to_local
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import AwayPeriod, Organisation, User

GOOD = {
    "name": "Karen Jensen",
    "phone": "+45 12 34 56 78",
    "postcode": "8722",
    "address": "Bakkevej 3",
    "max_km": "25",
    "weekly_capacity": "2",
    "languages": ["da", "uk"],
    "skills": "Kortspil",
    "about": "Jeg kan lide at gå ture.",
    "paused_until": "",
}


def _today() -> date:
    return to_local(utcnow()).date()


def test_a_volunteer_saves_their_details(client):
    activity = factories.activity_type("spisevenner")
    org = factories.organisation("Ældre Sagen")
    volunteer = factories.user()
    log_in(client, volunteer)
    page = client.get("/min-side/oplysninger").get_data(as_text=True)
    assert "<h1>Mine oplysninger</h1>" in page and "Hvilke sprog taler du?" in page

    data = {**GOOD, "interests": [str(activity.id)], "organisations": [str(org.id)]}
    response = client.post("/min-side/oplysninger", data=data, follow_redirects=True)
    assert "Dine oplysninger er gemt." in response.get_data(as_text=True)

    db.session.expire_all()
    user = db.session.get(User, volunteer.id)
    profile = user.profile
    assert (user.name, user.phone) == ("Karen Jensen", "+45 12 34 56 78")
    assert (profile.postcode, profile.town, profile.address) == ("8722", "Hedensted", "Bakkevej 3")
    assert profile.lat == pytest.approx(55.77, abs=0.1)
    assert (profile.max_km, profile.weekly_capacity) == (25.0, 2)
    assert profile.languages == ["da", "uk"]
    assert [a.code for a in profile.interests] == ["spisevenner"]
    assert [o.name for o in profile.organisations] == ["Ældre Sagen"]
    # The form shows what was saved.
    page = client.get("/min-side/oplysninger").get_data(as_text=True)
    assert 'value="Bakkevej 3"' in page
    assert re.search(r'<input checked[^>]*name="languages"[^>]*value="uk"', page)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"postcode": "0000"}, "Vi kender ikke postnummeret 0000."),
        ({"max_km": "-1"}, "Skriv et antal kilometer fra 0 til 200."),
        ({"max_km": "201"}, "Skriv et antal kilometer fra 0 til 200."),
        ({"weekly_capacity": "0"}, "Skriv et tal fra 1 til 14."),
        ({"weekly_capacity": "15"}, "Skriv et tal fra 1 til 14."),
        ({"phone": "12 34"}, "Skriv et telefonnummer med 8 cifre"),
        ({"phone": "ring mig"}, "Skriv et telefonnummer med 8 cifre"),
        ({"languages": []}, "Vælg mindst ét sprog."),
        ({"languages": ["xx"]}, "Vælg fra listen."),
        ({"about": "x" * 1001}, "Skriv højst 1000 tegn."),
        ({"about": "x" * 900_000}, "Skriv højst 1000 tegn."),
        ({"name": ""}, "Skriv dit navn."),
    ],
)
def test_bad_details_get_a_danish_message_and_change_nothing(client, change, message):
    volunteer = factories.user(name="Uændret Navn")
    log_in(client, volunteer)
    response = client.post("/min-side/oplysninger", data={**GOOD, **change})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Ret følgende" in page or "alert-danger" in page
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).name == "Uændret Navn"


def test_accepted_phone_formats(client):
    volunteer = factories.user()
    log_in(client, volunteer)
    for phone in ("12345678", "0045 12345678", "+49 30 1234567", "+45-12-34-56-78"):
        response = client.post("/min-side/oplysninger", data={**GOOD, "phone": phone})
        assert response.status_code == 302, phone


def test_a_huge_body_is_refused_cleanly(client):
    log_in(client, factories.user())
    response = client.post("/min-side/oplysninger", data={**GOOD, "about": "x" * 10_000_000})
    assert response.status_code == 413


def test_html_in_text_fields_is_escaped(client, app):
    volunteer = factories.user()
    coordinator_org = factories.organisation()
    log_in(client, volunteer)
    evil = "<script>alert(1)</script>"
    data = {**GOOD, "name": f"Karen {evil}", "about": evil, "skills": evil}
    data["organisations"] = [str(coordinator_org.id)]
    assert client.post("/min-side/oplysninger", data=data).status_code == 302
    for url in ("/min-side/", "/min-side/oplysninger", "/min-side/mine-data/vis"):
        page = client.get(url).get_data(as_text=True)
        assert evil not in page, url
        assert "&lt;script&gt;" in page, url


def test_the_volunteer_cannot_set_the_child_certificate(client):
    volunteer = factories.user()
    log_in(client, volunteer)
    page = client.get("/min-side/oplysninger").get_data(as_text=True)
    assert "child_cert" not in page and "rneattest" not in page
    crafted = {
        **GOOD,
        "child_cert_checked_on": "2026-01-01",
        "child_cert_valid_until": "2030-01-01",
        "child_cert_checked_by_id": str(volunteer.id),
    }
    assert client.post("/min-side/oplysninger", data=crafted).status_code == 302
    db.session.expire_all()
    profile = db.session.get(User, volunteer.id).profile
    assert profile.child_cert_checked_on is None
    assert profile.child_cert_valid_until is None
    assert profile.child_cert_checked_by_id is None


def test_away_periods_are_added_and_removed(client):
    volunteer = factories.user()
    log_in(client, volunteer)
    start = _today() + timedelta(days=3)
    response = client.post(
        "/min-side/fravaer",
        data={"start_date": start.isoformat(), "end_date": (start + timedelta(days=7)).isoformat()},
        follow_redirects=True,
    )
    assert "Perioden er gemt." in response.get_data(as_text=True)
    period = db.session.scalar(select(AwayPeriod))
    assert (period.start_date, period.end_date) == (start, start + timedelta(days=7))
    response = client.post(f"/min-side/fravaer/{period.id}/slet", follow_redirects=True)
    assert "Perioden er fjernet." in response.get_data(as_text=True)
    assert db.session.scalar(select(AwayPeriod)) is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (5, 4, "Den sidste dag kan ikke ligge før den første."),
        (-1, 4, "Vælg i dag eller en senere dato."),
        (None, 4, "Vælg en dato."),
    ],
)
def test_bad_away_periods_are_refused(client, start, end, message):
    log_in(client, factories.user())
    today = _today()
    data = {
        "start_date": (today + timedelta(days=start)).isoformat() if start is not None else "",
        "end_date": (today + timedelta(days=end)).isoformat(),
    }
    response = client.post("/min-side/fravaer", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(AwayPeriod)) is None


def test_a_volunteer_cannot_remove_someone_elses_away_period(client):
    other = factories.user()
    period = AwayPeriod(
        profile=other.profile, start_date=date(2030, 1, 1), end_date=date(2030, 1, 5)
    )
    db.session.add(period)
    db.session.commit()
    log_in(client, factories.user())
    assert client.post(f"/min-side/fravaer/{period.id}/slet").status_code == 404
    assert db.session.get(AwayPeriod, period.id) is not None


def test_registration_joins_the_municipality(client):
    kommune = Organisation(name="Hedensted Kommune", kind="municipality")
    db.session.add(kommune)
    factories.organisation("En forening")
    client.post(
        "/konto/opret",
        data={
            "name": "Ny Frivillig",
            "email": "ny@example.org",
            "postcode": "7130",
            "password": "solsikke-havn-cykel",
            "password_confirm": "solsikke-havn-cykel",
            "consent": "y",
        },
    )
    user = db.session.scalar(select(User).where(User.email == "ny@example.org"))
    assert [o.name for o in user.profile.organisations] == ["Hedensted Kommune"]
    assert user.profile.calendar_token


@pytest.mark.parametrize("url", ["/min-side/oplysninger", "/min-side/fravaer", "/min-side/tider"])
def test_anonymous_users_go_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/konto/log-ind")
