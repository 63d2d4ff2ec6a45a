"""Jobs about visits: reminders before them, follow-up when nobody confirmed them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import String, cast, exists, literal, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from volunteer.auth.models import User
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.jobs.common import CHUNK, reachable
from volunteer.needs.models import Need, Occurrence, OccurrenceStatus
from volunteer.needs.place import address_access
from volunteer.notifications.ics import visit_calendar
from volunteer.notifications.models import Channel, OutboxMessage
from volunteer.notifications.services import already_enqueued, channels_for, enqueue, notify
from volunteer.volunteers import cannot_come

# Visits unconfirmed for longer than this are left to the coordinators' reports.
FOLLOW_UP_WINDOW = timedelta(days=14)


def _not_enqueued(prefix: str, suffix: str):  # type: ignore[no-untyped-def]
    """SQL: no outbox row has the key ``prefix<visit id>suffix`` yet, on any channel (keeps
    reruns cheap; the SMS twin's key ends in ``:sms``)."""
    key = literal(prefix) + cast(Visit.id, String) + literal(suffix)
    sms_key = literal(prefix) + cast(Visit.id, String) + literal(f"{suffix}:sms")
    return ~exists().where(or_(OutboxMessage.dedup_key == key, OutboxMessage.dedup_key == sms_key))


def visit_reminders(app: Flask, now: datetime) -> dict[str, int]:
    """Remind volunteers of their visits VISIT_REMINDER_HOURS before (default 24 h; e.g.
    (24, 2) adds a second reminder).

    Everything is re-checked at run time, because a job can run late: the visit is still
    scheduled, its occurrence not cancelled, the volunteer active and not deleted. A visit that
    has started is never reminded of. Each lead covers the visits between it and the next
    shorter lead, so a visit booked two hours ahead gets only the short reminder. The dedup key
    ``visit-reminder:<visit>:<lead>h`` makes reruns send nothing twice. The reminder goes on
    the volunteer's channels (``notifications.services.channels_for``): an email with the
    calendar event, and/or one SMS with a short "kan ikke komme" link.
    """
    leads = sorted(set(app.config["VISIT_REMINDER_HOURS"]), reverse=True)
    counts: Counter[str] = Counter()
    for index, lead in enumerate(leads):
        shorter = leads[index + 1] if index + 1 < len(leads) else 0
        due = (
            select(Visit)
            .join(Visit.occurrence)
            .join(Occurrence.need)
            .join(Visit.volunteer)
            .options(
                contains_eager(Visit.occurrence).contains_eager(Occurrence.need),
                contains_eager(Visit.volunteer),
                joinedload(Visit.occurrence, Occurrence.need, Need.centre),
            )
            .where(
                Visit.state == VisitState.SCHEDULED,
                Occurrence.status == OccurrenceStatus.SCHEDULED,
                Occurrence.starts_at > now + timedelta(hours=shorter),
                Occurrence.starts_at <= now + timedelta(hours=lead),
                User.active.is_(True),
                User.deleted_at.is_(None),
                _not_enqueued("visit-reminder:", f":{lead}h"),
            )
            .order_by(Occurrence.starts_at, Visit.id)
        )
        for number, visit in enumerate(db.session.scalars(due).unique(), start=1):
            access = address_access(visit.volunteer)
            by_email = Channel.EMAIL in channels_for(visit.volunteer)
            notify(
                f"visit-reminder:{visit.id}:{lead}h",
                visit.volunteer,
                "visit_reminder",
                # Only an email carries the calendar event.
                ics=visit_calendar(visit, now, access) if by_email else None,
                visit=visit,
                occurrence=visit.occurrence,
                need=visit.occurrence.need,
                place=access.place(visit.occurrence.need),
                hours=lead,
                cannot_come=cannot_come.link_for(visit),
            )
            counts[f"reminders_{lead}h"] += 1
            if number % CHUNK == 0:
                db.session.commit()
        db.session.commit()
    return {f"reminders_{lead}h": counts[f"reminders_{lead}h"] for lead in leads}


def visit_followups(app: Flask, now: datetime) -> dict[str, int]:
    """Ask the centre staff (or, for needs without a centre, the organisation's coordinators)
    once to confirm a visit that is still ``scheduled`` more than 24 hours after it ended.

    Visits that ended more than 14 days ago are left alone, so a first run on old data does not
    flood anyone.
    """
    due = (
        select(Visit)
        .join(Visit.occurrence)
        .options(
            contains_eager(Visit.occurrence).joinedload(Occurrence.need).joinedload(Need.centre),
            joinedload(Visit.volunteer),
        )
        .where(
            Visit.state == VisitState.SCHEDULED,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Occurrence.ends_at <= now - timedelta(hours=24),
            Occurrence.ends_at > now - FOLLOW_UP_WINDOW,
        )
        .order_by(Occurrence.starts_at, Visit.id)
    )
    visits = messages = 0
    # Counted: visits still unconfirmed; messages: those written by this run.
    for visit in db.session.scalars(due).unique():
        need = visit.occurrence.need
        staff = reachable(need.centre.staff) if need.centre is not None else []
        for person in staff or coordinators_of(need.organisation_id):
            key = f"visit-followup:{visit.id}:{person.id}"
            if already_enqueued(key):
                continue
            enqueue(
                key,
                person,
                "visit_followup",
                visit=visit,
                occurrence=visit.occurrence,
                need=need,
                place=address_access(person).place(need),
            )
            messages += 1
        visits += 1
    db.session.commit()
    return {"visits": visits, "messages": messages}
