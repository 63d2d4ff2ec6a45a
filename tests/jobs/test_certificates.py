"""The børneattest's renew-by date: one notice 30 days ahead, to whoever renews it and to the
volunteer; after the date (the local date, not the UTC one) sign-up and matching close by
themselves."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from jobs_support import utc

from support import factories, queued
from volunteer.clock import local_today
from volunteer.coordination import proposals
from volunteer.extensions import db
from volunteer.jobs.certificates import certificate_renewals
from volunteer.models import AssignmentState
from volunteer.needs.eligibility import reasons_not_eligible
from volunteer.needs.services import sync_occurrences

VALID_UNTIL = date(2026, 12, 31)
# 30 days before, at 08:00 Danish time (07:00 UTC in winter).
NOTICE_DAY = utc("2026-12-01T07:00:00+00:00")


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    mette = factories.coordinator(org, name="Mette Hansen", email="mette@example.org")
    karl = factories.coordinator(org, name="Karl Nielsen", email="karl@example.org")
    cafe = factories.need(
        org,
        factories.activity_type("lektiecafe", child=True),
        title="Lektiecafé i Juelsminde",
        weekday=1,
        start_time=time(15),
        end_time=time(17),
        first_date=date(2026, 1, 1),
        requires_child_certificate=True,
    )
    sync_occurrences(cafe, date(2026, 12, 1))
    sofie = factories.free_volunteer(org, name="Sofie Sørensen", email="sofie@example.org")
    profile = sofie.profile
    profile.child_cert_checked_on = date(2024, 12, 31)
    profile.child_cert_valid_until = VALID_UNTIL
    profile.child_cert_checked_by = mette
    db.session.commit()
    factories.assignment(cafe, sofie, AssignmentState.ACCEPTED)
    return {"org": org, "mette": mette, "karl": karl, "cafe": cafe, "sofie": sofie}


def test_thirty_days_ahead_the_checker_and_the_volunteer_are_told_once(app, world):
    day_before = NOTICE_DAY - timedelta(days=1)
    assert certificate_renewals(app, day_before)["certificates"] == 0
    assert certificate_renewals(app, NOTICE_DAY) == {
        "certificates": 1,
        "coordinators": 1,
        "volunteers": 1,
    }
    key = f"certificate-renewal:{world['sofie'].profile.id}:2026-12-31"
    (to_mette,) = queued(f"{key}:{world['mette'].id}")
    assert to_mette.recipient_email == "mette@example.org"  # who checked it, not Karl
    assert to_mette.subject == "Børneattesten for Sofie Sørensen skal fornyes senest 31.12.2026"
    assert "gyldig til torsdag den 31. december 2026, om 30 dage" in to_mette.body_text
    assert "  - Lektiecafé i Juelsminde" in to_mette.body_text
    assert f"/koordinator/frivillige/{world['sofie'].id}" in to_mette.body_text
    to_sofie = next(
        m for m in queued("certificate-renewal:") if m.recipient_email == "sofie@example.org"
    )
    assert "Din børneattest er gyldig til torsdag den 31. december 2026" in to_sofie.body_text
    # Reruns, and the days after, send nothing more for the same certificate.
    for later in (NOTICE_DAY, NOTICE_DAY + timedelta(days=1), NOTICE_DAY + timedelta(days=29)):
        result = certificate_renewals(app, later)
        assert result["coordinators"] == result["volunteers"] == 0
    assert len(queued("certificate-renewal:")) == 2


def test_a_late_run_still_tells_but_not_after_the_date(app, world):
    assert certificate_renewals(app, utc("2027-01-01T07:00:00+00:00"))["certificates"] == 0
    assert certificate_renewals(app, NOTICE_DAY + timedelta(days=20))["volunteers"] == 1


def test_a_new_check_gets_its_own_notice(app, world):
    certificate_renewals(app, NOTICE_DAY)
    world["sofie"].profile.child_cert_valid_until = date(2027, 1, 5)
    db.session.commit()
    assert certificate_renewals(app, utc("2026-12-06T07:00:00+00:00"))["volunteers"] == 1


def test_without_the_checker_the_organisations_coordinators_are_told(app, world):
    world["mette"].active = False
    db.session.commit()
    certificate_renewals(app, NOTICE_DAY)
    recipients = {m.recipient_email for m in queued("certificate-renewal:")}
    assert recipients == {"karl@example.org", "sofie@example.org"}


def test_a_deleted_or_inactive_volunteer_is_not_told(app, world):
    world["sofie"].active = False
    db.session.commit()
    assert certificate_renewals(app, NOTICE_DAY)["certificates"] == 0


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        # 31 December, 23:30 in Denmark: still the last valid day.
        (utc("2026-12-31T22:30:00+00:00"), True),
        # 1 January, 00:30 in Denmark, though still 31 December in UTC: closed.
        (utc("2026-12-31T23:30:00+00:00"), False),
    ],
)
def test_after_the_date_the_gate_closes_by_the_local_date(app, world, now, open_):
    sofie, cafe = world["sofie"], world["cafe"]
    sync_occurrences(cafe, local_today(now))
    db.session.commit()
    reasons = reasons_not_eligible(sofie, cafe, now)
    assert ("certificate_missing" not in reasons) is open_
    profiles = proposals.eligible_profiles(world["org"].id, local_today(now))
    matched = proposals.to_matching_volunteer(profiles[0], local_today(now))
    assert ("child" in matched.certificates) is open_
