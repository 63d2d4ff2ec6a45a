"""The administration screens: the catalogue (organisations, local areas, centres, activity
types) and staff accounts, written from the browser, each write audited, administrators only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from support import delivered_text, factories
from support.auth import log_in
from volunteer.audit import AuditEvent
from volunteer.auth.services import authenticate
from volunteer.extensions import db
from volunteer.models import (
    ActivityType,
    Centre,
    LocalArea,
    Organisation,
    OutboxMessage,
    Role,
    User,
)
from volunteer.notifications import delivery

NEW_PASSWORD = "blaabaer-og-rabarber-7"
RESET = re.compile(r"http://samskab\.test(/konto/nulstil/\S+)")


@pytest.fixture
def admin(app, client):
    person = factories.user(Role.ADMIN, email="admin@example.org", name="Anders Admin")
    log_in(client, person)
    return person


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# Navigation


def test_the_admin_index_links_to_every_screen(client, admin):
    page = _text(client.get("/admin/"))
    for path in (
        "/admin/personale/",
        "/admin/personale/inviter",
        "/admin/centre/",
        "/admin/centre/ny",
        "/admin/organisationer/",
        "/admin/organisationer/ny",
        "/admin/lokalomraader/",
        "/admin/lokalomraader/ny",
        "/admin/aktiviteter/",
        "/admin/aktiviteter/ny",
        "/admin/udbakke/",
    ):
        assert f'href="{path}"' in page, path
    staff = _text(client.get("/admin/personale/"))
    assert 'aria-current="page"' in staff and "Personale" in staff


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.COORDINATOR, Role.CENTRE])
def test_other_roles_cannot_write(app, role):
    org = factories.organisation("Hedensted Kommune")
    person = factories.user(role)
    client = app.test_client()
    log_in(client, person)
    before = _count(Organisation), _count(User), _count(AuditEvent)
    for url, data in (
        ("/admin/organisationer/ny", {"name": "Snyd", "kind": "association"}),
        (f"/admin/organisationer/{org.id}", {"name": "Snyd", "kind": "association"}),
        ("/admin/personale/inviter", {"email": "x@example.org", "name": "X", "role": "admin"}),
        (f"/admin/personale/{person.id}/deaktiver", {}),
    ):
        assert client.post(url, data=data).status_code == 403, url
    assert (_count(Organisation), _count(User), _count(AuditEvent)) == before
    assert db.session.get(Organisation, org.id).name == "Hedensted Kommune"


# Organisations


def test_create_and_edit_an_organisation(client, admin):
    response = client.post(
        "/admin/organisationer/ny",
        data={"name": "Røde Kors Hedensted", "kind": "association", "email": "rk@example.org"},
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Røde Kors Hedensted"))
    assert (org.kind, org.email, org.phone) == ("association", "rk@example.org", None)
    [created] = _events("organisation.created")
    assert (created.actor_id, created.object_id) == (admin.id, org.id)

    client.post(
        f"/admin/organisationer/{org.id}",
        data={"name": "Røde Kors", "kind": "association", "email": "", "phone": "75 89 00 00"},
    )
    db.session.expire_all()
    assert (org.name, org.phone, org.email) == ("Røde Kors", "75 89 00 00", None)
    [updated] = _events("organisation.updated")
    assert updated.details["changed"]["name"] == ["Røde Kors Hedensted", "Røde Kors"]
    assert "Røde Kors" in _text(client.get("/admin/organisationer/"))


def test_a_duplicate_organisation_name_is_refused_in_danish(client, admin):
    factories.organisation("Hedensted Kommune")
    response = client.post(
        "/admin/organisationer/ny", data={"name": "hedensted kommune", "kind": "municipality"}
    )
    assert response.status_code == 200
    assert "Der findes allerede en med det navn" in _text(response)
    assert _count(Organisation) == 1 and _events("organisation.created") == []


def test_a_name_taken_in_other_letter_case_with_aeoeaa_is_refused_not_a_500(client, admin):
    """SQLite's lower() leaves Æ, Ø and Å alone: the check must fold them all the same."""
    for attempt in ("Ærø Lokalråd", "ærø lokalråd"):
        response = client.post("/admin/lokalomraader/ny", data={"name": attempt})
    assert response.status_code == 200
    assert "Der findes allerede en med det navn" in _text(response)
    assert _count(LocalArea) == 1


def test_bad_organisation_input_is_shown_again(client, admin):
    response = client.post(
        "/admin/organisationer/ny", data={"name": "", "kind": "kult", "email": "ikke-en-mail"}
    )
    page = _text(response)
    assert response.status_code == 200 and "Skriv et navn." in page
    assert "Det ligner ikke en e-mailadresse." in page
    assert _count(Organisation) == 0


# Local areas


