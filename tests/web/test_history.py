"""The volunteer's own history, yearly hours and certificate of volunteering."""

from __future__ import annotations

from datetime import date, time

import pytest

from support import factories
from support.auth import log_in
from support.factories import assignment, member, occurrence, visit
from volunteer.clock import local_to_utc
from volunteer.extensions import db
from volunteer.models import VisitState
from volunteer.reports import history


@pytest.fixture
def data(app):
    org = factories.organisation("Hedensted Kommune")
    spise, lektie = factories.activity_type("spisevenner"), factories.activity_type("lektiecafe")
    dinner = factories.need(org, spise, title="Spiseven")
    homework = factories.need(org, lektie, title="Lektiehjælp")
    me, other = member(org, name="Karen Jensen"), member(org, name="Ole Olsen")
    assignment(dinner, me)

    def add(need, who, day, hour, minute, state, hours=None):
        v = visit(occurrence(need, local_to_utc(day, time(hour, minute))), who, state=state)
        v.hours = hours
        db.session.commit()
        return v

    # 00.30 on New Year's Day is still 2025 in UTC; both DST days of 2026 are in.
    add(dinner, me, date(2025, 12, 31), 17, 0, VisitState.CONFIRMED, 1)
    add(dinner, me, date(2026, 1, 1), 0, 30, VisitState.CONFIRMED, 2)
    add(dinner, me, date(2026, 3, 29), 0, 30, VisitState.CONFIRMED, 2.5)
    add(homework, me, date(2026, 10, 25), 23, 30, VisitState.CONFIRMED, 1.5)
    add(homework, me, date(2026, 10, 1), 15, 0, VisitState.NO_SHOW)
    add(dinner, me, date(2026, 6, 4), 17, 30, VisitState.CANCELLED)
    add(dinner, other, date(2026, 3, 29), 10, 0, VisitState.CONFIRMED, 9)
    return {"me": me, "other": other}


def test_yearly_summary_in_local_years(data):
    years = history.yearly_summary(data["me"])
    assert [(y.year, y.hours, y.visits) for y in years] == [(2026, 6.0, 3), (2025, 1.0, 1)]


def test_history_page(client, data):
    log_in(client, data["me"])
    page = client.get("/min-side/historik").get_data(as_text=True)
    assert "Du gav 6 timer i 2026" in page and "Du gav 1 time i 2025" in page
    assert "29.03.2026 00.30" in page and "25.10.2026 23.30" in page
    assert "01.01.2026 00.30" in page
    assert "Udeblevet" in page  # their own no-show, shown to them
    assert 'href="/min-side/historik/bevis"' in page
    assert 'href="/min-side/historik"' in client.get("/min-side/besoeg").get_data(as_text=True)


def test_no_show_is_never_shown_to_other_volunteers(client, data):
    log_in(client, data["other"])
    page = client.get("/min-side/historik").get_data(as_text=True)
    assert "Udeblevet" not in page and "Karen" not in page
    assert "Du gav 9 timer i 2026" in page
    assert page.count("<tr>") == 2  # the header and their one visit


def test_certificate(client, data):
    log_in(client, data["me"])
    page = client.get("/min-side/historik/bevis").get_data(as_text=True)
    assert "Bevis for frivilligt arbejde" in page
    assert "Karen Jensen har udført frivilligt arbejde gennem Samskab." in page
    assert "Periode: 31.12.2025 til 25.10.2026. I alt 7 timer." in page
    assert "Spisevenner" in page and "Lektiecafe" in page and "Hedensted Kommune" in page
    assert "31.12.2025–29.03.2026" in page and "25.10.2026–25.10.2026" in page
    assert "Udeblevet" not in page
    assert "css/print.css" in page and "style=" not in page
