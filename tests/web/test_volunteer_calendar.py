"""The private calendar feed: parses back, keeps UIDs, shows cancellations, can be revoked."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

from icalendar import Calendar

from support import factories
from support.auth import log_in
from support.factories import assignment, occurrence, visit
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import User, VisitState
from volunteer.needs.place import place_line
from volunteer.notifications.ics import visit_calendar


def _feed_url(client) -> str:
    page = client.get("/min-side/kalender").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/min-side/kalender/[^"]+\.ics)"', page)
    assert match, page
    return match.group(1)


def _events(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data).walk("VEVENT")


def test_the_feed_has_one_event_per_visit_with_stable_uids(client):
    org = factories.organisation()
    centre = factories.centre(org, name="Plejecenter Egebo", postcode="7160")
    need = factories.need(org, factories.activity_type(), title="Spiseven", centre=centre)
    volunteer = factories.user()
    a = assignment(need, volunteer)
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    kept = visit(occurrence(need, start), volunteer, a)
    dropped = visit(occurrence(need, start + timedelta(days=7)), volunteer, a)
    dropped.state = VisitState.CANCELLED
    old = visit(occurrence(need, start - timedelta(days=90)), volunteer, a)
    db.session.commit()

    # No login needed: calendar apps cannot log in.
    log_in(client, volunteer)
    url = _feed_url(client)
    client.post("/konto/log-ud")
    events = {str(e["UID"]): e for e in _events(client, url)}
    assert set(events) == {f"visit-{kept.id}@samskab", f"visit-{dropped.id}@samskab"}
    assert f"visit-{old.id}@samskab" not in events
    event = events[f"visit-{kept.id}@samskab"]
    assert str(event["SUMMARY"]) == "Spiseven"
    assert str(event["LOCATION"]) == place_line(need, exact=True)
    assert event.decoded("DTSTART") == start.astimezone(UTC)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == start + timedelta(hours=1.5)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in event and "LAST-MODIFIED" in event and "SEQUENCE" in event
    cancelled = events[f"visit-{dropped.id}@samskab"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(event["SEQUENCE"])


def test_a_new_link_revokes_the_old_one(client):
    volunteer = factories.user()
    log_in(client, volunteer)
    old = _feed_url(client)
    assert client.get(old).status_code == 200
    response = client.post("/min-side/kalender/nyt-link", follow_redirects=True)
    assert "Det gamle virker ikke længere." in response.get_data(as_text=True)
    new = _feed_url(client)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_feed_shows_only_its_owners_visits(client):
    org = factories.organisation()
    need = factories.need(org, factories.activity_type(), title="Hemmelig opgave")
    karen, bent = factories.user(), factories.user()
    visit(occurrence(need, utcnow() + timedelta(days=1)), karen, assignment(need, karen))
    log_in(client, bent)
    assert _events(client, _feed_url(client)) == []
    assert b"Hemmelig" not in client.get(_feed_url(client)).data
    assert client.get("/min-side/kalender/gaet-et-token.ics").status_code == 404


def test_profiles_from_before_the_feed_get_a_token_on_first_visit(client):
    volunteer = factories.user()
    volunteer.profile.calendar_token = None
    db.session.commit()
    log_in(client, volunteer)
    url = _feed_url(client)
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).profile.calendar_token in url


def test_the_email_attachment_and_the_feed_describe_a_visit_identically(client):
    """One builder: a calendar holding both must see the same event (it used to differ in
    PRODID and LOCATION, and the feed had no URL)."""
    org = factories.organisation()
    centre = factories.centre(org, name="Plejecenter Egebo", postcode="7160")
    need = factories.need(org, factories.activity_type(), title="Spiseven", centre=centre)
    volunteer = factories.user()
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    v = visit(occurrence(need, start), volunteer, assignment(need, volunteer))
    db.session.commit()
    log_in(client, volunteer)
    (fed,) = _events(client, _feed_url(client))
    attachment = Calendar.from_ical(visit_calendar(v, utcnow()))
    feed = Calendar.from_ical(client.get(_feed_url(client)).data)
    assert str(attachment["PRODID"]) == str(feed["PRODID"])
    (attached,) = attachment.walk("VEVENT")
    for field in ("UID", "SUMMARY", "LOCATION", "DTSTART", "DTEND", "URL"):
        assert attached.decoded(field) == fed.decoded(field), field
    assert str(fed["URL"]).endswith(f"/opgaver/{need.id}")
