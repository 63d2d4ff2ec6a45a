"""The lektiecafé rule with MitID's age assurance: a need with children (one asking for a child
certificate) needs a helper of 18 or older. Only a MitID login that said "not adult" holds a
volunteer back; without age assurance nothing changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

import matching
from support import factories
from volunteer.auth.models import OidcLink
from volunteer.coordination import proposals
from volunteer.extensions import db
from volunteer.needs import signup
from volunteer.needs.eligibility import (
    reasons_not_eligible,
    suggestions,
    to_matching_need,
    to_matching_volunteer,
)
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers.models import AvailabilityWindow

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _world(adult: bool | None, certificate: bool = True):  # type: ignore[no-untyped-def]
    org, activity = factories.organisation(), factories.activity_type("lektiecafe", child=True)
    need = factories.need(org, activity, requires_child_certificate=True)
    sync_occurrences(need, NOW.date(), weeks=4)
    volunteer = factories.member(org)
    volunteer.profile.max_km = 50
    volunteer.profile.availability = [
        AvailabilityWindow(weekday=3, start_time=time(8), end_time=time(22))
    ]
    if certificate:
        volunteer.profile.child_cert_checked_on = date(2026, 1, 1)
        volunteer.profile.child_cert_valid_until = date(2027, 12, 31)
    db.session.add(
        OidcLink(
            provider="mitid",
            subject="sub",
            user=volunteer,
            approved_at=NOW,
            adult=adult,
        )
    )
    db.session.commit()
    return org, need, volunteer


@pytest.mark.parametrize("adult", [True, None])
def test_an_adult_or_an_unknown_age_may_help(app, adult):
    _org, need, volunteer = _world(adult)
    assert reasons_not_eligible(volunteer, need, NOW) == ()
    assert not signup.sign_up(volunteer, need.id, NOW).waitlisted


def test_a_volunteer_mitid_says_is_under_18_cannot_help_in_the_lektiecafe(app):
    _org, need, volunteer = _world(adult=False)
    assert reasons_not_eligible(volunteer, need, NOW) == ("under_18",)
    with pytest.raises(signup.NotEligible) as caught:
        signup.sign_up(volunteer, need.id, NOW)
    assert caught.value.reasons == ("under_18",)
    # The engine (the matching and the suggestions) leaves the pair out by the same rule.
    today = NOW.date()
    assert matching.explain_infeasible(
        to_matching_volunteer(volunteer.profile, today), to_matching_need(need)
    ) == ("certificate_missing",)
    assert suggestions(volunteer, NOW) == []


def test_both_reasons_are_told_when_the_certificate_is_missing_too(app):
    _org, need, volunteer = _world(adult=False, certificate=False)
    assert reasons_not_eligible(volunteer, need, NOW) == ("certificate_missing", "under_18")


def test_a_need_without_children_does_not_ask_the_age(app):
    org, _need, volunteer = _world(adult=False)
    other = factories.need(org, factories.activity_type("spisevenner"))
    sync_occurrences(other, NOW.date(), weeks=4)
    assert reasons_not_eligible(volunteer, other, NOW) == ()


def test_the_matching_loads_the_age_assurance_with_the_volunteers(app):
    org, _need, volunteer = _world(adult=False)
    (profile,) = proposals.eligible_profiles(org.id, NOW.date())
    assert "oidc_links" in profile.user.__dict__  # loaded in bulk, not one query per volunteer
    assert "adult" not in to_matching_volunteer(profile, NOW.date()).certificates


def test_the_need_page_says_why_in_danish(client, auth, app):
    _org, need, volunteer = _world(adult=False)
    auth(volunteer)
    page = client.get(f"/opgaver/{need.id}").get_data(as_text=True)
    assert "18 år" in page
