"""Digests: the centres' morning list and the coordinators' Monday overview."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from volunteer import bookings
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import Centre
from volunteer.centres.models import Visit, VisitState
from volunteer.centres.services import action_link
from volunteer.clock import local_day_bounds, local_to_utc
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence, OccurrenceStatus
from volunteer.notifications.models import OutboxMessage, OutboxState
from volunteer.notifications.services import already_enqueued, enqueue
from volunteer.proposals.services import overdue_for


def centre_digest(app: Flask, now: datetime) -> dict[str, int]:
    """Each centre's staff get at most one email a day (key ``centre-digest:<user>:<date>``)
    listing today's expected visits at their centres: time, activity, the volunteer's first
    name, and for each still-scheduled visit signed one-click links (came / did not come) that
    act as that staff member. Nothing is sent on a day without visits."""
    today, day_start, day_end = local_day_bounds(now)
    visits = db.session.scalars(
        select(Visit)
        .join(Visit.occurrence)
        .join(Occurrence.need)
        .options(
            contains_eager(Visit.occurrence).contains_eager(Occurrence.need),
            joinedload(Visit.occurrence, Occurrence.need, Need.activity_type),
            joinedload(Visit.volunteer),
        )
        .where(
            Need.centre_id.is_not(None),
            Occurrence.starts_at >= day_start,
            Occurrence.starts_at < day_end,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
            Visit.state.in_((VisitState.SCHEDULED, VisitState.CONFIRMED)),
        )
        .order_by(Occurrence.starts_at, Visit.id)
    ).unique()
    by_centre: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_centre[visit.occurrence.need.centre_id].append(visit)  # type: ignore[index]
    if not by_centre:
        return {"centres": 0, "messages": 0}
    staff = db.session.scalars(
        select(User)
        .join(User.centres)
        .where(Centre.id.in_(by_centre), User.active.is_(True), User.deleted_at.is_(None))
        .options(selectinload(User.centres))
        .order_by(User.id)
    ).unique()
    messages = 0
    for person in staff:
        key = f"centre-digest:{person.id}:{today.isoformat()}"
        centres = [(c, by_centre[c.id]) for c in person.centres if c.id in by_centre]
        if not centres or already_enqueued(key):
            continue
        links = {
            visit.id: {
                outcome: action_link(person, visit, outcome)
                for outcome in (VisitState.CONFIRMED, VisitState.NO_SHOW)
            }
            for _centre, visits in centres
            for visit in visits
            if visit.state == VisitState.SCHEDULED
        }
        enqueue(key, person, "centre_digest", day=today, centres=centres, links=links)
        messages += 1
    db.session.commit()
    return {"centres": len(by_centre), "messages": messages}


def coordinator_digest(app: Flask, now: datetime) -> dict[str, int]:
    """Monday morning, one email per coordinator and ISO week: proposals of their organisations
    and local councils whose answer is overdue (first), open needs of their organisations with
    a date ahead and free slots (``bookings.bookable_sql``), last week's no-shows, and how many
    outbox messages failed. Nothing is sent when there is nothing to
    report."""
    today, _, _ = local_day_bounds(now)
    monday = today - timedelta(days=today.weekday())
    last_week = (local_to_utc(monday - timedelta(days=7), time(0)), local_to_utc(monday, time(0)))
    year, week, _ = today.isocalendar()
    failed = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.FAILED)
    )
    coordinators = db.session.scalars(
        select(User)
        .where(User.role == Role.COORDINATOR, User.active.is_(True), User.deleted_at.is_(None))
        .options(selectinload(User.organisations))
        .order_by(User.id)
    )
    messages = 0
    for person in coordinators:
        key = f"coordinator-digest:{person.id}:{year}-W{week:02d}"
        organisation_ids = [o.id for o in person.organisations]
        if not organisation_ids or already_enqueued(key):
            continue
        open_needs = db.session.execute(
            select(Need, bookings.free_sql())
            .where(
                Need.organisation_id.in_(organisation_ids),
                bookings.bookable_sql(now),
                bookings.free_sql() > 0,
            )
            .order_by(Need.first_date, Need.id)
        ).all()
        no_shows = db.session.scalars(
            select(Visit)
            .join(Visit.occurrence)
            .join(Occurrence.need)
            .options(contains_eager(Visit.occurrence).contains_eager(Occurrence.need))
            .where(
                Need.organisation_id.in_(organisation_ids),
                Visit.state == VisitState.NO_SHOW,
                Occurrence.starts_at >= last_week[0],
                Occurrence.starts_at < last_week[1],
            )
            .order_by(Occurrence.starts_at)
        ).all()
        overdue, _total = overdue_for(organisation_ids, now)
        if not (overdue or open_needs or no_shows or failed):
            continue
        enqueue(
            key,
            person,
            "coordinator_digest",
            week=week,
            overdue_proposals=overdue,
            open_needs=open_needs,
            no_shows=no_shows,
            failed=failed,
        )
        messages += 1
    db.session.commit()
    return {"messages": messages, "failed_outbox": failed or 0}
