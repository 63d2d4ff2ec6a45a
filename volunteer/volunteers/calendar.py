"""The volunteer's private calendar feed: an iCalendar URL their phone or Outlook subscribes to.

The URL carries a random token instead of a login, so it works in calendar apps; making a new
token revokes the old URL. Events come from the one builder in ``volunteer.notifications.ics``,
the same the reminder emails' .ics attachments use, so a calendar that has both shows one event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import User
from volunteer.centres.models import Visit
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence
from volunteer.needs.place import address_access
from volunteer.notifications import ics
from volunteer.volunteers.models import VolunteerProfile, new_calendar_token

# How far back the feed reaches: recent visits stay visible for a while after they happened.
HISTORY = timedelta(days=30)


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
    access = address_access(profile.user)
    events = (ics.visit_event(visit, now, access) for visit in visits)
    return ics.calendar(events, name="Samskab").to_ical()
