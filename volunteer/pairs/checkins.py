""" "Hvordan går det?": four weeks after a forløb starts and then every three months, its
volunteer (and the person's contact person, where they have an email address) is asked how it
goes, with one-click answers: good, would like to talk to a coordinator, would like to stop.
An answer other than good is a task for the organisation's coordinators (their start page and
/koordinator/forloeb) until one of them marks it handled.

``forloeb_checkins`` is the scheduler's job. Each due date is asked once per respondent: the
check-in row is unique on (forløb, due date, respondent) and the mail's dedup key names the
same, so a rerun or a second scheduler sends nothing twice. The forløb is re-checked at run
time (still active, the volunteer still active); only the latest due date is asked, so a late
first run does not send a pile of old questions.

The answer links are bearer links (``notifications.links``): only the delivered mail carries
the signed token, which names one check-in and one answer. The link opens a page with one
button (a GET never changes anything: mail scanners open links). The question goes on the
volunteer's channels (``notifications.services.channels_for``); an SMS has room for one short
link only, so it carries a link that names the check-in and ``ASK`` (no answer): its page has
the three answers as buttons.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import User
from volunteer.clock import local_today
from volunteer.coordination.services import coordinators_of, organisation_ids
from volunteer.extensions import db
from volunteer.jobs.maintenance import months_before
from volunteer.notifications import links
from volunteer.notifications.links import BearerLink
from volunteer.notifications.services import (
    Addressee,
    already_enqueued,
    channel_key,
    channels_for,
    enqueue,
    notify,
)
from volunteer.pairs.models import (
    CheckinAnswer,
    Forloeb,
    ForloebCheckin,
    ForloebState,
    Respondent,
)
from volunteer.persons.services import is_staff_of
from volunteer.urls import external_url

LINK = "forloeb-checkin"
SALT = "samskab.forloeb-checkin"
FIRST_AFTER = timedelta(weeks=4)
EVERY_MONTHS = 3
MAX_AGE_S = 60 * 24 * 3600
# The token of the SMS's one link: the page offers all three answers.
ASK = "ask"


class BadLink(Exception):
    """The link is malformed, too old, or its check-in is gone."""


def months_after(day: date, months: int) -> date:
    """The same day of the month ``months`` later (the last day, where that month is shorter)."""
    return months_before(day, -months)


def due_dates(start: date, until: date) -> list[date]:
    """The check-in dates of a forløb that started on ``start``, up to ``until``: four weeks
    after the start, then every three months after that."""
    first = start + FIRST_AFTER
    dates: list[date] = []
    n = 0
    while (day := months_after(first, EVERY_MONTHS * n)) <= until:
        dates.append(day)
        n += 1
    return dates


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(checkin_id: int, answer: str) -> str:
    return str(_signer().dumps([checkin_id, answer]))


@links.minter(LINK)
def _mint(checkin_id: int, answer: str) -> str:
    return external_url("pairs.checkin", token=make_token(checkin_id, answer))


def read(token: str) -> tuple[ForloebCheckin, CheckinAnswer | None]:
    """The check-in and answer a valid link names (None for the SMS's ``ASK`` link, which
    leaves the answer to the page); BadLink otherwise."""
    try:
        checkin_id, answer = _signer().loads(token, max_age=MAX_AGE_S)
    except (BadSignature, TypeError, ValueError) as exc:
        raise BadLink from exc
    if not isinstance(checkin_id, int) or (answer not in set(CheckinAnswer) and answer != ASK):
        raise BadLink
    checkin = db.session.get(ForloebCheckin, checkin_id)
    if checkin is None or checkin.forloeb.person.anonymised_at is not None:
        raise BadLink
    return checkin, None if answer == ASK else CheckinAnswer(answer)


def answer_by_link(token: str, now: datetime, chosen: str | None = None) -> ForloebCheckin:
    """Record the link's answer, or for an ``ASK`` link the ``chosen`` one (BadLink when that
    is none of the answers). The first answer counts; a second click changes nothing. An
    answer other than good tells the coordinators. Commits."""
    checkin, answer = read(token)
    if answer is None:
        if chosen not in set(CheckinAnswer):
            raise BadLink
        answer = CheckinAnswer(str(chosen))
    if checkin.answer is not None:
        return checkin
    checkin.answer = answer
    checkin.answered_at = now
    forloeb = checkin.forloeb
    if answer != CheckinAnswer.GOOD:
        for coordinator in coordinators_of(forloeb.organisation_id):
            enqueue(
                f"forloeb-checkin-task:{checkin.id}:{coordinator.id}",
                coordinator,
                "forloeb_checkin_task",
                forloeb=forloeb,
                checkin=checkin,
            )
    audit.record(
        "forloeb.checkin_answered", "forloeb", forloeb.id, actor_id=None, answer=str(answer)
    )
    db.session.commit()
    return checkin


def forloeb_checkins(app: Flask, now: datetime) -> dict[str, int]:
    """Ask every active forløb's volunteer (and the person's contact) on the latest due date
    that has come (see the module's docstring). Commits."""
    today = local_today(now)
    active = db.session.scalars(
        select(Forloeb)
        .where(Forloeb.state == ForloebState.ACTIVE, Forloeb.activated_on.is_not(None))
        .options(selectinload(Forloeb.person), selectinload(Forloeb.volunteer))
        .order_by(Forloeb.id)
    ).all()
    counts: Counter[str] = Counter()
    for forloeb in active:
        start = max(forloeb.start_date, forloeb.activated_on or forloeb.start_date)
        dates = due_dates(start, today)
        volunteer = forloeb.volunteer
        if not dates or forloeb.person.anonymised_at is not None:
            continue
        due = dates[-1]
        respondents: list[tuple[Respondent, User | Addressee]] = []
        if volunteer.is_active and volunteer.deleted_at is None:
            respondents.append((Respondent.VOLUNTEER, volunteer))
        person = forloeb.person
        if person.contact_email:
            respondents.append(
                (Respondent.CONTACT, Addressee(person.contact_email, person.contact_name or ""))
            )
        for respondent, recipient in respondents:
            key = f"forloeb-checkin:{forloeb.id}:{due.isoformat()}:{respondent}"
            checkin = db.session.scalar(
                select(ForloebCheckin).where(
                    ForloebCheckin.forloeb_id == forloeb.id,
                    ForloebCheckin.due_on == due,
                    ForloebCheckin.respondent == respondent,
                )
            )
            if checkin is None:
                checkin = ForloebCheckin(
                    forloeb=forloeb, due_on=due, respondent=respondent, asked_at=now
                )
                db.session.add(checkin)
                db.session.flush()
            elif checkin.answer is not None:
                continue
            channels = channels_for(recipient)
            if not channels or any(already_enqueued(channel_key(key, c)) for c in channels):
                continue
            notify(
                key,
                recipient,
                "forloeb_checkin",
                forloeb=forloeb,
                checkin=checkin,
                respondent=str(respondent),
                due=due,
                answers={
                    a.value: BearerLink(LINK, checkin_id=checkin.id, answer=a.value)
                    for a in CheckinAnswer
                },
                ask=BearerLink(LINK, checkin_id=checkin.id, answer=ASK),
            )
            counts[str(respondent)] += 1
        db.session.commit()
    return {"volunteers": counts["volunteer"], "contacts": counts["contact"]}


# The coordinators' tasks.


def tasks(viewer: User, limit: int | None = None) -> tuple[list[ForloebCheckin], int]:
    """Answers other than good that no coordinator has handled, the oldest first, for the
    viewer's organisations (up to ``limit``); and how many there are. Two queries."""
    query = (
        select(ForloebCheckin)
        .join(ForloebCheckin.forloeb)
        .where(
            ForloebCheckin.answer.is_not(None),
            ForloebCheckin.answer != CheckinAnswer.GOOD,
            ForloebCheckin.handled_at.is_(None),
        )
    )
    ids = organisation_ids(viewer)
    if ids is not None:
        query = query.where(Forloeb.organisation_id.in_(ids))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(
            selectinload(ForloebCheckin.forloeb).selectinload(Forloeb.person),
            selectinload(ForloebCheckin.forloeb).selectinload(Forloeb.volunteer),
        )
        .order_by(ForloebCheckin.answered_at, ForloebCheckin.id)
        .limit(limit)
    ).all()
    return list(rows), total


def mark_handled(viewer: User, checkin_id: int, now: datetime) -> ForloebCheckin:
    """A coordinator of the forløb's organisation has talked to them: the task is done."""
    checkin = db.session.get(ForloebCheckin, checkin_id)
    if checkin is None or not is_staff_of(viewer, checkin.forloeb.organisation_id):
        raise NotFound
    if checkin.handled_at is None:
        checkin.handled_at = now
        checkin.handled_by_id = viewer.id
        audit.record("forloeb.checkin_handled", "forloeb", checkin.forloeb_id, actor_id=viewer.id)
        db.session.commit()
    return checkin
