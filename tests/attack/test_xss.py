"""A stored script, saved through the real forms into every free-text field that some page
shows, is shown escaped everywhere: the raw HTML never contains a live ``<script>`` or
``<img src=x`` from it, and the escaped text is really there (so the check is not vacuous)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from attack_support import need_form_data
from sqlalchemy import select

from support.auth import log_in
from support.factories import occurrence, visit
from support.routes import ROLES, routes
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import (
    Need,
    OutboxMessage,
    Pool,
    PoolGrant,
    Proposal,
    ProposalComment,
    User,
    Visit,
)

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


def stored(field: str) -> str:
    """The payload tagged with its field, so each field's escaped copy can be found."""
    return f"{PAYLOAD}[{field}]"


def _post(client, url: str, data: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    response = client.post(url, data=data)
    assert response.status_code == 302, (url, response.get_data(as_text=True)[-2000:])


def _store_everything(app, w) -> list[str]:  # type: ignore[no-untyped-def]
    """Save the payload through every form with free text; return the extra pages to read."""
    users = w["users"]
    volunteer, coordinator, centre = (app.test_client() for _ in range(3))
    log_in(volunteer, users["volunteer"])
    log_in(coordinator, users["coordinator"])
    log_in(centre, users["centre"])

    _post(
        volunteer,
        "/min-side/oplysninger",
        {
            "name": stored("name"),
            "postcode": "7130",
            "address": stored("address"),
            "max_km": "20",
            "weekly_capacity": "2",
            "languages": "da",
            "organisations": [str(o.id) for o in users["volunteer"].profile.organisations],
            "skills": stored("skills"),
            "about": stored("about"),
        },
    )
    need_data = {
        **need_form_data(),
        "title": stored("title"),
        "description": stored("description"),
        "address": stored("need_address"),
        "aaben": "1",
    }
    _post(coordinator, "/opgaver/ny", need_data)
    need_id = db.session.scalar(select(Need.id).order_by(Need.id.desc()))

    _post(
        centre,
        "/center/bed-om-hjaelp",
        {
            "centre_id": str(w["centre"]),
            "activity_type_id": str(db.session.get(Need, w["need"]).activity_type_id),
            "weekday": "3",
            "start_time": "17:00",
            "end_time": "19:00",
            "slots": "1",
            "text": stored("help_text"),
        },
    )
    help_need = db.session.scalar(select(Need.id).order_by(Need.id.desc()))

    # A visit that has started (so the centre may record it) at the world's centre need.
    need = db.session.get(Need, w["need"])
    started = visit(occurrence(need, utcnow() - timedelta(minutes=30)), users["volunteer"])
    _post(
        centre,
        f"/center/besoeg/{started.id}",
        {f"v{started.id}-outcome": "confirmed", f"v{started.id}-note": stored("visit_note")},
    )
    db.session.expire_all()  # the request committed in its own session
    assert db.session.get(Visit, started.id).note == stored("visit_note")

    # The reason for cancelling reaches the coordinator by email (readable in the outbox).
    _post(volunteer, f"/min-side/besoeg/{w['visit']}/aflys", {"reason": stored("cancel_reason")})

    # A proposal, its comments, a hidden comment's reason and the official answer.
    org_id = db.session.get(Proposal, w["forslag"]).organisation_id
    _post(
        volunteer,
        "/forslag/nyt",
        {
            "title": stored("proposal_title"),
            "what": stored("proposal_what"),
            "for_whom": stored("proposal_for_whom"),
            "postcode": "7130",
            "local_area_id": "0",
            "organisation_id": str(org_id),
            "schedule": "weekly",
            "helpers_wanted": "2",
            "helper_roles": stored("proposal_helper_roles"),
            "ask_materials": stored("proposal_materials"),
            "amount": "100",
        },
    )
    proposal_id = db.session.scalar(select(Proposal.id).order_by(Proposal.id.desc()))
    _post(volunteer, f"/forslag/{proposal_id}/indsend", {})
    _post(volunteer, f"/forslag/{proposal_id}/kommentarer", {"body": stored("comment")})
    _post(volunteer, f"/forslag/{proposal_id}/kommentarer", {"body": "Skjul mig"})
    hidden = db.session.scalar(select(ProposalComment.id).order_by(ProposalComment.id.desc()))
    _post(coordinator, f"/forslag/kommentarer/{hidden}/skjul", {"reason": stored("hidden_reason")})
    _post(
        coordinator,
        f"/forslag/{proposal_id}/svar",
        {"state": "declined", "text": stored("answer_text")},
    )

    # A proposal granted money from the local area fund: its title on the fund's pages.
    pool = db.session.get(Pool, w["pool"])
    _post(
        volunteer,
        "/forslag/nyt",
        {
            "title": stored("pool_proposal_title"),
            "what": "Gå",
            "postcode": "7130",
            "local_area_id": str(pool.local_area_id),
            "organisation_id": str(org_id),
            "schedule": "weekly",
            "helpers_wanted": "0",
        },
    )
    granted = db.session.scalar(select(Proposal.id).order_by(Proposal.id.desc()))
    _post(volunteer, f"/forslag/{granted}/indsend", {})
    _post(coordinator, f"/forslag/{granted}/svar", {"state": "adopted", "grant": "100"})
    assert db.session.scalar(select(PoolGrant.proposal_id)) == granted

    # The tovholder's close-out note, on the activity page.
    _post(
        volunteer,
        f"/forslag/aktivitet/{w['need']}/afslut",
        {"participants": "3", "sessions": "2", "note": stored("closeout_note")},
    )

    messages = db.session.scalars(select(OutboxMessage.id)).all()
    return [
        f"/forslag/{proposal_id}",
        f"/forslag/{proposal_id}/svar",
        "/puljer",
        f"/puljer/{pool.id}",
        f"/forslag/{granted}",
        f"/forslag/{w['forslag']}/aktivitet",
        f"/opgaver/{need_id}",
        f"/opgaver/{need_id}/frivillige",
        f"/opgaver/{need_id}/rediger",
        f"/opgaver/{help_need}/frivillige",
        f"/opgaver/{help_need}/rediger",
        "/opgaver/?q=alert",
        *(f"/admin/udbakke/{m}" for m in messages),
    ]


def test_stored_scripts_are_always_escaped(app, world):
    extra = _store_everything(app, world)
    # Staying logged in as each role, read every GET page of the matrix plus the new ones.
    pages = [url for method, url, _ in routes(world).values() if method == "get"] + extra
    found: set[str] = set()
    live = []
    read = 0
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            user = db.session.get(User, world["users"][role].id)
            log_in(client, user)
        for url in pages:
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue  # exports (JSON, CSV, iCalendar) are not HTML; redirects show nothing
            html = response.get_data(as_text=True)
            read += 1
            if "<script>alert(1)" in html or "<img src=x" in html:
                live.append((role, url))
            found.update(tag for tag in FIELDS if f"{ESCAPED}[{tag}]" in html)
    assert not live, live
    assert read > 100
    assert found == set(FIELDS), {"never shown escaped": set(FIELDS) - found}


FIELDS = (
    "name",
    "address",
    "skills",
    "about",
    "title",
    "description",
    "need_address",
    "help_text",
    "visit_note",
    "cancel_reason",
    "proposal_title",
    "proposal_what",
    "proposal_for_whom",
    "proposal_helper_roles",
    "proposal_materials",
    "comment",
    "hidden_reason",
    "answer_text",
)


@pytest.mark.parametrize(
    ("url", "echoed"),
    [
        ("/opgaver/?q={}", True),  # shown again in the search box
        ("/opgaver/?postnummer={}&km=10", True),
        ("/opgaver/?aktivitet={}", False),
        ("/konto/log-ind?next={}", False),
        ("/opgaver/?side={}", False),
    ],
)
def test_reflected_input_is_escaped(app, url, echoed):
    """What a visitor types into a search (or a crafted link carries) comes back escaped."""
    response = app.test_client().get(url.format(quote(PAYLOAD)))
    assert response.status_code < 500
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    if echoed:  # the escaped text is really there: the check is not vacuous
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
