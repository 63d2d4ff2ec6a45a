"""The one iCalendar builder: reminder-email attachments and the volunteer's calendar feed.

Both use the same event for a visit (same UID, summary, place, times and link), so a calendar
that has the attachment and subscribes to the feed shows one event, and updates replace it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from icalendar import Calendar, Event

from volunteer.centres.models import Visit, VisitState
from volunteer.needs.models import OccurrenceStatus
from volunteer.needs.place import AddressAccess, address_access

PRODID = "-//Samskab//Hedensted Kommune//DA"


def visit_uid(visit: Visit) -> str:
    """Stable per visit, so calendars update the one event instead of adding a second."""
    return f"visit-{visit.id}@samskab"


def visit_event(visit: Visit, now: datetime, access: AddressAccess | None = None) -> Event:
    """The event for ``visit``, times in UTC; cancelled visits (or occurrences) carry
    STATUS:CANCELLED so subscribed calendars remove them. LOCATION is the place line as the
    volunteer may see it (``access``, looked up when not given): exact while they are accepted."""
    occurrence = visit.occurrence
    need = occurrence.need
    cancelled = (
        visit.state == VisitState.CANCELLED or occurrence.status == OccurrenceStatus.CANCELLED
    )
    site_url = current_app.config["SITE_URL"].rstrip("/")
    event = Event()
    event.add("uid", visit_uid(visit))
    event.add("dtstamp", now)
    event.add("last-modified", max(visit.created_at, need.updated_at))
    # Visits have no revision counter; cancelling is the one change a calendar must see as
    # newer than the invitation the reminder email carried (sequence 0).
    event.add("sequence", 1 if cancelled else 0)
    event.add("dtstart", occurrence.starts_at)
    event.add("dtend", occurrence.ends_at)
    event.add("summary", need.title)
    access = access if access is not None else address_access(visit.volunteer)
    event.add("location", access.place(need))
    event.add("url", f"{site_url}/opgaver/{need.id}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def calendar(events: Iterable[Event], *, name: str | None = None) -> Calendar:
    """A METHOD:PUBLISH calendar holding ``events``; ``name`` titles a subscribed feed."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name is not None:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(event)
    return cal


def visit_calendar(visit: Visit, now: datetime, access: AddressAccess | None = None) -> str:
    """A one-event calendar for ``visit``, as an email attachment."""
    return calendar([visit_event(visit, now, access)]).to_ical().decode()
