"""Every route that accepts POST, generated from ``app.url_map``, refuses a request without a
CSRF token (400, the Danish "Formularen var udløbet" page) and changes nothing — for every kind
of user, including the one the route is meant for. A new POST route is covered automatically
(the authorisation matrix already forces it to have a URL in ``routes``).

Each request carries the data a real submission would, so the only thing wrong with it is the
missing token; ``test_the_same_requests_with_a_token_get_through`` proves that.
"""

from __future__ import annotations

import pytest
from attack_support import (
    STRONG_PASSWORD,
    first_id,
    future,
    login_with_token,
    need_form_data,
    snapshot,
)

from support import factories, make_app
from support.routes import ROLES, routes
from volunteer.centres.services import action_token
from volunteer.extensions import db
from volunteer.models import ActivityType, Centre, Organisation, Visit

# (endpoint, role) → why a token-less POST is accepted there. Nothing else is exempt.
EXEMPT = {
    ("main.language", "anonymous"): (
        "An anonymous visitor's language choice lives only in their own session; a forged "
        "request can only switch the display language, and a token would make the public pages "
        "per-session and uncacheable (see volunteer/main/views.py)."
    ),
}
# Endpoints no browser posts to: a machine's call, authenticated by its own signature instead of
# a session's token (a browser cannot forge the signature). Their own tests prove the refusal.
MACHINE = {
    "sms.status": "the SMS gateway's delivery reports, HMAC-signed (tests/jobs/test_sms.py)",
}
DANISH_EXPIRED = "Formularen var udløbet"


@pytest.fixture
def app(backend, tmp_path):
    """The shared ``app`` fixture, but with CSRF protection on as in production."""
    yield from make_app(backend, tmp_path, WTF_CSRF_ENABLED=True)


def post_routes(app, w) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """endpoint → URL for every rule that accepts POST, with the world's ids filled in."""
    table = routes(w)
    urls = {
        rule.endpoint: table[rule.endpoint][1]
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint not in MACHINE
    }
    # The matrix uses a broken link (anyone gets 400 there); a real one proves CSRF is checked
    # before the signed link is even read.
    centre_user = w["users"]["centre"]
    visit = db.session.get(Visit, w["visit"])
    urls["centres.visit_link"] = f"/center/link/{action_token(centre_user, visit, 'confirmed')}"
    return urls


