"""Paper: a volunteer's schedule and a centre's week as real A4 PDFs, read back with pypdf: Danish
dates with weekdays, æøå intact, nothing under 14 pt, and only for whom it is about."""

from __future__ import annotations

import io
import re
from datetime import time, timedelta

import pytest
from pypdf import PdfReader

from support import factories
from support.auth import log_in
from volunteer import printing
from volunteer.audit import AuditEvent
from volunteer.clock import local_today, to_local
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.i18n import long_date
from volunteer.models import Role
from volunteer.needs import signup
from volunteer.needs.services import sync_occurrences


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    other = factories.organisation("Røde Kors")
    centre = factories.centre(org, name="Plejecenter Åbo")
    far = factories.centre(other, name="Plejecenter Solvang")
    mette = factories.coordinator(
        org, name="Mette Hansen", email="mette@example.org", phone="+45 75 00 00 01"
    )
    day = local_today(utcnow()) + timedelta(days=2)
    need = factories.need(
        org,
        factories.activity_type("spisevenner"),
        title="Spiseven på Åbo",
        weekday=day.weekday(),
        first_date=day,
        start_time=time(17, 30),
        end_time=time(19),
        centre=centre,
        contact=mette,
    )
    sync_occurrences(need, local_today(utcnow()))
    db.session.commit()
    søren = factories.free_volunteer(
        org, name="Søren Ærø-Østergård", email="soeren@example.org", phone="+45 20 30 40 50"
    )
    signup.sign_up(søren, need.id, utcnow())
    return {
        "org": org,
        "centre": centre,
        "mette": mette,
        "søren": søren,
        "day": day,
        "stranger": factories.coordinator(other),
        "staff": factories.user(role=Role.CENTRE, centres=[centre]),
        "other_staff": factories.user(role=Role.CENTRE, centres=[far]),
        "other_volunteer": factories.free_volunteer(org),
    }


def _long(app, day) -> str:
    with app.test_request_context():
        return long_date(day)  # e.g. "lørdag den 5. december 2026"


def _read(response) -> tuple[PdfReader, str]:
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"[ \t]+", " ", text)


def _font_sizes(reader: PdfReader) -> set[float]:
    sizes = set()
    for page in reader.pages:
        content = page.get_contents().get_data().decode("latin-1")
        sizes.update(float(size) for size in re.findall(r"/F\d+ ([\d.]+) Tf", content))
    return sizes


def test_a_volunteer_prints_their_coming_visits(app, client, world):
    log_in(client, world["søren"])
    assert "Udskriv mine besøg (PDF)" in client.get("/min-side/besoeg").get_data(as_text=True)
    reader, text = _read(client.get("/min-side/besoeg/skema.pdf"))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "Besøg for Søren Ærø-Østergård" in text
    assert _long(app, world["day"]) in text and "kl. 17.30" in text and "19.00" in text
    assert "Spiseven på Åbo" in text and "Plejecenter Åbo" in text
    assert "Mette Hansen: +45 75 00 00 01" in text
    assert "Side 1 af 1" in text
    assert min(_font_sizes(reader)) >= printing.BODY_PT


def test_a_coordinator_prints_a_volunteers_schedule_and_it_is_audited(client, world):
    log_in(client, world["mette"])
    url = f"/koordinator/frivillige/{world['søren'].id}/skema.pdf"
    _reader, text = _read(client.get(url))
    assert "Spiseven på Åbo" in text
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "volunteer.viewed" in actions


def test_the_centre_prints_its_week_with_the_volunteers_phone(app, client, world):
    log_in(client, world["staff"])
    monday = world["day"] - timedelta(days=world["day"].weekday())
    week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
    reader, text = _read(client.get(f"/center/uge.pdf?uge={week}"))
    assert f"uge {monday.isocalendar().week}" in text and "Plejecenter Åbo" in text
    assert "Søren Ærø-Østergård, tlf. +45 20 30 40 50" in text
    assert "Kom ikke" in text and _long(app, world["day"]) in text
    assert min(_font_sizes(reader)) >= printing.BODY_PT
    # Another centre's list has nothing of it.
    elsewhere = app.test_client()
    log_in(elsewhere, world["other_staff"])
    _reader, other = _read(elsewhere.get(f"/center/uge.pdf?uge={week}"))
    assert "Søren" not in other and "Der er ingen besøg i denne uge." in other


def test_a_bad_week_gets_a_message(client, world):
    log_in(client, world["staff"])
    response = client.get("/center/uge.pdf?uge=uge-49", follow_redirects=True)
    assert "Vælg en uge som 2026-W49." in response.get_data(as_text=True)


def test_nobody_prints_someone_elses_schedule(app, client, world):
    url = f"/koordinator/frivillige/{world['søren'].id}/skema.pdf"
    stranger = app.test_client()
    log_in(stranger, world["stranger"])
    assert stranger.get(url).status_code == 404
    log_in(client, world["other_volunteer"])
    assert client.get(url).status_code == 403
    _reader, own = _read(client.get("/min-side/besoeg/skema.pdf"))
    assert "Søren" not in own and "Du har ingen besøg i disse uger." in own


def test_without_dejavu_the_builtin_font_keeps_danish_and_folds_the_rest(app, world):
    with app.test_request_context():
        sheet = printing.Sheet("Prøve", to_local(utcnow()).date())
    sheet.unicode = False
    assert sheet.text("Æble Øst Å – Łukasz Dvořák") == "Æble Øst Å - Lukasz Dvorák"
