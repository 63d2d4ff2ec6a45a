"""Visit reminders and follow-ups, with an injected ``now`` (DST days included)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from jobs_support import utc, visit
from sqlalchemy import select

from support import delivered_text, factories
from volunteer.extensions import db
from volunteer.jobs.visits import visit_followups, visit_reminders
from volunteer.models import OccurrenceStatus, OutboxMessage, Role, VisitState


def _outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    ("day", "expected_utc", "weekday"),
    [
        # Summer time starts 29 March 2026: 17.00 on the 30th is 15:00 UTC.
        (date(2026, 3, 30), "2026-03-29T15:00:00+00:00", "mandag den 30. marts 2026"),
        # Summer time ends 25 October 2026: 17.00 on the 26th is 16:00 UTC.
        (date(2026, 10, 26), "2026-10-25T16:00:00+00:00", "mandag den 26. oktober 2026"),
    ],
)
def test_reminder_24_hours_before_across_daylight_saving(app, day, expected_utc, weekday):
    v = visit(day, time(17))
    due = utc(expected_utc)
    assert visit_reminders(app, due - timedelta(seconds=1)) == {"reminders_24h": 0}
    assert visit_reminders(app, due) == {"reminders_24h": 1}
    (message,) = _outbox()
    assert message.dedup_key == f"visit-reminder:{v.id}:24h"
    assert message.recipient_id == v.volunteer_id
    assert weekday in message.body_text and "kl. 17.00–19.00" in message.body_text
    assert message.subject == f"Påmindelse: Spiseven {weekday} kl. 17.00"
    assert "uge " in message.body_text and "/min-side/afbud/" not in message.body_text
    assert "http://samskab.test/min-side/afbud/" in delivered_text(message)
    assert message.body_html and "17.00" in message.body_html
    assert f"UID:visit-{v.id}@samskab" in message.ics
    assert "DTSTART:" + day.strftime("%Y%m%d") + "T" in message.ics.replace(";VALUE=DATE-TIME", "")


def test_running_twice_creates_no_duplicates(app):
    visit(date(2026, 11, 28), time(10))  # 09:00 UTC
    now = utc("2026-11-27T10:00:00+00:00")
    assert visit_reminders(app, now) == {"reminders_24h": 1}
    assert visit_reminders(app, now) == {"reminders_24h": 0}
    assert visit_reminders(app, now + timedelta(hours=3)) == {"reminders_24h": 0}
    assert len(_outbox()) == 1


def test_a_late_run_still_reminds_but_never_for_a_started_visit(app):
    soon = visit(date(2026, 11, 28), time(12))  # 11:00 UTC
    started = visit(date(2026, 11, 27), time(13))  # 12:00 UTC: begun before the late run
    # Planned at 08:00 UTC, the job runs six hours late.
    late = utc("2026-11-27T14:00:00+00:00")
    assert visit_reminders(app, late) == {"reminders_24h": 1}
    (message,) = _outbox()
    assert message.dedup_key == f"visit-reminder:{soon.id}:24h"
    assert started.id not in {m.recipient_id for m in _outbox()}


def test_no_reminder_for_cancelled_visits_occurrences_or_inactive_volunteers(app):
    day = date(2026, 11, 28)
    visit(day, state=VisitState.CANCELLED)
    cancelled = visit(day)
    cancelled.occurrence.status = OccurrenceStatus.CANCELLED
    gone = visit(day)
    gone.volunteer.active = False
    deleted = visit(day)
    deleted.volunteer.deleted_at = utc("2026-11-01T00:00:00+00:00")
    db.session.commit()
    assert visit_reminders(app, utc("2026-11-27T17:00:00+00:00")) == {"reminders_24h": 0}


def test_english_volunteers_get_english_reminders(app):
    v = visit(date(2026, 11, 28), time(17, 30), volunteer=factories.user(locale="en"))
    visit_reminders(app, utc("2026-11-27T17:00:00+00:00"))
    (message,) = _outbox()
    assert message.locale == "en"
    assert "Saturday 28 November 2026" in message.body_text and "17:30" in message.body_text
    assert v.volunteer.first_name in message.body_text


def test_a_second_reminder_two_hours_before(app):
    app.config["VISIT_REMINDER_HOURS"] = (24, 2)
    v = visit(date(2026, 11, 28), time(17))  # 16:00 UTC
    assert visit_reminders(app, utc("2026-11-27T16:00:00+00:00")) == {
        "reminders_24h": 1,
        "reminders_2h": 0,
    }
    booked_late = visit(date(2026, 11, 28), time(9))  # 08:00 UTC, booked an hour before
    assert visit_reminders(app, utc("2026-11-28T07:00:00+00:00")) == {
        "reminders_24h": 0,
        "reminders_2h": 1,
    }
    assert visit_reminders(app, utc("2026-11-28T14:00:00+00:00")) == {
        "reminders_24h": 0,
        "reminders_2h": 1,
    }
    keys = [m.dedup_key for m in _outbox()]
    assert keys == [
        f"visit-reminder:{v.id}:24h",
        f"visit-reminder:{booked_late.id}:2h",
        f"visit-reminder:{v.id}:2h",
    ]


def test_follow_up_asks_the_centre_staff_once_after_24_hours(app):
    org = factories.organisation()
    centre = factories.centre(org)
    staff = factories.user(Role.CENTRE)
    staff.centres.append(centre)
    db.session.commit()
    v = visit(date(2026, 11, 25), time(10), centre=centre)  # ends 11:00 UTC on the 25th
    visit(date(2026, 11, 25), time(10), centre=centre, state=VisitState.CONFIRMED)
    assert visit_followups(app, utc("2026-11-26T10:59:00+00:00")) == {"visits": 0, "messages": 0}
    assert visit_followups(app, utc("2026-11-26T11:00:00+00:00")) == {"visits": 1, "messages": 1}
    assert visit_followups(app, utc("2026-11-27T11:00:00+00:00")) == {"visits": 1, "messages": 0}
    (message,) = _outbox()
    assert message.recipient_id == staff.id
    assert message.dedup_key == f"visit-followup:{v.id}:{staff.id}"
    assert "onsdag den 25. november 2026" in message.body_text
    assert "http://samskab.test/center/" in message.body_text
