"""The volunteer's private calendar feed: an iCalendar URL their phone or Outlook subscribes to.

The URL carries a random token instead of a login, so it works in calendar apps; making a new
token revokes the old URL. Each visit keeps the UID the reminder emails' .ics attachments use
(``visit-<id>@samskab``), so a calendar that has both shows one event, and updates replace it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import User
from volunteer.centres.models import Visit, VisitState
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence, OccurrenceStatus
from volunteer.volunteers.models import VolunteerProfile, new_calendar_token

# How far back the feed reaches: recent visits stay visible for a while after they happened.
HISTORY = timedelta(days=30)


def visit_uid(visit: Visit) -> str:
    return f"visit-{visit.id}@samskab"


def token_for(user: User) -> str:
    """The user's calendar token, made on first use (profiles from before the feed have none).
    Commits when it makes one."""
    profile = user.profile
    if profile is None:
        raise NotFound
    if profile.calendar_token is None:
        profile.calendar_token = new_calendar_token()
        db.session.commit()
    return profile.calendar_token


def renew_token(user: User) -> str:
    """Replace the token, so the old URL stops working at once. Commits."""
    profile = user.profile
    if profile is None:
        raise NotFound
    profile.calendar_token = new_calendar_token()
    audit.record("calendar.token_renewed", "volunteer_profile", profile.id, actor_id=user.id)
    db.session.commit()
    return profile.calendar_token


def feed(token: str, now: datetime) -> bytes:
    """The iCalendar feed for the profile with this token; NotFound for an unknown token.

    One event per visit from ``HISTORY`` ago onwards; cancelled visits (and visits to cancelled
    occurrences) stay in the feed with STATUS:CANCELLED, so subscribed calendars remove them.
    Times are UTC.
    """
    if not token or "\x00" in token:  # PostgreSQL refuses NUL in a query (a 500, not a 404)
        raise NotFound
    profile = db.session.scalar(
        select(VolunteerProfile).where(VolunteerProfile.calendar_token == token)
    )
    if profile is None:
        raise NotFound
    visits = db.session.scalars(
        select(Visit)
        .join(Visit.occurrence)
        .where(Visit.volunteer_id == profile.user_id, Occurrence.starts_at >= now - HISTORY)
        .options(joinedload(Visit.occurrence).joinedload(Occurrence.need).joinedload(Need.centre))
        .order_by(Occurrence.starts_at)
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Samskab//Hedensted//DA")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Samskab")
    for visit in visits:
        calendar.add_component(_event(visit, now))
    return calendar.to_ical()


def _event(visit: Visit, now: datetime) -> Event:
    occurrence = visit.occurrence
    need = occurrence.need
    cancelled = (
        visit.state == VisitState.CANCELLED or occurrence.status == OccurrenceStatus.CANCELLED
    )
    event = Event()
    event.add("uid", visit_uid(visit))
    event.add("dtstamp", now)
    event.add("last-modified", max(visit.created_at, need.updated_at))
    # Visits have no revision counter; cancelling is the one change a volunteer's calendar must
    # see as newer than the invitation the reminder email carried (sequence 0).
    event.add("sequence", 1 if cancelled else 0)
    event.add("dtstart", occurrence.starts_at)
    event.add("dtend", occurrence.ends_at)
    event.add("summary", need.title)
    place = f"{need.centre.name}, {need.centre.town}" if need.centre else need.town
    event.add("location", place)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event