def test_create_and_edit_a_local_area_placed_by_its_postcode(client, admin):
    org = factories.organisation("Hedensted Kommune")
    client.post(
        "/admin/lokalomraader/ny",
        data={"name": "Barrit", "postcode": "DK-7150", "organisation_id": org.id},
    )
    area = db.session.scalar(select(LocalArea))
    assert (area.name, area.postcode, area.organisation_id) == ("Barrit", "7150", org.id)
    assert area.lat is not None and area.lon is not None
    assert len(_events("local_area.created")) == 1
    client.post(
        f"/admin/lokalomraader/{area.id}",
        data={"name": "Barrit", "postcode": "7130", "organisation_id": 0},
    )
    db.session.expire_all()
    assert (area.postcode, area.organisation_id) == ("7130", None)
    assert len(_events("local_area.updated")) == 1


def test_an_unknown_postcode_is_refused_in_danish(client, admin):
    response = client.post("/admin/lokalomraader/ny", data={"name": "Atlantis", "postcode": "1234"})
    assert response.status_code == 200
    assert "Vi kender ikke postnummeret 1234." in _text(response)
    assert _count(LocalArea) == 0


# Centres


def test_create_a_centre_then_edit_and_deactivate_it(client, admin):
    org = factories.organisation("Hedensted Kommune")
    area = LocalArea(name="Juelsminde", postcode="7130")
    db.session.add(area)
    db.session.commit()
    data = {
        "name": "Plejecenter Havbo",
        "kind": "plejecenter",
        "address": "Havnevej 3",
        "postcode": "7130",
        "phone": "",
        "organisation_id": org.id,
        "local_area_id": area.id,
        "active": "y",
    }
    response = client.post("/admin/centre/ny", data=data)
    centre = db.session.scalar(select(Centre))
    # Next: invite the new centre's staff, the centre already chosen.
    assert response.headers["Location"] == f"/admin/personale/inviter?centre={centre.id}"
    assert (centre.town, centre.postcode, centre.local_area_id) == ("Juelsminde", "7130", area.id)
    assert centre.lat and centre.lon and centre.active
    invite_page = _text(client.get(response.headers["Location"]))
    assert re.search(
        rf'checked[^>]*value="{centre.id}"|value="{centre.id}"[^>]*checked', invite_page
    )
    assert len(_events("centre.created")) == 1

    client.post(f"/admin/centre/{centre.id}", data={**data, "postcode": "8722"})
    db.session.expire_all()
    assert (centre.postcode, centre.town) == ("8722", "Hedensted")
    assert len(_events("centre.updated")) == 1

    without_active = {k: v for k, v in data.items() if k != "active"}
    client.post(f"/admin/centre/{centre.id}", data={**without_active, "postcode": "8722"})
    db.session.expire_all()
    assert centre.active is False
    assert len(_events("centre.deactivated")) == 1
    # Still listed for the administrator, but no longer offered for new needs.
    assert "Inaktiv" in _text(client.get("/admin/centre/"))
    from volunteer.catalogue.services import centres

    assert centre not in centres()


def test_bad_centre_input_is_refused_in_danish(client, admin):
    org = factories.organisation("Hedensted Kommune")
    factories.centre(org, name="Plejecenter Bakkegården")
    base = {"kind": "plejecenter", "organisation_id": org.id, "local_area_id": 0}
    taken = client.post(
        "/admin/centre/ny", data={**base, "name": "Plejecenter Bakkegården", "postcode": "7130"}
    )
    assert "Der findes allerede en med det navn" in _text(taken)
    unknown = client.post("/admin/centre/ny", data={**base, "name": "Ny", "postcode": "1"})
    assert "Skriv et dansk postnummer på fire cifre" in _text(unknown)
    no_org = client.post(
        "/admin/centre/ny", data={**base, "organisation_id": 999, "name": "Ny", "postcode": "7130"}
    )
    assert no_org.status_code == 200
    assert _count(Centre) == 1 and _events("centre.created") == []


# Activity types


def test_create_edit_and_deactivate_an_activity_type(client, admin):
    response = client.post(
        "/admin/aktiviteter/ny",
        data={
            "name_da": "Strikkecafé på Ærø",
            "name_en": "Knitting café",
            "requires_child_certificate": "y",
            "sort_order": "7",
            "active": "y",
        },
    )
    assert response.status_code == 302
    activity = db.session.scalar(select(ActivityType))
    assert activity.code == "strikkecafe-paa-aeroe"
    assert activity.requires_child_certificate and activity.sort_order == 7 and activity.active
    assert len(_events("activity_type.created")) == 1
    client.post(
        f"/admin/aktiviteter/{activity.id}",
        data={"name_da": "Strikkecafé", "name_en": "Knitting café", "sort_order": "7"},
    )
    db.session.expire_all()
    assert activity.name_da == "Strikkecafé" and not activity.active
    assert activity.code == "strikkecafe-paa-aeroe"  # the code stays: filters link to it
    assert not activity.requires_child_certificate
    assert len(_events("activity_type.updated")) == 1


