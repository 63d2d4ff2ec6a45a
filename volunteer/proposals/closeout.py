"""The close-out of a co-created activity (#15 part 6): its tovholder records what happened
(participants, sessions, a short note) when it ends and every three months; the
``closeout_reminders`` job asks them, exactly once per period (the dedup key carries the date
the period started from)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import User
from volunteer.clock import local_today
from volunteer.extensions import db
from volunteer.needs import manage
from volunteer.needs.models import Need, NeedStatus
from volunteer.notifications.services import enqueue
from volunteer.proposals.models import ActivityLead, ActivityReport, ProposalNeed

PERIOD = timedelta(days=91)  # "every three months"
NOTE_MAX = 2000


class CloseoutError(Exception):
    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class CloseoutData:
    participants: int
    sessions: int
    note: str = ""


def may_report(user: User, need: Need) -> bool:
    """The need's tovholder, or a coordinator who manages it (and admins)."""
    if not user.is_authenticated:
        return False
    lead = db.session.get(ActivityLead, (need.id, user.id))
    return lead is not None or manage.may_manage(user, need)


def co_created_need(need_id: int) -> tuple[Need, int]:
    """The need and the proposal it came from (NotFound if it came from none)."""
    link = db.session.get(ProposalNeed, need_id)
    need = db.session.get(Need, need_id)
    if link is None or need is None:
        raise NotFound
    return need, link.proposal_id


def record(user: User, need_id: int, data: CloseoutData, now: datetime) -> ActivityReport:
    """Record the close-out; only the tovholder (or its coordinators). Audited. Commits."""
    need, _proposal_id = co_created_need(need_id)
    if not may_report(user, need):
        raise CloseoutError("participants", "not_lead")
    if not 0 <= data.participants <= 100_000:
        raise CloseoutError("participants", "range")
    if not 0 <= data.sessions <= 10_000:
        raise CloseoutError("sessions", "range")
    note = data.note.replace("\x00", "").strip()
    if len(note) > NOTE_MAX:
        raise CloseoutError("note", "too_long")
    report = ActivityReport(
        need_id=need.id,
        author_id=user.id,
        participants=data.participants,
        sessions=data.sessions,
        note=note,
        reported_on=local_today(now),
        created_at=now,
    )
    db.session.add(report)
    db.session.flush()
    audit.record(
        "activity.closeout",
        "need",
        need.id,
        actor_id=user.id,
        participants=data.participants,
        sessions=data.sessions,
    )
    db.session.commit()
    return report


def reports_of(need_id: int) -> list[ActivityReport]:
    return list(
        db.session.scalars(
            select(ActivityReport)
            .where(ActivityReport.need_id == need_id)
            .order_by(ActivityReport.reported_on.desc(), ActivityReport.id.desc())
        )
    )


def _ended(need: Need, today: date) -> bool:
    return need.status == NeedStatus.CLOSED or (
        need.last_date is not None and need.last_date < today
    )


def closeout_reminders(app: Flask, now: datetime) -> dict[str, int]:
    """Ask each tovholder for a close-out when their activity has ended without one since,
    or three months after the last one (or after they became tovholder). Exactly once per
    period: the key holds the need, the tovholder and the date the period started from."""
    today = local_today(now)
    last_reports = dict(
        db.session.execute(
            select(ActivityReport.need_id, func.max(ActivityReport.reported_on)).group_by(
                ActivityReport.need_id
            )
        ).all()
    )
    asked = 0
    for lead, need in db.session.execute(
        select(ActivityLead, Need)
        .join(Need, Need.id == ActivityLead.need_id)
        .where(Need.status != NeedStatus.DRAFT)
        .order_by(ActivityLead.need_id, ActivityLead.user_id)
    ).all():
        user = db.session.get(User, lead.user_id)
        if user is None or not user.is_active:
            continue
        since = last_reports.get(need.id) or local_today(lead.created_at)
        ended = _ended(need, today) and (
            need.last_date is None or last_reports.get(need.id) is None or since < need.last_date
        )
        if not ended and since + PERIOD > today:
            continue
        link = db.session.get(ProposalNeed, need.id)
        if link is None:
            continue
        key = f"activity-closeout:{need.id}:{user.id}:{'end' if ended else since.isoformat()}"
        enqueue(
            key,
            user,
            "activity_closeout",
            need=need,
            ended=ended,
            proposal_id=link.proposal_id,
        )
        asked += 1
    db.session.commit()
    return {"asked": asked}
