"""The demo world has a year of history, so the report page, its charts and the committee page
show real figures straight after `make run`, and the same figures every time."""

from __future__ import annotations

import re
from datetime import date, time

from sqlalchemy import func, select

from support.auth import log_in
from volunteer import demo
from volunteer.clock import local_to_utc, local_today
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import Role, User, Visit, VisitState
from volunteer.reports import services
from volunteer.reports.periods import Period, last_months, previous_quarter

TODAY = date(2026, 11, 27)


def _figures(today: date) -> tuple:
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    now = local_to_utc(today, time(12))
    report = services.report_for(admin, None, last_months(today), now, "da")
    t = report.total
    months = [(m.label, m.visits_held, m.no_shows, m.hours) for m in report.by_month]
    states = dict(
        db.session.execute(select(Visit.state, func.count(Visit.id)).group_by(Visit.state)).all()
    )
    return (
        (t.active_volunteers, t.new_volunteers, t.needs_opened, t.needs_filled),
        (t.visits_held, t.no_shows, t.hours),
        months,
        states,
    )


def _wipe() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def test_the_demo_has_a_year_of_history_and_the_same_one_every_time(app):
    demo.seed(today=TODAY, volunteers=40)
    first = _figures(TODAY)
    (active, new, opened, filled), (held, no_shows, hours), months, states = first
    assert active >= 10 and new > 0 and opened > 0 and filled > 0
    assert held > 100 and no_shows > 0 and hours > held  # most visits last 1½–2 hours
    assert 0.02 < no_shows / (held + no_shows) < 0.15
    assert states[VisitState.CANCELLED] > 0 and states[VisitState.SCHEDULED] > 0
    # Every month but the current one has visits held.
    assert all(visits > 0 for _, visits, _, _ in months[:-1]), months
    year, quarter = previous_quarter(TODAY)
    start = date(year, 3 * quarter - 2, 1)
    committee = services.report_for(
        db.session.scalar(select(User).where(User.role == Role.ADMIN)),
        None,
        Period(start, date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)),
        local_to_utc(TODAY, time(12)),
        "da",
    )
    assert committee.total.visits_held > 0 and committee.total.hours > 0

    _wipe()
    demo.seed(today=TODAY, volunteers=40)
    assert _figures(TODAY) == first


def test_the_report_and_committee_pages_show_the_history(app, client):
    demo.seed(today=local_today(utcnow()), volunteers=40)
    log_in(client, "koordinator@example.org", demo.DEMO_PASSWORD)
    page = client.get("/rapporter/").get_data(as_text=True)
    figures = dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>([^<]+)</dd>", page))
    assert figures, "no key figures on the report page"
    assert all(value not in ("0", "0,0%", "–") for value in figures.values()), figures
    assert page.count('class="chart-bar"') >= 12
    # The forløb figures (#13): persons waiting, how long they wait, pairs and how long they last.
    pairs = dict(re.findall(r'data-figure="(\w+)">([^<]+)<', page))
    for name in ("persons_waiting", "median_waiting_days", "active_pairs", "median_pair_days"):
        assert pairs[name] not in ("0", "–"), pairs
    assert pairs["ended_within_a_year"] != "–", pairs
    status = client.get("/rapporter/status").get_data(as_text=True)
    said = re.search(r"(\d+) besøg gennemført, ([\d,.]+) timer givet af (\d+) frivillige", status)
    assert said and all(n not in ("0", "0,0") for n in said.groups()), said


def test_the_demo_keeps_an_account_for_someone_without_email(app, client):
    from volunteer.models import Assignment, AssignmentState

    demo.seed(today=TODAY, volunteers=40)
    else_ = db.session.scalar(select(User).where(User.name == demo.KEPT_NAME))
    assert else_.id == 57  # tests/e2e/e2e_helpers.py PAGES names this id
    assert else_.managed and else_.email is None and else_.phone == demo.KEPT_PHONE
    assert else_.profile.has_valid_child_certificate(TODAY)
    [held] = db.session.scalars(select(Assignment).where(Assignment.volunteer_id == else_.id))
    assert held.state == AssignmentState.ACCEPTED
    assert held.need.title.startswith("Lektiecafé") and held.need.requires_child_certificate
    log_in(client, "koordinator@example.org", demo.DEMO_PASSWORD)
    for path in ("", "/tider", "/tilmeld"):
        assert client.get(f"/koordinator/frivillige/{else_.id}{path}").status_code == 200
