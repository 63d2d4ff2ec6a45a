"""Coordinators' volunteer list and detail: scope, filters, paging, audit, børneattest."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from support import count_queries, factories
from support.auth import log_in
from support.factories import coordinator, member
from volunteer.clock import to_local
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import AuditEvent, AvailabilityWindow, LocalArea, Role, User
from volunteer.volunteers import staff


def _today() -> date:
    return to_local(utcnow()).date()


@pytest.fixture
def orgs():
    return factories.organisation("Ældre Sagen"), factories.organisation("Røde Kors")


def test_a_coordinator_sees_only_their_organisations_volunteers(client, orgs):
    mine, theirs = orgs
    member(mine, name="Anna Egen")
    member(theirs, name="Bo Fremmed")
    factories.user(name="Cilla Ingen")
    log_in(client, coordinator(mine))
    page = client.get("/koordinator/frivillige").get_data(as_text=True)
    assert "<h1>Frivillige</h1>" in page
    assert "Anna Egen" in page and "Bo Fremmed" not in page and "Cilla Ingen" not in page
    assert "1 frivillig" in page


def test_an_admin_sees_everyone(client, orgs):
    member(orgs[0], name="Anna Egen")
    factories.user(name="Cilla Ingen")
    log_in(client, factories.user(role=Role.ADMIN))
    page = client.get("/koordinator/frivillige").get_data(as_text=True)
    assert "Anna Egen" in page and "Cilla Ingen" in page


def test_filters(client, orgs):
    org = orgs[0]
    area = LocalArea(name="Juelsminde", postcode="7130")
    db.session.add(area)
    activity = factories.activity_type("lektiecafe")
    today = _today()
    anna = member(org, name="Anna Areal")
    anna.profile.local_area = area
    anna.profile.interests.append(activity)
    anna.profile.availability.append(
        AvailabilityWindow(weekday=2, start_time=time(10), end_time=time(12))
    )
    anna.profile.child_cert_checked_on = today - timedelta(days=10)
    anna.profile.child_cert_valid_until = today + timedelta(days=700)
    bo = member(org, name="Bo Borte")
    bo.profile.child_cert_checked_on = today - timedelta(days=800)
    bo.profile.child_cert_valid_until = today - timedelta(days=70)
    member(org, name="Cilla Certløs")
    db.session.commit()
    log_in(client, coordinator(org))

    def names(query: str) -> set[str]:
        page = client.get(f"/koordinator/frivillige?{query}").get_data(as_text=True)
        return {n for n in ("Anna Areal", "Bo Borte", "Cilla Certløs") if n in page}

    assert names("") == {"Anna Areal", "Bo Borte", "Cilla Certløs"}
    assert names(f"area={area.id}") == {"Anna Areal"}
    assert names(f"activity={activity.id}") == {"Anna Areal"}
    assert names("weekday=2") == {"Anna Areal"}
    assert names("weekday=3") == set()
    assert names("certificate=valid") == {"Anna Areal"}
    assert names("certificate=expired") == {"Bo Borte"}
    assert names("certificate=none") == {"Cilla Certløs"}
    assert names("certificate=bogus") == {"Anna Areal", "Bo Borte", "Cilla Certløs"}


def test_the_list_is_paginated_with_a_fixed_number_of_queries(client, orgs):
    org = orgs[0]
    activity = factories.activity_type()
    boss = coordinator(org)
    log_in(client, boss)

    def add(n: int) -> None:
        for _ in range(n):
            v = member(org)
            v.profile.interests.append(activity)
            v.profile.availability.append(
                AvailabilityWindow(weekday=1, start_time=time(10), end_time=time(12))
            )
        db.session.commit()

    add(3)
    few = count_queries(client, "/koordinator/frivillige")
    add(staff.PAGE_SIZE)
    many = count_queries(client, "/koordinator/frivillige")
    assert few == many
    page_two = client.get("/koordinator/frivillige?side=2").get_data(as_text=True)
    assert 'aria-current="page">2</a>' in page_two
    result = staff.volunteer_list(boss, staff.VolunteerFilter(), _today(), page=2)
    assert (result.total, result.pages, len(result.profiles)) == (28, 2, 3)


def test_viewing_a_volunteer_is_audited(client, orgs):
    volunteer = member(orgs[0], name="Anna Egen", phone="+45 11 22 33 44")
    boss = coordinator(orgs[0])
    log_in(client, boss)
    page = client.get(f"/koordinator/frivillige/{volunteer.id}").get_data(as_text=True)
    assert "<h1>Anna Egen</h1>" in page and "+45 11 22 33 44" in page and "Ældre Sagen" in page
    event_row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volunteer.viewed"))
    assert (event_row.actor_id, event_row.object_type, event_row.object_id) == (
        boss.id,
        "user",
        volunteer.id,
    )


def test_a_coordinator_gets_404_for_a_volunteer_outside_their_organisations(client, orgs):
    stranger = member(orgs[1])
    log_in(client, coordinator(orgs[0]))
    assert client.get(f"/koordinator/frivillige/{stranger.id}").status_code == 404
    today = _today().isoformat()
    response = client.post(
        f"/koordinator/frivillige/{stranger.id}",
        data={"checked_on": today, "valid_until": today},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, stranger.id).profile.child_cert_checked_on is None
    assert db.session.scalar(select(AuditEvent)) is None


def test_recording_a_child_certificate_check(client, orgs):
    volunteer = member(orgs[0])
    boss = coordinator(orgs[0], name="Mette Koordinator")
    log_in(client, boss)
    checked, until = _today() - timedelta(days=1), _today() + timedelta(days=730)
    response = client.post(
        f"/koordinator/frivillige/{volunteer.id}",
        data={"checked_on": checked.isoformat(), "valid_until": until.isoformat()},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Børneattesten er registreret som tjekket." in page
    assert "af Mette Koordinator, gyldig til" in page
    db.session.expire_all()
    profile = db.session.get(User, volunteer.id).profile
    assert (profile.child_cert_checked_on, profile.child_cert_valid_until) == (checked, until)
    assert profile.child_cert_checked_by_id == boss.id
    recorded = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "volunteer.child_certificate_recorded")
    )
    assert recorded.actor_id == boss.id and recorded.object_id == volunteer.id


@pytest.mark.parametrize(
    ("checked", "until", "message"),
    [
        (1, 100, "Datoen for tjekket kan ikke ligge i fremtiden."),
        (-10, -11, "Den kan ikke udløbe, før den blev tjekket."),
    ],
)
def test_bad_certificate_dates_are_refused(client, orgs, checked, until, message):
    volunteer = member(orgs[0])
    log_in(client, coordinator(orgs[0]))
    today = _today()
    response = client.post(
        f"/koordinator/frivillige/{volunteer.id}",
        data={
            "checked_on": (today + timedelta(days=checked)).isoformat(),
            "valid_until": (today + timedelta(days=until)).isoformat(),
        },
    )
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, volunteer.id).profile.child_cert_checked_on is None


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.CENTRE])
def test_other_roles_are_refused(client, orgs, role):
    volunteer = member(orgs[0])
    log_in(client, factories.user(role=role))
    assert client.get("/koordinator/frivillige").status_code == 403
    assert client.get(f"/koordinator/frivillige/{volunteer.id}").status_code == 403


def test_anonymous_users_go_to_login(client):
    response = client.get("/koordinator/frivillige")
    assert response.status_code == 302 and "/konto/log-ind" in response.headers["Location"]