def form_data(endpoint: str, w) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What a real submission of each form sends (minus the token)."""
    volunteer = w["users"]["volunteer"]
    data: dict[str, dict[str, object]] = {
        # Danish, so the exempt anonymous switch does not turn the later error pages English.
        "main.language": {"locale": "da"},
        "auth.register": {
            "name": "Ole Olsen",
            "email": "ole@example.org",
            "postcode": "8722",
            "password": STRONG_PASSWORD,
            "password_confirm": STRONG_PASSWORD,
            "consent": "y",
        },
        "auth.login": {"email": volunteer.email, "password": factories.PASSWORD},
        "auth.forgot_password": {"email": volunteer.email},
        "auth.reset_password": {"password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD},
        "auth.change_password": {
            "current_password": factories.PASSWORD,
            "new_password": STRONG_PASSWORD,
            "new_password_confirm": STRONG_PASSWORD,
        },
        "auth.change_email": {"new_email": "ny@example.org", "email_password": factories.PASSWORD},
        "needs.create": need_form_data(),
        "needs.edit": need_form_data(),
        "volunteers.profile": {
            "name": "Ny Navnesen",
            "postcode": "7130",
            "max_km": 12,
            "weekly_capacity": 2,
            "languages": ["da"],
        },
        "volunteers.availability": {"slot": ["0-16", "3-10"]},
        "volunteers.away": {"start_date": future(50), "end_date": future(55)},
        "volunteers.away_visits": {"visit": [w["visit"]], "action": "cancel"},
        "volunteers.cancel_visit": {"reason": "Jeg er syg"},
        "volunteers.delete_account": {"password": factories.PASSWORD},
        "coordination.volunteer_detail": {"checked_on": future(0), "valid_until": future(700)},
        "coordination.run_matching": {
            "organisation_id": first_id(Organisation),
            "local_area_id": 0,
            "activity_type_id": 0,
        },
        "coordination.decide": {"proposal": [w["proposal"]], "action": "approve"},
        "coordination.swap": {"volunteer_id": w["users"]["other_volunteer"].id},
        "centres.record": {f"v{w['visit']}-outcome": "confirmed", f"v{w['visit']}-hours": "1.5"},
        "centres.visit_link": {"link-hours": "1.5", "link-note": "Fint besøg"},
        "centres.ask_for_help": {
            "centre_id": first_id(Centre),
            "activity_type_id": first_id(ActivityType),
            "weekday": 3,
            "start_time": "17:00",
            "end_time": "19:00",
            "slots": 1,
            "text": "Vi mangler en spiseven om torsdagen.",
        },
        "admin.edit_organisation": {"name": "Ny Forening", "kind": "association"},
        "admin.edit_local_area": {"name": "Barrit", "postcode": "7150", "organisation_id": 0},
        "admin.edit_centre": {
            "name": "Plejecenter Ny",
            "kind": "plejecenter",
            "postcode": "7130",
            "organisation_id": first_id(Organisation),
            "local_area_id": 0,
            "active": "y",
        },
        "admin.edit_activity_type": {
            "name_da": "Strikkecafé",
            "name_en": "Knitting café",
            "sort_order": 9,
        },
        "admin.invite_staff": {
            "email": "ny.medarbejder@example.org",
            "name": "Ny Medarbejder",
            "role": "centre",
            "centre_ids": [first_id(Centre)],
        },
        "admin.edit_staff": {
            "name": "Omdøbt Koordinator",
            "role": "coordinator",
            "organisation_ids": [first_id(Organisation)],
        },
    }
    return data.get(endpoint, {})


LAST = (
    "needs.edit",  # re-plans the need's dates, which cancels the world's hand-made occurrence
    "volunteers.withdraw",
    "volunteers.cancel_visit",
    "volunteers.profile",
    "auth.logout",
    "volunteers.delete_account",
    "auth.change_password",  # as the admin (ROLE_FOR): the others still log in with theirs
)
# The matrix lets no one through here (a proposal is swapped only for a shortlisted volunteer,
# and the world has no pending yes to answer:
# 404), so the role is named; 404 is the view's own answer, after the token was accepted.
ROLE_FOR = {
    "coordination.swap": "coordinator",
    "coordination.answer_approval": "coordinator",
    "auth.change_password": "admin",
    "auth.oidc_connect": "volunteer",  # no provider in the world: 404 once past the CSRF check
}


def right_role(expected: tuple) -> str:  # type: ignore[type-arg]
    """The first kind of user the matrix lets through (200/302); anonymous for public forms."""
    for role, status in zip(ROLES, expected, strict=True):
        if status in (200, 302):
            return role
    return "anonymous"  # e.g. the signed visit link: the token in the URL is the permission


def client_for(app, w, role: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role != "anonymous":
        login_with_token(client, w["users"][role])
    return client


def test_every_post_route_refuses_a_request_without_a_token(app, world):
    urls = post_routes(app, world)
    assert {endpoint for endpoint, _role in EXEMPT} <= set(urls), "an exemption for no route"
    problems = []
    for role in ROLES:
        client = client_for(app, world, role)
        for endpoint, url in urls.items():
            before = snapshot()
            response = client.post(url, data=form_data(endpoint, world))
            changed = snapshot() != before
            if (endpoint, role) in EXEMPT:
                # Exempt, but still harmless: a redirect that leaves the database alone.
                if response.status_code != 302 or changed:
                    problems.append((role, endpoint, response.status_code, "changed" * changed))
                continue
            refused = response.status_code == 400 and DANISH_EXPIRED in response.get_data(
                as_text=True
            )
            if not refused or changed:
                problems.append((role, endpoint, response.status_code, "changed" * changed))
    assert not problems, "\n".join(map(str, problems))


def test_the_same_requests_with_a_token_get_through(app, world):
    """The control: with the session's token, the request the first test sent is not refused,
    so the 400 there was the missing token and nothing else (wrong data, wrong user)."""
    table = routes(world)
    urls = post_routes(app, world)
    # The routes that change what the others rely on (the need's dates, the volunteer's visit,
    # membership, session or account) go last, in this order.
    order = sorted(urls, key=lambda e: LAST.index(e) if e in LAST else -1)
    refused = []
    for endpoint in order:
        role = ROLE_FOR.get(endpoint) or right_role(table[endpoint][2])
        client = app.test_client()
        if role == "anonymous":
            token = _anonymous_token(client)
        else:
            token = login_with_token(client, world["users"][role])
        data = {**form_data(endpoint, world), "csrf_token": token}
        response = client.post(urls[endpoint], data=data)
        location = response.headers.get("Location", "")
        sent_to_login = location.startswith("/konto/log-ind?next=")  # not "logged in" after all
        if response.status_code in (400, 403) or response.status_code >= 500 or sent_to_login:
            refused.append((role, endpoint, response.status_code, location))
    assert not refused, refused


def _anonymous_token(client) -> str:  # type: ignore[no-untyped-def]
    from support import csrf_token_from

    return csrf_token_from(client.get("/konto/log-ind").get_data(as_text=True))
