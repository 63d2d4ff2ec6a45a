"""Rules about "today" use Copenhagen's date: at 00:30 local the UTC date is still yesterday."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from support import factories
from volunteer.extensions import db
from volunteer.models import Role
from volunteer.needs import manage, signup
from volunteer.needs.manage import NeedData, NeedError
from volunteer.needs.services import sync_occurrences
from volunteer.needs.signup import NotEligible
from volunteer.volunteers.models import AvailabilityWindow

# 00:30 in Copenhagen on the fall-back day (Sunday 25 October 2026) and on the spring-forward day.
AT_HALF_PAST_MIDNIGHT = [
    (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), date(2026, 10, 24)),
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),
]


@pytest.fixture
def need(app):
    org = factories.organisation("Hedensted Kommune")
    activity = factories.activity_type("lektiecafe", child=True)
    need = factories.need(
        org, activity, requires_child_certificate=True, first_date=date(2026, 1, 1)
    )
    # Dates ahead of both test days (a need without any is finished and takes no sign-up).
    sync_occurrences(need, date(2026, 3, 1), weeks=40)
    return need


def _volunteer(**profile):
    volunteer = factories.user()
    volunteer.profile.availability.append(
        AvailabilityWindow(weekday=3, start_time=time(17), end_time=time(20))
    )
    for field, value in profile.items():
        setattr(volunteer.profile, field, value)
    db.session.commit()
    return volunteer


@pytest.mark.parametrize(("now", "yesterday"), AT_HALF_PAST_MIDNIGHT)
def test_a_certificate_that_expired_yesterday_no_longer_counts(need, now, yesterday):
    volunteer = _volunteer(child_cert_valid_until=yesterday)
    with pytest.raises(NotEligible) as refused:
        signup.sign_up(volunteer, need.id, now)
    assert "certificate_missing" in refused.value.reasons


@pytest.mark.parametrize(("now", "yesterday"), AT_HALF_PAST_MIDNIGHT)
def test_a_pause_that_ended_yesterday_is_over(need, now, yesterday):
    volunteer = _volunteer(paused_until=yesterday, child_cert_valid_until=date(2030, 1, 1))
    result = signup.sign_up(volunteer, need.id, now)
    assert result.assignment.volunteer_id == volunteer.id


@pytest.mark.parametrize(("now", "yesterday"), AT_HALF_PAST_MIDNIGHT)
def test_a_one_off_need_cannot_be_posted_for_yesterday(app, now, yesterday):
    org = factories.organisation("Hedensted Kommune")
    coordinator = factories.user(role=Role.COORDINATOR, organisations=[org])
    activity = factories.activity_type("spisevenner")
    data = NeedData(
        organisation_id=org.id,
        activity_type_id=activity.id,
        title="Spiseven en enkelt aften",
        description="",
        centre_id=None,
        postcode="7130",
        address=None,
        local_area_id=None,
        schedule="once",
        weekday=yesterday.weekday(),
        first_date=yesterday,
        last_date=None,
        start_time=time(17, 30),
        end_time=time(19),
        skip_holidays=False,
        slots=1,
        requires_child_certificate=False,
        languages=[],
    )
    with pytest.raises(NeedError) as refused:
        manage.create_need(coordinator, data, now, open_now=True)
    assert (refused.value.field, refused.value.code) == ("first_date", "in_past")
