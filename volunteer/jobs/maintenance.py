"""Housekeeping: the occurrence horizon and data retention."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import delete, func, select

from volunteer.auth.models import Role, User
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Occurrence
from volunteer.needs.services import refresh_next_dates, sync_occurrences
from volunteer.notifications.models import OutboxMessage, OutboxState
from volunteer.persons import referrals
from volunteer.persons.services import ended_before
from volunteer.volunteers.gdpr import forget_helped_person, forget_person, forget_referral

log = logging.getLogger("samskab.jobs")


def occurrence_horizon(app: Flask, now: datetime) -> dict[str, int]:
    """Keep every open or filled need's occurrences generated up to the horizon
    (``sync_occurrences``), one transaction per need."""
    today = local_today(now)
    before = db.session.scalar(select(func.count()).select_from(Occurrence)) or 0
    need_ids = db.session.scalars(
        select(Need.id).where(Need.status.in_((NeedStatus.OPEN, NeedStatus.FILLED)))
    ).all()
    for need_id in need_ids:
        need = db.session.get(Need, need_id)
        assert need is not None
        sync_occurrences(need, today)
        db.session.commit()
    after = db.session.scalar(select(func.count()).select_from(Occurrence)) or 0
    return {"needs": len(need_ids), "occurrences_added": max(0, after - before)}


def next_dates(app: Flask, now: datetime) -> dict[str, int]:
    """Move each need's ``next_starts_at`` past dates that have begun, so the public list
    (which sorts and filters on it) stays right between horizon runs."""
    changed = refresh_next_dates(now)
    db.session.commit()
    return {"needs": changed}


def retention(app: Flask, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Forget what Samskab no longer needs.

    - Sent outbox messages older than RETENTION_SENT_OUTBOX_DAYS (180) are deleted.
    - Accounts without a login (or, never logged in, created) for RETENTION_INACTIVE_YEARS (3)
      are anonymised by ``forget_person`` (as account deletion is), never deleted: visits and
      assignments stay for the statistics, the person does not. Administrators are left alone,
      so nobody locks the service out.
      Their outbox messages go too, as they carry name and address.
    - People we help whose registration ended more than RETENTION_ENDED_PERSON_MONTHS (12) ago
      are anonymised by ``forget_helped_person`` (as erasure on request is); declined referrals
      decided that long ago lose their details (``forget_referral``).

    With ``dry_run`` nothing changes; the counts say what would. Logs what it did.
    """
    config = app.config
    old_sent = (
        OutboxMessage.state == OutboxState.SENT,
        OutboxMessage.sent_at < now - timedelta(days=config["RETENTION_SENT_OUTBOX_DAYS"]),
    )
    inactive_since = now - timedelta(days=365 * config["RETENTION_INACTIVE_YEARS"])
    inactive = db.session.scalars(
        select(User).where(
            User.deleted_at.is_(None),
            User.role != Role.ADMIN,
            func.coalesce(User.last_login_at, User.created_at) < inactive_since,
        )
    ).all()
    messages = (
        db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*old_sent)) or 0
    )
    months = config["RETENTION_ENDED_PERSON_MONTHS"]
    ended = ended_before(months_before(local_today(now), months))
    declined = referrals.declined_before(now - timedelta(days=round(30.44 * months)))
    summary = {
        "outbox_deleted": messages,
        "users_anonymised": len(inactive),
        "persons_anonymised": len(ended),
        "referrals_anonymised": len(declined),
    }
    if dry_run:
        log.info("Retention dry run, would do: %s", summary)
        return summary
    db.session.execute(delete(OutboxMessage).where(*old_sent))
    for user in inactive:
        forget_person(user, now, reason="retention")
    for person in ended:
        forget_helped_person(person, now, reason="retention")
    for referral in declined:
        forget_referral(referral, reason="retention")
    db.session.commit()
    log.info("Retention: %s", summary)
    return summary


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the last day, where that month is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))
