"""Every surface that says where a need happens shows the one formatter's text, and the exact
street only to those the one rule allows (``volunteer.needs.place``).

One journey on a home visit with a private street address: invited by the coordinator (mail),
accepted on the need page, reminded (mail + .ics), subscribed (calendar feed), then leaving;
the next on the waiting list is offered the place (mail). At each step the need page, My page,
My visits, the public list, the mails and the calendar show exactly ``place_line(need, ...)``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from markupsafe import escape
from sqlalchemy import select

from support import factories
from support.auth import log_in
from support.factories import assignment, coordinator, member
from volunteer.clock import local_today
from volunteer.coordination.proposals import approve
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.jobs.visits import visit_reminders
from volunteer.models import (
    Assignment,
    AssignmentState,
    OutboxMessage,
    Role,
    Visit,
)
from volunteer.needs.place import address_access, may_see_address, place_line
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers import calendar
from volunteer.volunteers.services import save_availability

STREET = "Skolevej 3"


def _free_on_thursdays(user):
    save_availability(user, [(3, 16), (3, 18)])  # Thursday 16–20
    return user


@pytest.fixture
def world(app):
    org = factories.organisation("Ældre Sagen")
    boss = coordinator(org, name="Mette Koordinator")
    stranger = coordinator(factories.organisation(), name="Anden Koordinator")
    need = factories.need(
        org,
        factories.activity_type("besoegsven"),
        title="Besøgsven i eget hjem",
        postcode="8722",
        address=STREET,
        slots=1,
    )
    sync_occurrences(need, local_today(utcnow()))
    db.session.commit()
    karen = _free_on_thursdays(member(org, name="Karen Jensen", postcode="8722"))
    ole = _free_on_thursdays(member(org, name="Ole Hansen", postcode="8722"))
    return dict(org=org, boss=boss, stranger=stranger, need=need, karen=karen, ole=ole)


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _mail(user, template_key: str) -> OutboxMessage:
    return db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_id == user.id, OutboxMessage.dedup_key.like(template_key))
        .order_by(OutboxMessage.id.desc())
    )


def _where(page: str) -> str:
    """The need page's "Where" value."""
    rest = page.partition('<dt class="col-sm-3">Hvor</dt>')[2]
    assert rest, "no Where on the page"
    return rest.split('<dd class="col-sm-9">', 1)[1].split("</dd>", 1)[0]


