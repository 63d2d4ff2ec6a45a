"""Managed accounts: a coordinator keeps an account for someone without email, records their
free times and sign-ups for them (audited as done by the coordinator for them), and invites
them to claim it — by an emailed link or a printed letter with a one-time code. Two people
share no account; a claimed account keeps its history."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from support import delivered_text, factories, queued
from support.auth import log_in
from volunteer import printing
from volunteer.audit import AuditEvent
from volunteer.auth import managed
from volunteer.auth import services as accounts
from volunteer.clock import local_today
from volunteer.coordination import proposals
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.i18n import long_date
from volunteer.models import Assignment, AssignmentState, AvailabilityWindow, User
from volunteer.needs import signup
from volunteer.needs.services import sync_occurrences
from volunteer.notifications.services import enqueue
from volunteer.volunteers import gdpr

PASSWORD = "solsikke-havn-cykel"


@pytest.fixture
def world(app):
    org = factories.organisation("Hedensted Kommune")
    other = factories.organisation("Røde Kors")
    mette = factories.coordinator(
        org, name="Mette Hansen", email="mette@example.org", phone="+45 75 00 00 01"
    )
    day = local_today(utcnow()) + timedelta(days=3)
    need = factories.need(
        org,
        factories.activity_type("spisevenner"),
        title="Spiseven på Åbo",
        weekday=day.weekday(),
        first_date=day,
        start_time=time(17, 30),
        end_time=time(19),
        contact=mette,
    )
    far = factories.need(other, factories.activity_type("lektiecafe"), title="Lektiecafé")
    for n in (need, far):
        sync_occurrences(n, local_today(utcnow()))
    db.session.commit()
    return {
        "org": org,
        "other": other,
        "mette": mette,
        "stranger": factories.coordinator(other, name="Stine Fremmed"),
        "need": need,
        "far": far,
        "day": day,
    }


def _create(world, **fields) -> User:
    data = {
        "organisation_id": world["org"].id,
        "name": "Else Jensen",
        "postcode": "7130",
        "phone": "20 30 40 50",
        **fields,
    }
    return managed.create_managed_volunteer(world["mette"], **data)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _pdf_text(response) -> tuple[PdfReader, str]:
    assert response.status_code == 200 and response.content_type == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"[ \t]+", " ", text)


def _font_sizes(reader: PdfReader) -> set[float]:
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    return {float(size) for size in re.findall(r"/F\d+ ([\d.]+) Tf", content)}


def _free_every_day(user: User) -> None:
    managed.save_availability_for(
        db.session.get(User, user.managed_by_id),
        user.id,
        {(d, h) for d in range(7) for h in (16, 18)},
    )


# --- Creating ------------------------------------------------------------------------------


def test_a_coordinator_creates_a_volunteer_without_email_from_the_list(client, world):
    log_in(client, world["mette"])
    assert "Opret frivillig uden e-mail" in _text(client.get("/koordinator/frivillige"))
    response = client.post(
        "/koordinator/frivillige/ny",
        data={
            "organisation_id": world["org"].id,
            "name": "Else Jensen",
            "phone": "+45 20 30 40 50",
            "email": "",
            "postcode": "7130",
        },
    )
    assert response.status_code == 302
    else_ = db.session.scalar(select(User).where(User.name == "Else Jensen"))
    assert "Else Jensen passes af en koordinator" in _text(client.get("/koordinator/frivillige"))
    assert else_.email is None and else_.password_hash is None
    assert else_.managed and else_.managed_by_id == world["mette"].id
    assert [o.id for o in else_.profile.organisations] == [world["org"].id]
    page = _text(client.get(response.headers["Location"]))
    assert "Du passer denne konto for Else Jensen" in page
    assert "Rediger tilgængelighed" in page and "Tilmeld til behov" in page
    assert "udført af Mette Hansen for Else Jensen" in page
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.managed_created")
    )
    assert event.actor_id == world["mette"].id and event.object_id == else_.id


def test_two_people_without_email_or_phone_are_two_accounts(world):
    first = _create(world, name="Anna Uden", phone=None)
    second = _create(world, name="Bent Uden", phone=None)
    assert first.id != second.id and first.email is None and second.email is None


@pytest.mark.parametrize("typed", ["20304050", "+45 20 30 40 50", "0045 20-30-40-50"])
def test_a_phone_that_belongs_to_another_account_is_refused(world, typed):
    factories.member(world["org"], phone="+45 20 30 40 50")
    with pytest.raises(managed.PhoneTaken):
        _create(world, phone=typed)
    assert db.session.scalar(select(User).where(User.name == "Else Jensen")) is None


def test_an_email_that_belongs_to_another_account_is_refused(client, world):
    factories.member(world["org"], email="else@example.org")
    with pytest.raises(accounts.EmailTaken):
        _create(world, email=" Else@Example.org ")
    log_in(client, world["mette"])
    page = _text(
        client.post(
            "/koordinator/frivillige/ny",
            data={
                "organisation_id": world["org"].id,
                "name": "Else Jensen",
                "email": "else@example.org",
                "postcode": "7130",
            },
        )
    )
    assert "En anden konto har denne e-mailadresse." in page


def test_a_coordinator_creates_only_in_their_own_organisations(client, world):
    with pytest.raises(managed.NotYourOrganisation):
        _create(world, organisation_id=world["other"].id)
    log_in(client, world["mette"])
    page = _text(
        client.post(
            "/koordinator/frivillige/ny",
            data={"organisation_id": world["other"].id, "name": "X Y", "postcode": "7130"},
        )
    )
    assert "Organisation: Vælg fra listen." in page
    assert db.session.scalar(select(User).where(User.name == "X Y")) is None


def test_a_managed_account_cannot_log_in_or_reset_without_email(client, world):
    _create(world, email="else@example.org")
    assert accounts.authenticate("else@example.org", "") is None
    assert accounts.authenticate("else@example.org", PASSWORD) is None
    # Nobody can look it up by an empty address either.
    assert accounts.find_user_by_email("") is None


# --- The gate: one rule -----------------------------------------------------------------


def test_the_identity_rule_vouches_for_a_kept_account_until_it_is_claimed(world):
    else_ = _create(world)
    stranger = factories.user(email_confirmed_at=None)
    confirmed = factories.user()
    assert else_.identity_confirmed and not else_.email_confirmed
    assert not stranger.identity_confirmed and confirmed.identity_confirmed
    in_sql = set(db.session.scalars(select(User.id).where(User.identity_confirmed)))
    assert else_.id in in_sql and confirmed.id in in_sql and stranger.id not in in_sql
    # Claimed with a new, unproved address: from now on the ordinary rule.
    else_.claimed_at = utcnow()
    db.session.commit()
    assert not else_.identity_confirmed
    assert else_.id not in set(db.session.scalars(select(User.id).where(User.identity_confirmed)))


# --- Acting on their behalf --------------------------------------------------------------


def test_times_and_sign_up_on_their_behalf_go_through_the_volunteers_rules(client, world):
    else_ = _create(world)
    log_in(client, world["mette"])
    url = f"/koordinator/frivillige/{else_.id}"
    # No free time yet: the same refusal a volunteer gets, worded for the coordinator.
    page = _text(client.post(f"{url}/tilmeld", data={"need_id": world["need"].id}))
    assert "Den frivillige har ikke tid på dette tidspunkt." in page
    assert db.session.scalar(select(Assignment.id)) is None
    day = world["day"].weekday()
    slots = {"slot": [f"{day}-16", f"{day}-18"]}
    assert client.post(f"{url}/tider", data=slots).status_code == 302
    windows = db.session.scalars(select(AvailabilityWindow)).all()
    assert [(w.weekday, w.start_time, w.end_time) for w in windows] == [(day, time(16), time(20))]
    assert "Spiseven på Åbo" in _text(client.get(f"{url}/tilmeld"))
    assert "Lektiecafé" not in _text(client.get(f"{url}/tilmeld"))  # another organisation's
    assert client.post(f"{url}/tilmeld", data={"need_id": world["need"].id}).status_code == 302
    held = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == else_.id))
    assert held.state == AssignmentState.ACCEPTED  # vouched for: no email to confirm
    events = {
        e.action: e
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == world["mette"].id)
        )
    }
    assert events["assignment.signed_up"].details["on_behalf_of"] == else_.id
    assert events["volunteer.availability_saved"].details["on_behalf_of"] == else_.id
    page = _text(client.get(url))
    assert "Meldt til (Spiseven på Åbo) – udført af Mette Hansen for Else Jensen" in page
    assert "Ledige tider skrevet ind" in page
    # Twice is refused like a volunteer's second click.
    with pytest.raises(signup.AlreadySignedUp):
        managed.sign_up_for(world["mette"], else_.id, world["need"].id, utcnow())


def test_another_organisations_need_or_volunteer_is_not_found(client, world):
    else_ = _create(world)
    _free_every_day(else_)
    with pytest.raises(NotFound):
        managed.sign_up_for(world["mette"], else_.id, world["far"].id, utcnow())
    with pytest.raises(NotFound):
        managed.sign_up_for(world["stranger"], else_.id, world["need"].id, utcnow())
    log_in(client, world["stranger"])
    for path in ("tider", "tilmeld"):
        assert client.get(f"/koordinator/frivillige/{else_.id}/{path}").status_code == 404
    assert client.post(f"/koordinator/frivillige/{else_.id}/aktiveringsbrev.pdf").status_code == 404


def test_a_volunteer_with_their_own_account_does_it_themselves(client, world):
    own = factories.member(world["org"], name="Ole Selv")
    with pytest.raises(managed.NotManaged):
        managed.managed_volunteer(world["mette"], own.id)
    log_in(client, world["mette"])
    response = client.post(f"/koordinator/frivillige/{own.id}/tilmeld", data={"need_id": 1})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Den frivillige bruger sin egen konto, så det gør de selv." in page
    assert db.session.scalar(select(Assignment.id)) is None


# --- Mail to an account without email ----------------------------------------------------


def test_an_account_without_email_gets_no_mail_and_nothing_fails(world):
    else_ = _create(world)
    assert enqueue("test:1", else_, "password_changed", changed_at=utcnow()) is None
    assert queued("test:") == []
    _free_every_day(else_)
    managed.sign_up_for(world["mette"], else_.id, world["need"].id, utcnow())
    exported = gdpr.export(else_, actor=world["mette"])
    assert exported["users"][0]["email"] is None
    assert "outbox_messages" not in exported or exported["outbox_messages"] == []
    gdpr.forget_person(else_, utcnow(), reason="test")
    db.session.commit()
    assert db.session.get(User, else_.id).deleted_at is not None


# --- Inviting by email -----------------------------------------------------------------


def test_an_emailed_invitation_lets_the_owner_claim_and_keep_the_history(app, client, world):
    else_ = _create(world, email="else@example.org")
    _free_every_day(else_)
    managed.sign_up_for(world["mette"], else_.id, world["need"].id, utcnow())
    log_in(client, world["mette"])
    response = client.post(
        f"/koordinator/frivillige/{else_.id}/invitation", data={"channel": "email"}
    )
    assert response.status_code == 302
    [message] = queued(f"claim-invitation:{else_.id}:")
    assert message.recipient_email == "else@example.org"
    assert "/konto/aktiver/" not in message.body_text  # only a marker until delivery
    link = re.search(r"http://samskab\.test(/konto/aktiver/\S+)", delivered_text(message))
    assert link, delivered_text(message)
    owner = app.test_client()
    page = _text(owner.get(link.group(1)))
    assert "Du logger ind med else@example.org." in page
    form = {"password": PASSWORD, "password_confirm": PASSWORD, "consent": "y"}
    assert owner.post(link.group(1), data=form).status_code == 302
    db.session.refresh(else_)
    assert else_.claimed_at is not None and else_.email_confirmed and not else_.managed
    assert else_.identity_confirmed  # the link proved the address
    held = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == else_.id))
    assert held.state == AssignmentState.ACCEPTED  # the history stays
    assert "Spiseven på Åbo" in _text(owner.get("/min-side/besoeg"))
    # The link works once; the coordinator no longer acts for them.
    assert owner.post(link.group(1), data=form).status_code == 302
    with pytest.raises(managed.NotManaged):
        managed.managed_volunteer(world["mette"], else_.id)
    fresh = app.test_client()
    log_in(fresh, "else@example.org", PASSWORD)


def test_an_invitation_needs_an_address_and_a_known_channel(client, world):
    else_ = _create(world)
    with pytest.raises(managed.NoAddress):
        managed.send_invitation(world["mette"], else_.id, "email")
    with pytest.raises(managed.UnknownChannel):
        managed.send_invitation(world["mette"], else_.id, "fax")
    without_phone = _create(world, name="Ib Uden Telefon", phone="")
    with pytest.raises(managed.NoAddress):
        managed.send_invitation(world["mette"], without_phone.id, "sms")
    log_in(client, world["mette"])
    response = client.post(
        f"/koordinator/frivillige/{else_.id}/invitation",
        data={"channel": "email"},
        follow_redirects=True,
    )
    assert "Else Jensen har ingen e-mailadresse. Udskriv i stedet et brev med en kode." in _text(
        response
    )
    response = client.post(
        f"/koordinator/frivillige/{without_phone.id}/invitation",
        data={"channel": "sms"},
        follow_redirects=True,
    )
    assert "Ib Uden Telefon har intet dansk mobilnummer" in _text(response)
    assert not queued(f"claim-invitation:{without_phone.id}:")


def test_an_sms_invitation_reaches_the_gateway_and_its_short_link_claims_the_account(
    app, client, world
):
    from support.sms_gateway import FakeGateway
    from volunteer.notifications import delivery, sms

    else_ = _create(world, name="Else Uden Mail")
    _free_every_day(else_)
    managed.sign_up_for(world["mette"], else_.id, world["need"].id, utcnow())
    log_in(client, world["mette"])
    page = _text(client.get(f"/koordinator/frivillige/{else_.id}"))
    assert "Send invitation på sms til 20 30 40 50" in page
    assert "Send invitation på e-mail" not in page
    response = client.post(
        f"/koordinator/frivillige/{else_.id}/invitation",
        data={"channel": "sms"},
        follow_redirects=True,
    )
    assert "Vi har sendt Else Uden Mail en invitation" in _text(response)
    [message] = queued(f"claim-invitation:{else_.id}:")
    assert message.channel == "sms" and message.to_phone == "+4520304050"
    assert "/konto/aktiver/" not in message.body_text and "/s/" not in message.body_text
    gateway = FakeGateway().start()
    app.config.update(SMS_URL=gateway.url, SMS_TOKEN=gateway.token, SMS_TIMEOUT_S=2)
    try:
        assert delivery.dispatch(utcnow())["sent"] == 1
    finally:
        gateway.stop()
    [payload] = gateway.received
    assert payload["recipients"] == [{"msisdn": 4520304050}]
    text = payload["message"]
    assert sms.gsm_length(text) <= 160, text
    days = app.config["CLAIM_LINK_MAX_AGE_S"] // 86400
    assert text.startswith("Samskab: Hej Else.") and f"inden for {days} dage" in text
    short = re.search(r"http://samskab\.test(/s/[A-Za-z0-9]+)$", text)
    assert short, text
    owner = app.test_client()
    opened = owner.get(short.group(1))
    assert opened.status_code == 303 and "/konto/aktiver/" in opened.headers["Location"]
    claim = opened.headers["Location"].removeprefix("http://samskab.test")
    # The link went to no address, so the owner gives one.
    assert 'name="email"' in owner.get(claim).get_data(as_text=True)
    form = {
        "email": "else@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": "y",
    }
    assert owner.post(claim, data=form).status_code == 302
    db.session.refresh(else_)
    assert else_.claimed_at is not None and not else_.managed
    assert else_.email == "else@example.org" and not else_.email_confirmed
    assert queued(f"email-confirm:{else_.id}:")
    held = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == else_.id))
    assert held.state == AssignmentState.ACCEPTED  # the history stays


def test_a_claim_link_expires_after_its_days(app, world):
    else_ = _create(world, email="else@example.org")
    with app.test_request_context():
        token = managed.make_claim_token(else_, "email")
    app.config["CLAIM_LINK_MAX_AGE_S"] = -1
    with pytest.raises(managed.InvalidClaim):
        managed.read_claim_token(token)


# --- The claim letter and its code -------------------------------------------------------


def _letter(client, world, user: User) -> tuple[PdfReader, str, str]:
    log_in(client, world["mette"])
    reader, text = _pdf_text(client.post(f"/koordinator/frivillige/{user.id}/aktiveringsbrev.pdf"))
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", text)
    assert code, text
    db.session.expire_all()  # the request wrote the code
    return reader, text, code.group(0)


def test_the_claim_letter_is_a_danish_a4_with_a_one_time_code(app, client, world):
    else_ = _create(world)
    reader, text, code = _letter(client, world, else_)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "Kære Else Jensen" in text and "/konto/aktiver" in text
    with app.test_request_context():
        expires = long_date(else_.claim_code_expires_at)
    assert expires.split()[0] in {
        "mandag",
        "tirsdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lørdag",
        "søndag",
    }
    assert expires in text.replace("\n", " ")
    assert "Mette Hansen: +45 75 00 00 01" in text
    assert min(_font_sizes(reader)) >= printing.BODY_PT
    assert code.replace("-", "") not in (else_.claim_code_hash or "")  # only a hash is kept
    assert (
        db.session.scalar(
            select(AuditEvent.actor_id).where(AuditEvent.action == "account.claim_letter_printed")
        )
        == world["mette"].id
    )


def test_the_code_claims_the_account_once(app, client, world):
    else_ = _create(world)
    _free_every_day(else_)
    managed.sign_up_for(world["mette"], else_.id, world["need"].id, utcnow())
    _reader, _text_, code = _letter(client, world, else_)
    owner = app.test_client()
    data = {
        "code": code.lower().replace("-", " "),  # typed as people type it
        "email": "Else@Example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "consent": "y",
    }
    response = owner.post("/konto/aktiver", data=data)
    assert response.status_code == 302
    db.session.refresh(else_)
    assert else_.email == "else@example.org" and else_.claimed_at is not None
    assert else_.claim_code_hash is None
    # A new address is confirmed the usual way; until then the ordinary gate holds.
    assert not else_.email_confirmed and not else_.identity_confirmed
    assert queued(f"email-confirm:{else_.id}:")
    assert db.session.scalar(select(Assignment.state)) == AssignmentState.ACCEPTED
    again = app.test_client().post("/konto/aktiver", data=data)
    assert "Vi kender ikke den kode" in _text(again)


def test_a_reprinted_letter_voids_the_old_code_and_codes_expire(app, client, world):
    else_ = _create(world)
    _r, _t, old = _letter(client, world, else_)
    _r, _t, new = _letter(client, world, else_)
    assert old != new
    now = utcnow()
    with pytest.raises(managed.InvalidClaim):
        managed.user_for_code(old, now)
    assert managed.user_for_code(new, now).id == else_.id
    later = now + timedelta(seconds=app.config["CLAIM_CODE_MAX_AGE_S"] + 60)
    with pytest.raises(managed.InvalidClaim):
        managed.claim_with_code(new, email="else@example.org", password=PASSWORD, now=later)
    for nonsense in ("", "ABCD", "ÆØÅÆ-ØÅÆØ-ÅÆØÅ", "' OR 1=1 --"):
        with pytest.raises(managed.InvalidClaim):
            managed.user_for_code(nonsense, now)


def test_a_claim_cannot_take_another_accounts_email(client, world):
    factories.member(world["org"], email="taken@example.org")
    else_ = _create(world)
    _r, _t, code = _letter(client, world, else_)
    with pytest.raises(accounts.EmailTaken):
        managed.claim_with_code(code, email="taken@example.org", password=PASSWORD, now=utcnow())
    db.session.refresh(else_)
    assert else_.managed and else_.email is None


def test_claiming_with_a_code_is_rate_limited(backend, tmp_path):
    from support import make_app
    from volunteer.extensions import limiter

    for app in make_app(backend, tmp_path, RATELIMIT_ENABLED=True, CLAIM_RATE_LIMIT="3 per hour"):
        limiter._storage_dead = False
        limiter.reset()
        client = app.test_client()
        statuses = [
            client.post("/konto/aktiver", data={"code": "AAAA-BBBB-CCCC"}).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]


def test_a_password_reset_claims_a_kept_account_with_an_email(world):
    else_ = _create(world, email="else@example.org")
    accounts.reset_password(accounts.make_reset_token(else_), PASSWORD)
    assert else_.claimed_at is not None and not else_.managed and else_.email_confirmed


# --- The letter to a person about their visiting friend -----------------------------------


def test_a_person_gets_a_letter_about_their_new_visiting_friend(app, client, world):
    person = factories.person(world["org"], name="Inger Åberg")
    friend = factories.member(world["org"], name="Søren Østergård", phone="+45 20 30 40 50")
    log_in(client, world["mette"])
    assert "Brev om en ny besøgsven" in _text(client.get(f"/koordinator/borgere/{person.id}"))
    first = datetime(2026, 12, 9, tzinfo=UTC).date()  # a Wednesday
    reader, text = _pdf_text(
        client.post(
            f"/koordinator/borgere/{person.id}/brev.pdf",
            data={
                "volunteer_id": friend.id,
                "weekday": "2",
                "starts": "14:30",
                "first_date": first.isoformat(),
            },
        )
    )
    flat = text.replace("\n", " ")
    assert "Kære Inger Åberg" in flat and "Søren vil besøge dig" in flat
    assert "Hver onsdag klokken 14.30" in flat
    assert "Første gang: onsdag den 9. december 2026" in flat
    assert "+45 20 30 40 50" in flat and "Østergård" not in flat  # first name only
    assert min(_font_sizes(reader)) >= printing.BODY_PT
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "person.friend_letter_printed")
    )
    assert event.actor_id == world["mette"].id and event.details["volunteer_id"] == friend.id


def test_the_letter_is_only_for_the_own_organisations_person_and_volunteer(app, client, world):
    person = factories.person(world["org"])
    outsider = factories.member(world["other"], name="Anders Andet")
    log_in(client, world["mette"])
    data = {"volunteer_id": outsider.id, "weekday": "2", "starts": "14:30"}
    response = client.post(f"/koordinator/borgere/{person.id}/brev.pdf", data=data)
    assert response.status_code == 302  # not a choice: back to the page with the message
    stranger = app.test_client()
    log_in(stranger, world["stranger"])
    data["volunteer_id"] = outsider.id
    assert stranger.post(f"/koordinator/borgere/{person.id}/brev.pdf", data=data).status_code == 404
    assert (
        db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "person.friend_letter_printed")
        )
        is None
    )


def test_the_matching_leaves_kept_accounts_to_their_coordinator(world):
    else_ = _create(world)
    _free_every_day(else_)
    own = factories.free_volunteer(world["org"])
    today = local_today(utcnow())
    ids = {p.user_id for p in proposals.eligible_profiles(world["org"].id, today)}
    assert own.id in ids and else_.id not in ids


@pytest.mark.parametrize("template", ["approval_asked", "need_interest"])
def test_mail_about_a_volunteer_without_email_leaves_the_address_out(world, template):
    else_ = _create(world)
    message = enqueue(
        f"about:{template}",
        world["mette"],
        template,
        volunteer=else_,
        need=world["need"],
        reasons=[],
    )
    assert message is not None
    assert "None" not in message.body_text and "E-mail" not in message.body_text
    assert "20 30 40 50" in message.body_text


def test_a_link_to_an_account_without_email_asks_for_one_and_confirms_it_by_mail(app, world):
    """The path an SMS invitation will take: the link did not go to an address, so the owner
    gives one and confirms it the usual way."""
    else_ = _create(world)
    with app.test_request_context():
        token = managed.make_claim_token(else_, "sms")
    with pytest.raises(managed.EmailNeeded):
        managed.claim_with_link(token, password=PASSWORD, email=None, now=utcnow())
    factories.member(world["org"], email="taken@example.org")
    with pytest.raises(accounts.EmailTaken):
        managed.claim_with_link(token, password=PASSWORD, email="taken@example.org", now=utcnow())
    db.session.refresh(else_)
    assert else_.managed and else_.email is None
    managed.claim_with_link(token, password=PASSWORD, email="else@example.org", now=utcnow())
    assert else_.email == "else@example.org" and not else_.email_confirmed
    assert queued(f"email-confirm:{else_.id}:")
    with pytest.raises(managed.InvalidClaim):  # once
        managed.read_claim_token(token)


# --- The waiting list ----------------------------------------------------------------------


def _full_need_with(world, else_: User) -> tuple:
    """A one-place need held by someone else, with ``else_`` next on its waiting list."""
    from volunteer import bookings

    need = factories.need(
        world["org"],
        world["need"].activity_type,
        title="Lektiecafé i Løsning",
        weekday=world["day"].weekday(),
        first_date=world["day"],
        start_time=time(16),
        end_time=time(17),
        slots=1,
    )
    sync_occurrences(need, local_today(utcnow()))
    holder = factories.free_volunteer(world["org"], email="holder@example.org")
    db.session.commit()
    held = signup.sign_up(holder, need.id, utcnow()).assignment
    _free_every_day(else_)
    result = managed.sign_up_for(world["mette"], else_.id, need.id, utcnow())
    assert result.waitlisted
    return need, held, bookings


def test_a_free_place_is_offered_to_a_kept_account_by_sms_to_answer_the_coordinator(world):
    else_ = _create(world, name="Else Uden Mail")
    need, held, bookings = _full_need_with(world, else_)
    now = utcnow()
    bookings.move(held, AssignmentState.WITHDRAWN, now)
    offered = signup.offer_next(need, now)
    db.session.commit()
    assert offered is not None and offered.volunteer_id == else_.id
    assert offered.state == AssignmentState.INVITED
    [message] = queued(f"invitation:{offered.id}:")
    assert message.channel == "sms" and message.to_phone == "+4520304050"
    from volunteer.notifications import sms

    assert sms.gsm_length(message.body_text) <= 160, message.body_text
    assert "Ring til Mette Hansen +45 75 00 00 01 senest" in message.body_text
    assert "Lektiecafé i Løsning" in message.body_text


def test_a_kept_account_without_a_phone_is_skipped_and_its_coordinator_told(world):
    else_ = _create(world, name="Else Uden Mail", phone="")
    need, held, bookings = _full_need_with(world, else_)
    after = factories.free_volunteer(world["org"], email="naeste@example.org")
    db.session.commit()
    assert signup.sign_up(after, need.id, utcnow()).waitlisted
    now = utcnow()
    bookings.move(held, AssignmentState.WITHDRAWN, now)
    offered = signup.offer_next(need, now)
    db.session.commit()
    assert offered is not None and offered.volunteer_id == after.id
    [invitation] = queued(f"invitation:{offered.id}:")
    assert invitation.recipient_email == "naeste@example.org"
    waiting = db.session.scalar(select(Assignment).where(Assignment.volunteer_id == else_.id))
    assert waiting.state == AssignmentState.WAITLISTED  # she keeps her place in line
    [told] = queued(f"waitlist-keeper:{waiting.id}:")
    assert told.recipient_email == "mette@example.org"
    assert told.subject == (
        "Else Uden Mail er næste på ventelisten til Lektiecafé i Løsning – ring til Else"
    )
    assert "Ring til Else Uden Mail" in told.body_text
    assert not queued(f"invitation:{waiting.id}:")
