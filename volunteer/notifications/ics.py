"""iCalendar attachments for visit emails."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from icalendar import Calendar, Event

from volunteer.centres.models import Visit
from volunteer.jobs.common import place_of


def visit_uid(visit: Visit) -> str:
    """Stable per visit, and the same as in the volunteer's calendar feed, so calendars update
    the one event instead of adding a second."""
    return f"visit-{visit.id}@samskab"


def visit_calendar(visit: Visit, now: datetime) -> str:
    """A one-event calendar (METHOD:PUBLISH) for ``visit``, times in UTC."""
    need = visit.occurrence.need
    site_url = current_app.config["SITE_URL"].rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//Samskab//Hedensted Kommune//DA")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", visit_uid(visit))
    event.add("dtstamp", now)
    event.add("dtstart", visit.occurrence.starts_at)
    event.add("dtend", visit.occurrence.ends_at)
    event.add("summary", need.title)
    event.add("location", place_of(need))
    event.add("url", f"{site_url}/opgaver/{need.id}")
    calendar.add_component(event)
    return calendar.to_ical().decode()