def test_bad_activity_type_input_is_refused_in_danish(client, admin):
    factories.activity_type("spisevenner")  # name_da "Spisevenner"
    taken = client.post(
        "/admin/aktiviteter/ny",
        data={"name_da": "spisevenner", "name_en": "Meals", "sort_order": "1"},
    )
    assert "Der findes allerede en med det navn" in _text(taken)
    bad = client.post(
        "/admin/aktiviteter/ny", data={"name_da": "X", "name_en": "X", "sort_order": "-4"}
    )
    assert "Skriv et tal fra 0 til 1000." in _text(bad)
    assert _count(ActivityType) == 1


# Staff accounts


def _invite(client, **fields):  # type: ignore[no-untyped-def]
    data = {"email": "Lise.Lund@Example.org", "name": "Lise Lund", "role": "centre"}
    data.update(fields)
    return client.post("/admin/personale/inviter", data=data)


def test_invited_staff_set_a_password_from_the_email_and_are_logged_in(app, client, admin, smtp):
    org = factories.organisation("Hedensted Kommune")
    home = factories.centre(org, name="Plejecenter Havbo")
    response = _invite(client, centre_ids=[home.id])
    assert response.status_code == 302
    person = db.session.scalar(select(User).where(User.email == "lise.lund@example.org"))
    assert person.role == Role.CENTRE and [c.id for c in person.centres] == [home.id]
    assert person.password_hash is None and authenticate(person.email, "") is None
    [invited] = _events("account.invited")
    assert (invited.actor_id, invited.object_id, invited.details["centres"]) == (
        admin.id,
        person.id,
        [home.id],
    )

    # The outbox holds a marker, not the link: no token is stored.
    message = db.session.scalar(select(OutboxMessage))
    assert message.recipient_id == person.id and message.subject == "Din personalekonto i Samskab"
    stored = " ".join([message.body_text, message.body_html or "", str(message.links)])
    assert "/konto/nulstil/" not in stored and "[[link:0]]" in message.body_text
    staff_view = _text(client.get(f"/admin/udbakke/{message.id}"))
    assert "/konto/nulstil/" not in staff_view and "[link skjult]" in staff_view
    assert "Plejecenter Havbo" in delivered_text(message)

    assert delivery.dispatch(datetime.now(UTC) + timedelta(minutes=1))["sent"] == 1
    [email] = smtp.received
    assert email["To"] == "lise.lund@example.org"
    text = email.get_body(("plain",)).get_content()
    assert "Kære Lise" in text or "Hej Lise" in text
    [path] = RESET.findall(text)
    assert path.split("/")[-1] not in stored

    newcomer = app.test_client()
    response = newcomer.post(
        path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert newcomer.get("/center/").status_code == 200  # logged in, as centre staff
    assert authenticate("lise.lund@example.org", NEW_PASSWORD) is not None
    # The link worked once.
    again = app.test_client().get(path)
    assert again.status_code == 302 and "glemt-adgangskode" in again.headers["Location"]


def test_invite_a_coordinator_for_two_organisations(client, admin):
    one, two = factories.organisation("Hedensted Kommune"), factories.organisation("Ældre Sagen")
    centre = factories.centre(one)
    _invite(
        client,
        email="mette@example.org",
        name="Mette Madsen",
        role="coordinator",
        organisation_ids=[one.id, two.id],
        centre_ids=[centre.id],  # ignored: a coordinator is not centre staff
    )
    person = db.session.scalar(select(User).where(User.email == "mette@example.org"))
    assert person.role == Role.COORDINATOR
    assert sorted(o.name for o in person.organisations) == ["Hedensted Kommune", "Ældre Sagen"]
    assert person.centres == []


def test_bad_invitations_are_refused_in_danish(client, admin):
    org = factories.organisation("Hedensted Kommune")
    home = factories.centre(org)
    factories.user(Role.COORDINATOR, email="taget@example.org")
    before = _count(User), _count(OutboxMessage)
    duplicate = _invite(client, email="TAGET@example.org", centre_ids=[home.id])
    assert "Der er allerede en konto med denne e-mail." in _text(duplicate)
    no_centre = _invite(client)
    assert "Vælg det center, personen arbejder på." in _text(no_centre)
    no_org = _invite(client, role="coordinator")
    assert "Vælg koordinatorens organisation." in _text(no_org)
    bad_email = _invite(client, email="lise", centre_ids=[home.id])
    assert "Det ligner ikke en e-mailadresse." in _text(bad_email)
    not_staff = _invite(client, role="volunteer", centre_ids=[home.id])
    assert not_staff.status_code == 200
    assert (_count(User), _count(OutboxMessage)) == before
    assert _events("account.invited") == []


def test_edit_a_staff_member(client, admin):
    org = factories.organisation("Hedensted Kommune")
    home = factories.centre(org)
    person = factories.coordinator(org, name="Mette Madsen")
    assert client.get(f"/admin/personale/{person.id}").status_code == 200
    client.post(
        f"/admin/personale/{person.id}",
        data={"name": "Mette Holm", "role": "centre", "centre_ids": [home.id]},
    )
    db.session.expire_all()
    assert (person.name, person.role) == ("Mette Holm", Role.CENTRE)
    assert person.organisations == [] and person.centres == [home]
    [event] = _events("account.updated")
    assert event.details["changed"]["role"] == ["coordinator", "centre"]
    # Volunteers are not staff: there is no staff page for them.
    volunteer = factories.user()
    assert client.get(f"/admin/personale/{volunteer.id}").status_code == 404


def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves(client, admin):
    response = client.post(
        f"/admin/personale/{admin.id}", data={"name": "Anders Admin", "role": "coordinator"}
    )
    assert "Du kan ikke ændre din egen rolle." in _text(response)
    response = client.post(f"/admin/personale/{admin.id}/deaktiver", follow_redirects=True)
    assert "Du kan ikke deaktivere din egen konto." in _text(response)
    db.session.expire_all()
    assert admin.role == Role.ADMIN and admin.active
    assert client.get("/admin/").status_code == 200


def test_deactivated_staff_are_logged_out_and_cannot_log_in(app, client, admin):
    org = factories.organisation("Hedensted Kommune")
    person = factories.coordinator(org)
    theirs = app.test_client()
    log_in(theirs, person)
    assert theirs.get("/koordinator/").status_code == 200

    response = client.post(f"/admin/personale/{person.id}/deaktiver", follow_redirects=True)
    assert "er deaktiveret og logget ud" in _text(response)
    db.session.expire_all()
    assert person.active is False
    assert "/konto/log-ind" in theirs.get("/koordinator/").headers["Location"]
    assert authenticate(person.email, factories.PASSWORD) is None
    refused = app.test_client().post(
        "/konto/log-ind", data={"email": person.email, "password": factories.PASSWORD}
    )
    assert refused.status_code == 200 and "Forkert e-mail eller adgangskode." in _text(refused)
    assert len(_events("account.deactivated")) == 1

    client.post(f"/admin/personale/{person.id}/aktiver")
    db.session.expire_all()
    assert person.active and authenticate(person.email, factories.PASSWORD) is not None
    assert len(_events("account.reactivated")) == 1


def test_a_deactivated_invitee_gets_no_working_link(app, client, admin, smtp):
    org = factories.organisation("Hedensted Kommune")
    _invite(client, role="coordinator", organisation_ids=[org.id])
    person = db.session.scalar(select(User).where(User.email == "lise.lund@example.org"))
    client.post(f"/admin/personale/{person.id}/deaktiver")
    delivery.dispatch(datetime.now(UTC) + timedelta(minutes=1))
    text = smtp.received[0].get_body(("plain",)).get_content()
    assert RESET.findall(text) == [] and "[linket virker ikke længere" in text


def test_the_invitation_can_be_sent_again_until_a_password_is_chosen(client, admin):
    org = factories.organisation("Hedensted Kommune")
    _invite(client, role="coordinator", organisation_ids=[org.id])
    person = db.session.scalar(select(User).where(User.email == "lise.lund@example.org"))
    assert "Inviteret, har ikke valgt adgangskode endnu" in _text(client.get("/admin/personale/"))
    db.session.execute(
        OutboxMessage.__table__.update().values(dedup_key="first")  # type: ignore[attr-defined]
    )
    db.session.commit()
    client.post(f"/admin/personale/{person.id}/send-invitation")
    assert _count(OutboxMessage) == 2 and len(_events("account.invitation_resent")) == 1
    helper = factories.coordinator(org)
    response = client.post(f"/admin/personale/{helper.id}/send-invitation", follow_redirects=True)
    assert "har allerede valgt en adgangskode" in _text(response)
    assert _count(OutboxMessage) == 2


def test_the_staff_list_shows_every_staff_role_and_not_volunteers(client, admin):
    org = factories.organisation("Hedensted Kommune")
    factories.coordinator(org, name="Mette Koordinator")
    factories.user(Role.CENTRE, name="Lise Centermedarbejder", centres=[factories.centre(org)])
    factories.user(name="Karen Frivillig")
    page = _text(client.get("/admin/personale/"))
    assert "Mette Koordinator" in page and "Lise Centermedarbejder" in page
    assert "Anders Admin" in page and "Karen Frivillig" not in page