def test_every_surface_shows_the_formatters_line_and_the_street_only_once_accepted(
    app, client, world
):
    need, karen = world["need"], world["karen"]
    exact, approximate = place_line(need, exact=True), place_line(need, exact=False)
    assert (exact, approximate) == (f"{STREET}, 8722 Hedensted", "8722 Hedensted")
    need_page = f"/opgaver/{need.id}"

    # Anonymous: the approximate place on the need page and in the public list.
    assert _where(_page(client, need_page)) == approximate
    assert STREET not in _page(client, need_page)
    assert f"· {approximate}" in _page(client, "/opgaver/")

    # Invited by the coordinator: the mail and every page show the approximate place.
    proposal = assignment(need, karen, AssignmentState.PROPOSED)
    assert approve(world["boss"], [proposal.id], utcnow()) == (1, 0)
    invitation = _mail(karen, "invitation:%")
    assert approximate in invitation.body_text.splitlines()
    assert STREET not in invitation.body_text and STREET not in (invitation.body_html or "")
    log_in(client, karen)
    page = _page(client, need_page)
    assert "Ja, jeg tager den" in page
    assert _where(page) == approximate and STREET not in page
    visits = _page(client, "/min-side/besoeg")
    assert f'<p class="mb-2">{approximate}</p>' in visits and STREET not in visits
    assert STREET not in _page(client, "/min-side/")
    assert not may_see_address(karen, need)

    # Accepted: the exact place on the need page, My visits, My page, reminder and calendar.
    response = client.post(f"/opgaver/tilbud/{proposal.id}/ja")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, proposal.id).state == AssignmentState.ACCEPTED
    assert may_see_address(karen, need)
    assert _where(_page(client, need_page)) == str(escape(exact))
    visits = _page(client, "/min-side/besoeg")
    upcoming = visits.count(f'<p class="mb-2">{escape(exact)}</p>')
    assert upcoming >= 2  # at least one coming visit, and the activity itself
    assert approximate not in visits.replace(str(escape(exact)), "")
    assert f"Besøgsven i eget hjem · {escape(exact)}</li>" in _page(client, "/min-side/")
    # The public list stays approximate, even for her.
    assert STREET not in _page(client, "/opgaver/")

    first = db.session.scalars(
        select(Visit).where(Visit.volunteer_id == karen.id).order_by(Visit.id)
    ).first()
    assert visit_reminders(app, first.occurrence.starts_at - timedelta(hours=23)) == {
        "reminders_24h": 1
    }
    reminder = _mail(karen, "visit-reminder:%")
    assert exact in reminder.body_text.splitlines()[5]
    (attached,) = Calendar.from_ical(reminder.ics).walk("VEVENT")
    assert str(attached["LOCATION"]) == exact

    feed_url = f"/min-side/kalender/{calendar.token_for(karen)}.ics"
    events = Calendar.from_ical(client.get(feed_url).data).walk("VEVENT")
    assert events and {str(e["LOCATION"]) for e in events} == {exact}

    # Staff: the need's coordinator sees the street; another organisation's does not.
    client.post("/konto/log-ud")
    log_in(client, world["boss"])
    assert _where(_page(client, need_page)) == str(escape(exact))
    client.post("/konto/log-ud")
    log_in(client, world["stranger"])
    assert _where(_page(client, need_page)) == approximate
    client.post("/konto/log-ud")

    # Ole waits; Karen leaves. Her cancelled visits lose the street in the calendar, and Ole's
    # offer of the freed place (mail) is approximate until he has said yes.
    ole = world["ole"]
    log_in(client, ole)
    client.post(f"/opgaver/{need.id}/tilmeld")
    client.post("/konto/log-ud")
    db.session.expire_all()
    assert db.session.scalar(select(Assignment.state).where(Assignment.volunteer_id == ole.id)) == (
        AssignmentState.WAITLISTED
    )
    log_in(client, karen)
    assert client.post(f"/min-side/aftaler/{proposal.id}/meld-fra").status_code == 302
    db.session.expire_all()
    assert _where(_page(client, need_page)) == approximate
    assert STREET not in _page(client, "/min-side/besoeg")
    events = Calendar.from_ical(client.get(feed_url).data).walk("VEVENT")
    assert {str(e["STATUS"]) for e in events if e.decoded("DTSTART") > utcnow()} == {"CANCELLED"}
    assert {str(e["LOCATION"]) for e in events} == {approximate}
    offer = _mail(ole, "invitation:%")
    assert offer is not None and "Godt nyt" in offer.body_text
    assert approximate in offer.body_text.splitlines() and STREET not in offer.body_text


@pytest.mark.parametrize(
    ("state", "allowed"),
    [(state, state == AssignmentState.ACCEPTED) for state in AssignmentState],
)
def test_only_an_accepted_volunteer_may_see_the_street(world, state, allowed):
    need, karen = world["need"], world["karen"]
    assignment(need, karen, state)
    assert may_see_address(karen, need) is allowed
    assert (STREET in address_access(karen).place(need)) is allowed


def test_staff_who_may_see_the_street(world):
    org, need = world["org"], world["need"]
    home = factories.centre(org, name="Plejecenter Bakkegården")
    at_centre = factories.need(org, factories.activity_type(), centre=home, address="Stue 4")
    staff = factories.user(role=Role.CENTRE, centres=[home])
    elsewhere = factories.user(role=Role.CENTRE, centres=[factories.centre(org)])
    admin = factories.user(role=Role.ADMIN)
    assert may_see_address(world["boss"], need) and may_see_address(admin, need)
    assert not may_see_address(world["stranger"], need)
    # Centre staff: their own centre's needs, nothing else.
    assert may_see_address(staff, at_centre) and not may_see_address(staff, need)
    assert not may_see_address(elsewhere, at_centre)
    assert not may_see_address(None, need)
    assert address_access(staff).place(at_centre) == place_line(at_centre, exact=True)


def test_no_template_writes_the_place_or_the_rule_itself():
    """The street and the rule live in Python only: no template reads ``need.address`` or
    decides on an assignment state for it."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    for path in templates.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "need.address" not in text, path
            assert "accepted_needs" not in text, path
