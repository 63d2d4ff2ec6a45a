"""The people we help (borgere) and referrals (henvisninger): registering with consent, no CPR
numbers, the public referral with its receipt and the decline with its reason, who sees what,
the audit of every view, export, erasure and retention."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import JSON, String, Text, cast, func, select

from support import factories, make_app
from support.auth import log_in
from support.factories import coordinator, member
from volunteer.db import utcnow
from volunteer.extensions import db, limiter
from volunteer.jobs.maintenance import retention
from volunteer.models import (
    AuditEvent,
    OutboxMessage,
    Person,
    PersonState,
    PersonWindow,
    Referral,
    ReferralState,
    Role,
    User,
)
from volunteer.persons import services
from volunteer.volunteers import gdpr

NAME, ADDRESS, PHONE = "Gudrun Testesen", "Fyrrevej 17", "+45 75 11 22 33"
CONTACT, CONTACT_EMAIL = "Lise Testesen", "lise.testesen@example.org"


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    other_org = factories.organisation("Røde Kors")
    area = factories.local_area("Juelsminde", "7130", org)
    factories.local_area("Tørring", "7160", other_org)
    meal = factories.activity_type("spisevenner")
    meal.for_persons = True
    factories.activity_type("lektiecafe")
    db.session.commit()
    return {
        "org": org,
        "other_org": other_org,
        "area": area,
        "meal": meal,
        "coordinator": coordinator(org),
        "other_coordinator": coordinator(other_org),
    }


def _person_form(world, **changes):
    data = {
        "organisation_id": world["org"].id,
        "name": NAME,
        "phone": PHONE,
        "postcode": "7130",
        "address": ADDRESS,
        "local_area_id": 0,
        "activity_type_ids": [world["meal"].id],
        "interests": "Kortspil og haven",
        "languages": ["da"],
        "volunteer_wish": "En kvinde",
        "slot": ["2-16", "2-18"],
        "contact_name": CONTACT,
        "contact_relation": "datter",
        "contact_email": CONTACT_EMAIL,
        "consent_given_by": NAME,
        "consent_given_on": "2026-11-20",
        "consent_method": "oral_to_staff",
        "note": "Bedst om eftermiddagen",
    }
    data.update(changes)
    return data


def _referral_form(world, **changes):
    data = {
        "referrer_name": "Lise Datter",
        "referrer_relation": "relative",
        "referrer_email": "lise.datter@example.org",
        "referrer_phone": "+45 20 30 40 50",
        "person_name": "Inger Mor",
        "person_postcode": "7130",
        "person_address": "Havnevej 3",
        "activity_codes": ["spisevenner"],
        "message": "Hun bor alene og vil gerne have selskab til aftensmad.",
        "consent": "y",
    }
    data.update(changes)
    return data


# Registering a person.


def test_a_coordinator_registers_a_person_with_wishes_windows_and_consent(app, client, world):
    log_in(client, world["coordinator"])
    response = client.post("/koordinator/borgere/ny", data=_person_form(world))
    assert response.status_code == 302
    person = db.session.scalar(select(Person))
    assert person.name == NAME and person.address == ADDRESS and person.phone == PHONE
    assert person.organisation_id == world["org"].id
    assert person.local_area_id == world["area"].id  # chosen from the postcode
    assert (person.postcode, person.town) == ("7130", "Juelsminde")
    assert [a.code for a in person.activity_types] == ["spisevenner"]
    assert [(w.weekday, w.start_time, w.end_time) for w in person.windows] == [
        (2, time(16), time(20))
    ]
    assert person.volunteer_wish == "En kvinde"
    assert (person.consent_given_by, person.consent_given_on, person.consent_method) == (
        NAME,
        date(2026, 11, 20),
        "oral_to_staff",
    )
    assert person.consent_recorded_by_id == world["coordinator"].id
    assert person.state == PersonState.WAITING and person.waiting_since is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert NAME in page and ADDRESS in page and "Mundtligt til en medarbejder" in page


def test_the_wish_for_a_woman_is_saved_as_a_requirement_only_when_ticked(client, world):
    log_in(client, world["coordinator"])
    page = client.get("/koordinator/borgere/ny").get_data(as_text=True)
    assert "Ønsker borgeren en kvinde eller en mand?" in page
    assert "Borgeren har bedt om det som et krav" in page
    data = _person_form(world, wish_gender="woman", wish_required="y")
    assert client.post("/koordinator/borgere/ny", data=data).status_code == 302
    person = db.session.scalar(select(Person))
    assert (person.wish_gender, person.wish_required) == ("woman", True)
    page = client.get(f"/koordinator/borgere/{person.id}").get_data(as_text=True)
    assert "Borgeren har bedt om en kvinde" in page
    edit = _person_form(world, wish_gender="woman")  # the tick removed: only a preference
    assert client.post(f"/koordinator/borgere/{person.id}/rediger", data=edit).status_code == 302
    db.session.expire_all()
    assert (person.wish_gender, person.wish_required) == ("woman", False)


def test_a_requirement_without_a_wish_gets_a_danish_message(client, world):
    log_in(client, world["coordinator"])
    data = _person_form(world, wish_gender="", wish_required="y")
    response = client.post("/koordinator/borgere/ny", data=data)
    assert response.status_code == 200
    assert "Vælg en kvinde eller en mand, eller fjern fluebenet." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_the_note_field_warns_against_cpr_and_health_information(client, world):
    log_in(client, world["coordinator"])
    page = client.get("/koordinator/borgere/ny").get_data(as_text=True)
    assert "Skriv ikke CPR-nummer eller helbredsoplysninger" in page


@pytest.mark.parametrize("field", ["note", "interests", "volunteer_wish", "contact_relation"])
@pytest.mark.parametrize("cpr", ["010150-1234", "0101501234", "311299-4321"])
def test_a_cpr_number_is_refused_with_a_danish_message(client, world, field, cpr):
    log_in(client, world["coordinator"])
    response = client.post("/koordinator/borgere/ny", data=_person_form(world, **{field: cpr}))
    assert response.status_code == 200
    assert "Skriv ikke CPR-nummer. Fjern nummeret" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


@pytest.mark.parametrize(
    "text, found",
    [
        ("CPR 010150-1234", True),
        ("0101501234", True),
        ("ring 75 11 22 33", False),
        ("+45 75112233", False),
        ("postnummer 7130, født 1950", False),
        ("329950-1234", False),  # no such day
        ("12345678901", False),  # too many digits
    ],
)
def test_what_looks_like_a_cpr_number(text, found):
    assert services.contains_cpr(text) is found


def test_the_service_refuses_a_cpr_number_whatever_the_form_did(app, world):
    data = services.PersonData(
        organisation_id=world["org"].id,
        name=NAME,
        postcode="7130",
        address=ADDRESS,
        consent_given_by=NAME,
        consent_given_on=date(2026, 11, 1),
        consent_method="written",
        note="010150-1234",
    )
    with pytest.raises(services.PersonError) as raised:
        services.create_person(world["coordinator"], data, utcnow())
    assert (raised.value.field, raised.value.code) == ("note", "cpr")


@pytest.mark.parametrize("missing", ["consent_given_by", "consent_given_on", "consent_method"])
def test_consent_is_required(client, world, missing):
    log_in(client, world["coordinator"])
    response = client.post("/koordinator/borgere/ny", data=_person_form(world, **{missing: ""}))
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_many_have_neither_phone_nor_email(client, world):
    log_in(client, world["coordinator"])
    form = _person_form(world, phone="", contact_email="", contact_name="")
    assert client.post("/koordinator/borgere/ny", data=form).status_code == 302
    person = db.session.scalar(select(Person))
    assert person.phone is None and person.email is None and person.contact_name is None


def test_editing_replaces_the_windows(client, world):
    person = factories.person(world["org"], world["meal"])
    person.windows = [PersonWindow(weekday=0, start_time=time(10), end_time=time(12))]
    db.session.commit()
    log_in(client, world["coordinator"])
    assert client.get(f"/koordinator/borgere/{person.id}/rediger").status_code == 200
    response = client.post(
        f"/koordinator/borgere/{person.id}/rediger", data=_person_form(world, slot=["4-10"])
    )
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.name == NAME
    assert [(w.weekday, w.start_time) for w in person.windows] == [(4, time(10))]


# The list.


def test_the_list_shows_waiting_time_in_days_longest_first_and_searches(client, world):
    today = date.today()
    factories.person(world["org"], name="Anna Kortvent", waiting_since=today - timedelta(days=3))
    factories.person(world["org"], name="Bodil Langvent", waiting_since=today - timedelta(days=40))
    factories.person(world["other_org"], name="Carl Andenorg")
    log_in(client, world["coordinator"])
    page = client.get("/koordinator/borgere").get_data(as_text=True)
    assert "Carl Andenorg" not in page
    assert page.index("Bodil Langvent") < page.index("Anna Kortvent")
    assert "40 dage" in page and "3 dage" in page
    page = client.get("/koordinator/borgere?q=bodil").get_data(as_text=True)
    assert "Bodil Langvent" in page and "Anna Kortvent" not in page


# Who sees what.


def test_every_staff_view_of_a_person_is_audited(client, world):
    person = factories.person(world["org"])
    log_in(client, world["coordinator"])
    client.get(f"/koordinator/borgere/{person.id}")
    client.get(f"/koordinator/borgere/{person.id}")
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "person", AuditEvent.action == "person.viewed"
        )
    ).all()
    assert [(e.object_id, e.actor_id) for e in events] == [(person.id, world["coordinator"].id)] * 2


@pytest.mark.parametrize(
    "path", ["", "/rediger", "/data", "/data.json", "/slet"], ids=lambda p: p or "detail"
)
def test_a_coordinator_of_another_organisation_sees_nothing(client, world, path):
    person = factories.person(world["org"])
    log_in(client, world["other_coordinator"])
    assert client.get(f"/koordinator/borgere/{person.id}{path}").status_code == 404
    assert (
        client.post(f"/koordinator/borgere/{person.id}/slet", data={"confirm": "yes"}).status_code
        == 404
    )
    assert db.session.get(Person, person.id).name != gdpr.DELETED_PERSON_NAME
    assert NAME not in client.get("/koordinator/borgere").get_data(as_text=True)


def test_volunteers_and_centre_staff_never_see_person_pages(client, world):
    person = factories.person(world["org"])
    for user in (member(world["org"]), factories.user(role=Role.CENTRE)):
        other = client.application.test_client()
        log_in(other, user)
        assert other.get(f"/koordinator/borgere/{person.id}").status_code == 403
        assert other.get("/koordinator/borgere").status_code == 403
        assert not services.can_see_contact(user, person)


def test_only_the_organisations_coordinators_and_admins_see_the_contact(app, world):
    person = factories.person(world["org"])
    assert services.can_see_contact(world["coordinator"], person)
    assert services.can_see_contact(factories.user(role=Role.ADMIN), person)
    assert not services.can_see_contact(world["other_coordinator"], person)


def test_without_can_see_contact_the_export_leaves_address_and_phone_out(app, world):
    person = factories.person(world["org"], address=ADDRESS, phone=PHONE)
    data = gdpr.export_helped_person(person, contact_visible=False)
    text = json.dumps(data, ensure_ascii=False)
    assert ADDRESS not in text and PHONE not in text and person.name in text


# Export and erasure.


def test_the_export_holds_the_record_the_windows_the_referral_and_the_trail(client, world):
    person = factories.person(world["org"], world["meal"], name=NAME, address=ADDRESS)
    person.windows = [PersonWindow(weekday=1, start_time=time(12), end_time=time(14))]
    referral = factories.referral(world["org"], person_name=NAME, state="accepted")
    referral.person = person
    db.session.commit()
    log_in(client, world["coordinator"])
    client.get(f"/koordinator/borgere/{person.id}")
    response = client.get(f"/koordinator/borgere/{person.id}/data.json")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.get_json()
    assert data["persons"][0]["name"] == NAME and data["persons"][0]["address"] == ADDRESS
    assert data["person_windows"][0]["start_time"] == "12:00:00"
    assert data["person_activity_types"] == [
        {"person_id": person.id, "activity_type_id": world["meal"].id}
    ]
    assert data["referrals"][0]["referrer_name"] == referral.referrer_name
    assert "person.viewed" in [e["action"] for e in data["audit_events"]]
    page = client.get(f"/koordinator/borgere/{person.id}/data").get_data(as_text=True)
    assert NAME in page and ADDRESS in page and "tirsdag 12.00–14.00" in page
    exports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "person.exported")
    ).all()
    assert len(exports) == 2


def _texts_holding(trace: str) -> list[str]:
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON):
                hits = db.session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(cast(column, Text).contains(trace))
                )
                if hits:
                    found.append(f"{table.name}.{column.name}")
    return found


def test_erasure_on_request_leaves_no_trace_but_keeps_the_figures(client, world):
    person = factories.person(
        world["org"],
        world["meal"],
        name=NAME,
        address=ADDRESS,
        phone=PHONE,
        contact_name=CONTACT,
        contact_email=CONTACT_EMAIL,
        note=f"Datteren {CONTACT} ringer",
    )
    person.windows = [PersonWindow(weekday=1, start_time=time(12), end_time=time(14))]
    referral = factories.referral(
        world["org"], person_name=NAME, person_address=ADDRESS, state="accepted"
    )
    referral.person = person
    db.session.commit()
    referrer = referral.referrer_name
    log_in(client, world["coordinator"])
    assert NAME in client.get(f"/koordinator/borgere/{person.id}/slet").get_data(as_text=True)
    response = client.post(f"/koordinator/borgere/{person.id}/slet", data={"confirm": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    gone = db.session.get(Person, person.id)
    assert gone.name == gdpr.DELETED_PERSON_NAME and gone.anonymised_at is not None
    assert gone.phone is None and gone.address == "" and gone.windows == []
    assert gone.contact_name is None and gone.note == ""
    # Kept for the statistics: where (roughly), what, and since when.
    assert (gone.postcode, gone.organisation_id) == ("7130", world["org"].id)
    assert [a.code for a in gone.activity_types] == ["spisevenner"]
    for trace in (NAME, ADDRESS, PHONE, CONTACT, CONTACT_EMAIL, referrer):
        assert _texts_holding(trace) == [], trace
    assert client.get(f"/koordinator/borgere/{person.id}").status_code == 404
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.deleted")).actor_id
        == world["coordinator"].id
    )


def test_a_coordinators_own_export_holds_no_person_they_registered(client, world):
    log_in(client, world["coordinator"])
    client.post("/koordinator/borgere/ny", data=_person_form(world))
    text = json.dumps(gdpr.export(world["coordinator"], actor=world["coordinator"]))
    assert NAME not in text and ADDRESS not in text


def test_retention_anonymises_persons_ended_long_ago_dry_run_first(app, world):
    now = datetime(2026, 12, 3, 9, tzinfo=UTC)
    long_ago = factories.person(world["org"], name=NAME, state="ended", ended_on=date(2025, 11, 30))
    recent = factories.person(world["org"], state="ended", ended_on=date(2026, 6, 1))
    waiting = factories.person(world["org"])
    declined = factories.referral(
        world["org"],
        state="declined",
        decline_reason="Vi har ingen frivillige i området",
        decided_at=datetime(2025, 10, 1, tzinfo=UTC),
    )
    preview = retention(app, now, dry_run=True)
    assert (preview["persons_anonymised"], preview["referrals_anonymised"]) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Person, long_ago.id).name == NAME
    summary = retention(app, now)
    assert summary == preview
    db.session.expire_all()
    assert db.session.get(Person, long_ago.id).name == gdpr.DELETED_PERSON_NAME
    assert db.session.get(Person, recent.id).anonymised_at is None
    assert db.session.get(Person, waiting.id).anonymised_at is None
    assert db.session.get(Referral, declined.id).referrer_email is None
    assert _texts_holding(NAME) == []
    again = retention(app, now)
    assert (again["persons_anonymised"], again["referrals_anonymised"]) == (0, 0)


def test_ending_and_reopening_a_person(client, world):
    person = factories.person(world["org"])
    log_in(client, world["coordinator"])
    client.post(f"/koordinator/borgere/{person.id}/status", data={"state": "ended"})
    db.session.expire_all()
    assert db.session.get(Person, person.id).state == PersonState.ENDED
    assert db.session.get(Person, person.id).ended_on is not None
    client.post(f"/koordinator/borgere/{person.id}/status", data={"state": "waiting"})
    db.session.expire_all()
    again = db.session.get(Person, person.id)
    assert again.state == PersonState.WAITING and again.ended_on is None


# Referrals.


def test_a_daughter_refers_her_mother_without_an_account(client, world):
    page = client.get("/henvisning").get_data(as_text=True)
    assert "Spisevenner" in page and "Lektiecafe" not in page  # only the types for persons
    assert "Skriv ikke CPR-nummer eller helbredsoplysninger" in page
    response = client.post("/henvisning", data=_referral_form(world))
    assert response.status_code == 302
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vi har modtaget din henvisning af Inger Mor" in receipt
    assert "lise.datter@example.org" in receipt and "Hedensted Kommune" in receipt
    referral = db.session.scalar(select(Referral))
    assert referral.state == ReferralState.NEW and referral.consent
    # The rule: the local area with the postcode decides the organisation.
    assert referral.organisation_id == world["org"].id
    assert referral.local_area_id == world["area"].id
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.recipient_email == "lise.datter@example.org" and mail.recipient_id is None
    assert mail.subject == "Vi har modtaget din henvisning"
    assert "Kære Lise" in mail.body_text and "Inger Mor, 7130 Juelsminde" in mail.body_text


def test_without_an_email_there_is_no_receipt_mail(client, world):
    response = client.post("/henvisning", data=_referral_form(world, referrer_email=""))
    assert response.status_code == 302
    assert "ingen kvittering" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_referral_needs_the_consent_tick(client, world):
    response = client.post("/henvisning", data=_referral_form(world, consent=""))
    assert response.status_code == 200
    assert "vi skal have borgerens samtykke" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_the_referral_refuses_a_cpr_number(client, world):
    response = client.post("/henvisning", data=_referral_form(world, message="CPR 010150-1234"))
    assert response.status_code == 200
    assert "Skriv ikke CPR-nummer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


def test_a_postcode_without_its_own_area_goes_to_the_nearest(app, world):
    # 7140 Stouby has no local area here; Juelsminde (7130) is nearer than Tørring (7160).
    route = services.route_postcode("7140")
    assert (route.local_area_id, route.organisation_id) == (world["area"].id, world["org"].id)
    assert services.route_postcode("7160").organisation_id == world["other_org"].id


def test_the_receipt_page_shows_nothing_without_a_referral(client, world):
    assert client.get("/henvisning/tak").status_code == 302


@pytest.fixture
def limited(backend, tmp_path):
    for app in make_app(backend, tmp_path, RATELIMIT_ENABLED=True):
        limiter._storage_dead = False
        limiter.reset()
        yield app


def test_referrals_are_rate_limited(limited):
    client = limited.test_client()
    statuses = [client.post("/henvisning", data={}).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert client.get("/henvisning").status_code == 200  # looking is not limited


def test_the_queue_and_the_start_page_show_new_referrals_of_the_organisation(client, world):
    mine = factories.referral(world["org"], person_name="Inger Mor")
    factories.referral(world["other_org"], person_name="Karl Andenorg")
    log_in(client, world["coordinator"])
    queue = client.get("/koordinator/henvisninger").get_data(as_text=True)
    assert "Inger Mor" in queue and "Karl Andenorg" not in queue
    start = client.get("/koordinator/").get_data(as_text=True)
    assert f"/koordinator/henvisninger/{mine.id}" in start
    assert 'href="/koordinator/borgere"' in start
    other = client.application.test_client()
    log_in(other, world["other_coordinator"])
    assert other.get(f"/koordinator/henvisninger/{mine.id}").status_code == 404


def test_a_coordinator_turns_a_referral_into_a_waiting_person(client, world):
    referral = factories.referral(
        world["org"],
        person_name="Inger Mor",
        person_address="Havnevej 3",
        created_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
    )
    log_in(client, world["coordinator"])
    page = client.get(f"/koordinator/henvisninger/{referral.id}").get_data(as_text=True)
    assert 'value="Inger Mor"' in page and 'value="Havnevej 3"' in page  # filled in
    assert (
        db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "referral.viewed")
        ).object_id
        == referral.id
    )
    form = _person_form(
        world,
        name="Inger Mor",
        address="Havnevej 3",
        consent_given_by=referral.referrer_name,
        consent_method="power_of_attorney",
    )
    response = client.post(f"/koordinator/henvisninger/{referral.id}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.scalar(select(Person))
    assert person.name == "Inger Mor" and person.waiting_since == date(2026, 11, 1)
    referral = db.session.get(Referral, referral.id)
    assert referral.state == ReferralState.ACCEPTED and referral.person_id == person.id
    client.get(response.headers["Location"])  # the flash message is shown there
    assert "Inger Mor" not in client.get("/koordinator/henvisninger").get_data(as_text=True)


def test_declining_a_referral_emails_the_reason_to_the_referrer(client, world):
    referral = factories.referral(world["org"], referrer_name="Lise Datter")
    log_in(client, world["coordinator"])
    empty = client.post(f"/koordinator/henvisninger/{referral.id}/afvis", data={"reason": ""})
    assert empty.status_code == 200
    reason = "Vi har desværre ingen spisevenner i Juelsminde lige nu."
    response = client.post(
        f"/koordinator/henvisninger/{referral.id}/afvis", data={"reason": reason}
    )
    assert response.status_code == 302
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.state == ReferralState.DECLINED and referral.decline_reason == reason
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.recipient_email == referral.referrer_email
    assert mail.subject == f"Om din henvisning af {referral.person_name}"
    assert f"Begrundelsen: {reason}" in mail.body_text and "Kære Lise" in mail.body_text
    assert client.get(f"/koordinator/henvisninger/{referral.id}").status_code == 404


def test_a_referral_without_an_organisation_waits_for_an_administrator(client, world):
    orphan = factories.referral(None)
    log_in(client, world["coordinator"])
    assert client.get(f"/koordinator/henvisninger/{orphan.id}").status_code == 404
    admin = client.application.test_client()
    log_in(admin, factories.user(role=Role.ADMIN))
    assert admin.get(f"/koordinator/henvisninger/{orphan.id}").status_code == 200


def test_the_demo_has_waiting_persons_and_a_referral(app):
    from volunteer import demo

    demo.seed(date(2026, 12, 1), volunteers=20)
    persons = db.session.scalars(select(Person)).all()
    assert sum(p.state == PersonState.WAITING for p in persons) >= 3
    assert any(p.contact_name for p in persons)
    assert db.session.scalar(select(func.count()).select_from(Referral)) >= 1
    assert all(p.consent_method for p in persons)
    assert not any(u.name == p.name for p in persons for u in db.session.scalars(select(User)))


def test_a_referral_becomes_a_person_and_a_weekly_draft_need_in_one_go(client, world):
    from volunteer.models import Need, NeedStatus

    referral = factories.referral(world["org"], person_name="Inger Mor")
    log_in(client, world["coordinator"])
    page = client.get(f"/koordinator/henvisninger/{referral.id}").get_data(as_text=True)
    assert "Lav også en ugentlig opgave (kladde)" in page
    form = _person_form(
        world,
        name="Inger Mor",
        address="Havnevej 3",
        need_weekday="3",
        need_start="17:30",
        need_end="19:00",
    )
    response = client.post(f"/koordinator/henvisninger/{referral.id}", data=form)
    assert response.status_code == 302
    need = db.session.scalar(select(Need))
    assert need.status == NeedStatus.DRAFT and need.organisation_id == world["org"].id
    assert (need.weekday, need.start_time, need.end_time) == (3, time(17, 30), time(19))
    assert need.activity_type_id == world["meal"].id and need.postcode == "7130"
    # A need is public once open: no name, no exact address.
    assert "Inger" not in need.title + need.description and need.address is None
    assert db.session.scalar(select(Person)).name == "Inger Mor"


def test_a_weekly_need_without_times_stores_nothing(client, world):
    referral = factories.referral(world["org"])
    log_in(client, world["coordinator"])
    form = _person_form(world, need_weekday="3", need_start="", need_end="")
    response = client.post(f"/koordinator/henvisninger/{referral.id}", data=form)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_every_person_page_and_export_asks_can_see_contact(client, world, monkeypatch):
    """The hook decides: with it saying no, neither the record nor the export shows the exact
    address, the phone or the contact's phone and email (the name and postcode still show)."""
    person = factories.person(
        world["org"],
        name=NAME,
        address=ADDRESS,
        phone=PHONE,
        contact_name=CONTACT,
        contact_phone="+45 20 99 88 77",
        contact_email=CONTACT_EMAIL,
    )
    monkeypatch.setattr(services, "can_see_contact", lambda user, person: False)
    log_in(client, world["coordinator"])
    for path in ("", "/data", "/data.json"):
        page = client.get(f"/koordinator/borgere/{person.id}{path}").get_data(as_text=True)
        assert NAME in page and "7130" in page, path
        for secret in (ADDRESS, PHONE, "+45 20 99 88 77", CONTACT_EMAIL):
            assert secret not in page, (path, secret)
    listing = client.get("/koordinator/borgere").get_data(as_text=True)
    assert NAME in listing and ADDRESS not in listing and PHONE not in listing
