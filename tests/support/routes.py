"""The route table: every route × every kind of user → the expected status, and the ``world``
fixture it is asked in (registered as a plugin; the authorization matrix, the CSRF and the XSS
tests all read this one table).

The matrix is checked against ``app.url_map``: a new route without a row here fails the test,
so nobody adds a page without deciding who may use it.
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from support import factories
from support.factories import assignment, coordinator, member, occurrence, visit
from volunteer.coordination.models import RunState
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import (
    ActivityLead,
    AssignmentState,
    AwayPeriod,
    Centre,
    Forloeb,
    ForloebCheckin,
    ForloebState,
    MatchRun,
    OidcLink,
    OutboxMessage,
    Pool,
    ProposalComment,
    ProposalNeed,
    Role,
)

ROLES = (
    "anonymous",
    "volunteer",
    "other_volunteer",
    "coordinator",
    "other_coordinator",
    "centre",
    "other_centre",
    "admin",
)
LOGIN = "login"  # redirected to the login page
# Routes that end the session or change what other rows mean (a renewed calendar link).
SESSION_CHANGING = ("auth.logout", "volunteers.delete_account", "volunteers.renew_calendar")

# What each kind of page answers, role by role (in ROLES order).
PUBLIC = (200,) * 8
ACTION = (302,) * 8
SIGNED_IN = (LOGIN,) + (200,) * 7
OWN_VOLUNTEER = (LOGIN, 200, 404, 403, 403, 403, 403, 403)
VOLUNTEER = (LOGIN, 200, 200, 403, 403, 403, 403, 403)
COORDINATION = (LOGIN, 403, 403, 200, 200, 403, 403, 200)
OWN_ORGANISATION = (LOGIN, 403, 403, 200, 404, 403, 403, 200)
CENTRE = (LOGIN, 403, 403, 403, 403, 200, 200, 403)
ADMIN = (LOGIN, 403, 403, 403, 403, 403, 403, 200)
AUTHOR = (LOGIN, 200) + (403,) * 6
# A citizen cannot answer a proposal; a coordinator of another organisation neither.
ANSWERER = (LOGIN, 403, 403, 200, 403, 403, 403, 200)
ANSWERER_ACTION = (LOGIN, 403, 403, 302, 403, 403, 403, 302)


@pytest.fixture
def world(app):
    org, other_org = (
        factories.organisation("Hedensted Kommune"),
        factories.organisation("Røde Kors"),
    )
    place = factories.centre(org, name="Plejecenter Bakkegården")
    other_place = factories.centre(other_org, name="Plejecenter Solvang")
    activity = factories.activity_type("spisevenner")
    need = factories.need(org, activity, title="Spiseven", centre=place)
    users = {
        "volunteer": member(org),
        "other_volunteer": member(other_org),
        "coordinator": coordinator(org),
        "other_coordinator": coordinator(other_org),
        "centre": factories.user(role=Role.CENTRE, centres=[place]),
        "other_centre": factories.user(role=Role.CENTRE, centres=[other_place]),
        "admin": factories.user(role=Role.ADMIN),
    }
    volunteer = users["volunteer"]
    held = assignment(need, volunteer, AssignmentState.ACCEPTED)
    occ = occurrence(need, utcnow() + timedelta(days=2))
    booked = visit(occ, volunteer)
    away = AwayPeriod(
        profile=volunteer.profile,
        start_date=utcnow().date() + timedelta(days=30),
        end_date=utcnow().date() + timedelta(days=40),
    )
    run = MatchRun(organisation=org, status="optimal", state=RunState.DONE)
    db.session.add_all([away, run])
    db.session.commit()
    proposal = assignment(
        factories.need(org, activity, title="Besøgsven"), volunteer, AssignmentState.PROPOSED
    )
    proposal.match_run_id = run.id
    message = OutboxMessage(
        dedup_key="matrix",
        recipient_email=volunteer.email,
        recipient_id=volunteer.id,
        subject="s",
        body_text="b",
    )
    db.session.add(message)
    activity.for_persons = True
    db.session.commit()
    waiting = OidcLink(provider="entra", subject="matrix-subject", user=users["coordinator"])
    # A volunteer's first login waiting for a coordinator of their organisation.
    waiting_volunteer = OidcLink(
        provider="mitid", subject="matrix-frivillig", user=users["volunteer"]
    )
    db.session.add_all([waiting, waiting_volunteer])
    db.session.commit()
    person = factories.person(org, activity)
    referral = factories.referral(org)
    kept = factories.managed(org, users["coordinator"], name="Else Uden Mail")
    pair = Forloeb(
        person=person,
        volunteer=volunteer,
        organisation=org,
        activity_type=activity,
        start_date=utcnow().date(),
        weekday=2,
        start_time=time(14),
        end_time=time(16),
        state=ForloebState.ACTIVE,
        activated_on=utcnow().date(),
    )
    checkin = ForloebCheckin(
        forloeb=pair,
        due_on=utcnow().date(),
        respondent="volunteer",
        answer="talk",
        answered_at=utcnow(),
    )
    db.session.add_all([pair, checkin])
    forslag = factories.proposal(volunteer, org, title="Gåklub i Løsning")
    comment = ProposalComment(proposal_id=forslag.id, author_id=volunteer.id, body="God idé")
    db.session.add(comment)
    pool_area = factories.local_area("Puljeby", "7130")
    db.session.flush()
    pool = Pool(local_area_id=pool_area.id, year=utcnow().year, amount_ore=1_000_000, voting=True)
    db.session.add(pool)
    # The volunteer is the tovholder of the world's need, as if the proposal had become it.
    db.session.add_all(
        [
            ProposalNeed(need_id=need.id, proposal_id=forslag.id),
            ActivityLead(need_id=need.id, user_id=volunteer.id),
        ]
    )
    db.session.commit()
    return {
        "users": users,
        "need": need.id,
        "assignment": held.id,
        "visit": booked.id,
        "away": away.id,
        "run": run.id,
        "proposal": proposal.id,
        "message": message.id,
        "calendar": volunteer.profile.calendar_token,
        "volunteer_id": volunteer.id,
        "centre": db.session.get(Centre, place.id).id,
        "person": person.id,
        "referral": referral.id,
        "managed_id": kept.id,
        "forloeb": pair.id,
        "checkin": checkin.id,
        "oidc_link": waiting.id,
        "forslag": forslag.id,
        "forslag_comment": comment.id,
        "pool": pool.id,
        "pool_area": pool_area.id,
        "volunteer_oidc_link": waiting_volunteer.id,
    }


def routes(w):
    """endpoint → (method, url, expected statuses by role)."""
    return {
        "main.index": ("get", "/", PUBLIC),
        "main.about": ("get", "/om", PUBLIC),
        "main.privacy": ("get", "/privatliv", PUBLIC),
        "main.accessibility": ("get", "/tilgaengelighed", PUBLIC),
        "main.favicon": ("get", "/favicon.ico", PUBLIC),
        "main.healthz": ("get", "/healthz", PUBLIC),
        "main.readyz": ("get", "/readyz", PUBLIC),
        "main.language": ("post", "/sprog", ACTION),
        "auth.register": ("get", "/konto/opret", (200,) + (302,) * 7),
        "auth.login": ("get", "/konto/log-ind", (200,) + (302,) * 7),
        "auth.logout": ("post", "/konto/log-ud", (LOGIN,) + (302,) * 7),
        "auth.forgot_password": ("get", "/konto/glemt-adgangskode", PUBLIC),
        "auth.reset_password": ("get", "/konto/nulstil/ugyldig", ACTION),
        "auth.account": ("get", "/konto/", SIGNED_IN),
        "auth.change_password": ("post", "/konto/adgangskode", SIGNED_IN),
        "auth.change_email": ("post", "/konto/email", SIGNED_IN),
        "auth.change_contact": ("post", "/konto/kontakt", SIGNED_IN),
        "auth.confirm_email": ("get", "/konto/ny-email/ugyldig", ACTION),
        "volunteers.cannot_come": ("get", "/min-side/afbud/ugyldig", ACTION),
        "auth.confirm_address": ("get", "/konto/bekraeft/ugyldig", (LOGIN,) + (302,) * 7),
        "auth.claim_account": ("get", "/konto/aktiver/ugyldig", ACTION),
        "auth.claim_with_code": ("get", "/konto/aktiver", PUBLIC),
        "auth.resend_confirmation": ("post", "/konto/bekraeft-igen", (LOGIN,) + (302,) * 7),
        # Two-factor: the code step only after a password (else the login page, or the start
        # page when logged in); setting it up for any logged-in account.
        "auth.two_factor": ("get", "/konto/to-faktor/kode", (LOGIN,) + (302,) * 7),
        "auth.two_factor_setup": ("get", "/konto/to-faktor", SIGNED_IN),
        # Without two-factor on (nobody in the world has it): back to set-up / the account.
        "auth.new_recovery_codes": (
            "post",
            "/konto/to-faktor/nye-koder",
            (LOGIN,) + (302,) * 7,
        ),
        "auth.two_factor_off": ("post", "/konto/to-faktor/slaa-fra", (LOGIN,) + (302,) * 7),
        # Single sign-on: the world has no provider configured, so every provider is unknown.
        "auth.oidc_start": ("get", "/konto/oidc/entra", (404,) * 8),
        "auth.oidc_callback": ("get", "/konto/oidc/entra/retur", (404,) * 8),
        "auth.oidc_connect": ("post", "/konto/oidc/entra/forbind", (LOGIN,) + (404,) * 7),
        # No one in the world is linked to "ingen" (the waiting "entra" link must stay for admin).
        "auth.oidc_disconnect": ("post", "/konto/oidc/ingen/afbryd", (LOGIN,) + (302,) * 7),
        "auth.oidc_link": ("get", "/konto/oidc/forbind", (LOGIN,) + (302,) * 7),
        "auth.oidc_request_link": (
            "post",
            "/konto/oidc/forbind/godkendelse",
            (LOGIN,) + (302,) * 7,
        ),
        "needs.index": ("get", "/opgaver/", PUBLIC),
        "needs.detail": ("get", f"/opgaver/{w['need']}", PUBLIC),
        "needs.sign_up": (
            "post",
            f"/opgaver/{w['need']}/tilmeld",
            (LOGIN,) + (302,) * 2 + (403,) * 5,
        ),
        "needs.interest": (
            "post",
            f"/opgaver/{w['need']}/interesseret",
            (LOGIN,) + (302,) * 2 + (403,) * 5,
        ),
        "needs.answer_invitation": (
            "post",
            f"/opgaver/tilbud/{w['assignment']}/nej",
            (LOGIN, 302, 404) + (403,) * 5,
        ),
        "needs.create": ("get", "/opgaver/ny", COORDINATION),
        "needs.edit": ("get", f"/opgaver/{w['need']}/rediger", OWN_ORGANISATION),
        "needs.people": ("get", f"/opgaver/{w['need']}/frivillige", OWN_ORGANISATION),
        "needs.change_status": (
            "post",
            f"/opgaver/{w['need']}/kopier",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "volunteers.home": ("get", "/min-side/", SIGNED_IN),
        "volunteers.profile": ("get", "/min-side/oplysninger", VOLUNTEER),
        "volunteers.availability": ("get", "/min-side/tider", VOLUNTEER),
        "volunteers.away": ("get", "/min-side/fravaer", VOLUNTEER),
        "volunteers.away_visits": (
            "get",
            f"/min-side/fravaer/{w['away']}/besoeg",
            OWN_VOLUNTEER,
        ),
        "volunteers.remove_away": (
            "post",
            f"/min-side/fravaer/{w['away']}/slet",
            (LOGIN, 302, 404) + (403,) * 5,
        ),
        "volunteers.visits": ("get", "/min-side/besoeg", VOLUNTEER),
        "volunteers.schedule_pdf": ("get", "/min-side/besoeg/skema.pdf", VOLUNTEER),
        "volunteers.withdraw": (
            "get",
            f"/min-side/aftaler/{w['assignment']}/meld-fra",
            OWN_VOLUNTEER,
        ),
        "volunteers.cancel_visit": ("get", f"/min-side/besoeg/{w['visit']}/aflys", OWN_VOLUNTEER),
        "volunteers.history_page": ("get", "/min-side/historik", VOLUNTEER),
        "volunteers.certificate": ("get", "/min-side/historik/bevis", VOLUNTEER),
        "volunteers.calendar_page": ("get", "/min-side/kalender", VOLUNTEER),
        "volunteers.renew_calendar": (
            "post",
            "/min-side/kalender/nyt-link",
            (LOGIN, 302, 302) + (403,) * 5,
        ),
        "volunteers.calendar_feed": ("get", f"/min-side/kalender/{w['calendar']}.ics", PUBLIC),
        "volunteers.my_data": ("get", "/min-side/mine-data", SIGNED_IN),
        "volunteers.export_json": ("get", "/min-side/mine-data.json", SIGNED_IN),
        "volunteers.export_html": ("get", "/min-side/mine-data/vis", SIGNED_IN),
        "volunteers.delete_account": ("get", "/min-side/slet-konto", SIGNED_IN),
        "coordination.index": ("get", "/koordinator/", COORDINATION),
        "coordination.needs": ("get", "/koordinator/opgaver", COORDINATION),
        "coordination.volunteers": ("get", "/koordinator/frivillige", COORDINATION),
        "coordination.approvals_queue": ("get", "/koordinator/godkendelser", COORDINATION),
        # The world's assignment is accepted, not pending: nobody can answer it (404).
        "coordination.answer_approval": (
            "post",
            f"/koordinator/godkendelser/{w['assignment']}/afvis",
            (LOGIN, 403, 403, 404, 404, 403, 403, 404),
        ),
        "coordination.volunteer_schedule_pdf": (
            "get",
            f"/koordinator/frivillige/{w['volunteer_id']}/skema.pdf",
            OWN_ORGANISATION,
        ),
        "coordination.volunteer_detail": (
            "get",
            f"/koordinator/frivillige/{w['volunteer_id']}",
            OWN_ORGANISATION,
        ),
        "coordination.create_managed_volunteer": (
            "get",
            "/koordinator/frivillige/ny",
            COORDINATION,
        ),
        "coordination.managed_availability": (
            "get",
            f"/koordinator/frivillige/{w['managed_id']}/tider",
            OWN_ORGANISATION,
        ),
        "coordination.managed_sign_up": (
            "get",
            f"/koordinator/frivillige/{w['managed_id']}/tilmeld",
            OWN_ORGANISATION,
        ),
        # No email: the coordinator is told to print a letter instead (a redirect).
        "coordination.send_claim_invitation": (
            "post",
            f"/koordinator/frivillige/{w['managed_id']}/invitation",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "coordination.claim_letter_pdf": (
            "post",
            f"/koordinator/frivillige/{w['managed_id']}/aktiveringsbrev.pdf",
            OWN_ORGANISATION,
        ),
        "coordination.run_matching": ("get", "/koordinator/matchning", COORDINATION),
        "coordination.link_queue": ("get", "/koordinator/login-forbindelser", COORDINATION),
        # Another organisation's coordinator cannot see the volunteer's waiting login (404);
        # the own coordinator refuses it, so the administrator after them finds nothing (404;
        # admin.decide_link shows an administrator deciding).
        "coordination.decide_link": (
            "post",
            f"/koordinator/login-forbindelser/{w['volunteer_oidc_link']}/afvis",
            (LOGIN, 403, 403, 302, 404, 403, 403, 404),
        ),
        "coordination.review": ("get", f"/koordinator/matchning/{w['run']}", OWN_ORGANISATION),
        "coordination.run_progress": (
            "get",
            f"/koordinator/matchning/{w['run']}/status",
            OWN_ORGANISATION,
        ),
        "coordination.run_progress_json": (
            "get",
            f"/koordinator/matchning/{w['run']}/status.json",
            OWN_ORGANISATION,
        ),
        "coordination.decide": (
            "post",
            f"/koordinator/matchning/{w['run']}/beslut",
            (LOGIN, 403, 403, 302, 302, 403, 403, 302),
        ),
        "coordination.swap": (
            "post",
            f"/koordinator/matchning/{w['run']}/byt/{w['proposal']}",
            (LOGIN, 403, 403, 404, 404, 403, 403, 404),
        ),
        "centres.index": ("get", "/center/", CENTRE),
        "centres.week_pdf": ("get", "/center/uge.pdf", CENTRE),
        "centres.record": (
            "post",
            f"/center/besoeg/{w['visit']}",
            (LOGIN, 403, 403, 403, 403, 302, 404, 403),
        ),
        "centres.visit_link": ("get", "/center/link/ugyldig", (400,) * 8),
        "centres.ask_for_help": ("post", "/center/bed-om-hjaelp", CENTRE),
        "reports.index": ("get", "/rapporter/", COORDINATION),
        "reports.export_csv": ("get", "/rapporter/tal.csv", COORDINATION),
        "reports.export_xlsx": ("get", "/rapporter/tal.xlsx", COORDINATION),
        "reports.export_volunteers": ("get", "/rapporter/frivillige.csv", COORDINATION),
        "reports.status": ("get", "/rapporter/status", COORDINATION),
        "reports.export_co_created": ("get", "/rapporter/samskabt.csv", COORDINATION),
        "admin.index": ("get", "/admin/", ADMIN),
        "admin.organisations": ("get", "/admin/organisationer/", ADMIN),
        "admin.edit_organisation": ("get", "/admin/organisationer/ny", ADMIN),
        "admin.local_areas": ("get", "/admin/lokalomraader/", ADMIN),
        "admin.edit_local_area": ("get", "/admin/lokalomraader/ny", ADMIN),
        "admin.centres": ("get", "/admin/centre/", ADMIN),
        "admin.edit_centre": ("get", f"/admin/centre/{w['centre']}", ADMIN),
        "admin.activity_types": ("get", "/admin/aktiviteter/", ADMIN),
        "admin.edit_activity_type": ("get", "/admin/aktiviteter/ny", ADMIN),
        "admin.staff": ("get", "/admin/personale/", ADMIN),
        "admin.invite_staff": ("get", "/admin/personale/inviter", ADMIN),
        "admin.edit_staff": ("get", f"/admin/personale/{w['users']['coordinator'].id}", ADMIN),
        "admin.set_staff_active": (
            "post",
            f"/admin/personale/{w['users']['other_centre'].id}/aktiver",
            (LOGIN,) + (403,) * 6 + (302,),
        ),
        "admin.resend_invitation": (
            "post",
            f"/admin/personale/{w['users']['other_centre'].id}/send-invitation",
            (LOGIN,) + (403,) * 6 + (302,),
        ),
        "admin.login_settings": ("get", "/admin/login", ADMIN),
        "admin.decide_link": (
            "post",
            f"/admin/login/forbindelser/{w['oidc_link']}/afvis",
            (LOGIN,) + (403,) * 6 + (302,),
        ),
        "admin.reset_two_factor": (
            "post",
            f"/admin/personale/{w['users']['other_centre'].id}/to-faktor",
            (LOGIN,) + (403,) * 6 + (302,),
        ),
        "notifications.outbox": ("get", "/admin/udbakke/", COORDINATION),
        "notifications.message": ("get", f"/admin/udbakke/{w['message']}", OWN_ORGANISATION),
        "notifications.retry": (
            "post",
            f"/admin/udbakke/{w['message']}/send-igen",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "notifications.scheduler_status": ("get", "/admin/planlaegger", ADMIN),
        # The gateway's delivery reports: the signature is the permission, whoever is logged in.
        "sms.status": ("post", "/sms/status", (403,) * 8),
        "sms.short_link": ("get", "/s/ugyldig23", ACTION),
        "persons.refer": ("get", "/henvisning", PUBLIC),
        "persons.referral_received": ("get", "/henvisning/tak", ACTION),
        "persons.index": ("get", "/koordinator/borgere", COORDINATION),
        "persons.create": ("get", "/koordinator/borgere/ny", COORDINATION),
        "persons.detail": ("get", f"/koordinator/borgere/{w['person']}", OWN_ORGANISATION),
        "persons.edit": ("get", f"/koordinator/borgere/{w['person']}/rediger", OWN_ORGANISATION),
        "persons.change_state": (
            "post",
            f"/koordinator/borgere/{w['person']}/status",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "persons.export_json": (
            "get",
            f"/koordinator/borgere/{w['person']}/data.json",
            OWN_ORGANISATION,
        ),
        "persons.export_html": (
            "get",
            f"/koordinator/borgere/{w['person']}/data",
            OWN_ORGANISATION,
        ),
        "persons.erase": ("get", f"/koordinator/borgere/{w['person']}/slet", OWN_ORGANISATION),
        # An empty form goes back to the person's page with what is missing.
        "persons.friend_letter": (
            "post",
            f"/koordinator/borgere/{w['person']}/brev.pdf",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "persons.referral_queue": ("get", "/koordinator/henvisninger", COORDINATION),
        "persons.referral": (
            "get",
            f"/koordinator/henvisninger/{w['referral']}",
            OWN_ORGANISATION,
        ),
        "pairs.index": ("get", "/koordinator/forloeb", COORDINATION),
        "pairs.candidates": (
            "get",
            f"/koordinator/borgere/{w['person']}/kandidater",
            OWN_ORGANISATION,
        ),
        # An empty form: back to the candidates with a message, nothing proposed.
        "pairs.propose": (
            "post",
            f"/koordinator/borgere/{w['person']}/foreslaa",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "pairs.detail": ("get", f"/koordinator/forloeb/{w['forloeb']}", OWN_ORGANISATION),
        "pairs.change_state": (
            "post",
            f"/koordinator/forloeb/{w['forloeb']}/status",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        "pairs.task_done": (
            "post",
            f"/koordinator/forloeb/opgaver/{w['checkin']}/klaret",
            (LOGIN, 403, 403, 302, 404, 403, 403, 302),
        ),
        # A volunteer sees only their own forløb; the person's other volunteers nothing.
        "pairs.volunteer_detail": ("get", f"/min-side/forloeb/{w['forloeb']}", OWN_VOLUNTEER),
        "pairs.answer": (
            "post",
            f"/min-side/forloeb/{w['forloeb']}/svar",
            (LOGIN, 302, 404) + (403,) * 5,
        ),
        "pairs.checkin": ("get", "/hvordan-gaar-det/ugyldig", ACTION),
        # An empty reason: the page comes back with the error, nothing is declined.
        "persons.decline_referral": (
            "post",
            f"/koordinator/henvisninger/{w['referral']}/afvis",
            (LOGIN, 403, 403, 200, 404, 403, 403, 200),
        ),
        "proposals.index": ("get", "/forslag", PUBLIC),
        "proposals.create": ("get", "/forslag/nyt", SIGNED_IN),
        "proposals.detail": ("get", f"/forslag/{w['forslag']}", PUBLIC),
        # Only its authors edit a proposal (the world's is the volunteer's).
        "proposals.edit": ("get", f"/forslag/{w['forslag']}/rediger", AUTHOR),
        # Sent already: a message, nothing changes.
        "proposals.submit": ("post", f"/forslag/{w['forslag']}/indsend", (LOGIN,) + (302,) * 7),
        "proposals.invite": (
            "post",
            f"/forslag/{w['forslag']}/medforfattere",
            (LOGIN, 302) + (403,) * 6,
        ),
        "proposals.coauthor": ("get", "/forslag/medforfatter/ugyldig", (LOGIN,) + (302,) * 7),
        "proposals.support": ("post", f"/forslag/{w['forslag']}/med", (LOGIN,) + (302,) * 7),
        "proposals.follow": ("post", f"/forslag/{w['forslag']}/foelg", (LOGIN,) + (302,) * 7),
        "proposals.comment": (
            "post",
            f"/forslag/{w['forslag']}/kommentarer",
            (LOGIN,) + (302,) * 7,
        ),
        "proposals.report": (
            "post",
            f"/forslag/kommentarer/{w['forslag_comment']}/anmeld",
            (LOGIN,) + (302,) * 7,
        ),
        # Only the coordinators who answer the proposal (and admins) hide a comment.
        "proposals.hide": (
            "post",
            f"/forslag/kommentarer/{w['forslag_comment']}/skjul",
            ANSWERER_ACTION,
        ),
        "proposals.answer": ("get", f"/forslag/{w['forslag']}/svar", ANSWERER),
        "proposals.queue": ("get", "/koordinator/forslag", COORDINATION),
        # Not adopted yet: the answerers are sent back to the proposal with a message.
        "proposals.adopt": ("get", f"/forslag/{w['forslag']}/opgave", ANSWERER_ACTION),
        # The tovholder (the world's volunteer) and the coordinators who answer it.
        "proposals.activity": (
            "get",
            f"/forslag/{w['forslag']}/aktivitet",
            (LOGIN, 200, 403, 200, 403, 403, 403, 200),
        ),
        # The world's proposal has no fund: a message, nothing counted.
        "proposals.vote": ("post", f"/forslag/{w['forslag']}/stem", (LOGIN,) + (302,) * 7),
        "proposals.pools_index": ("get", "/puljer", PUBLIC),
        "proposals.pool_detail": ("get", f"/puljer/{w['pool']}", PUBLIC),
        "proposals.create_pool": ("get", "/puljer/ny", ADMIN),
        # The tovholder (the world's volunteer) and the coordinators who manage the need.
        "proposals.record_closeout": (
            "post",
            f"/forslag/aktivitet/{w['need']}/afslut",
            (LOGIN, 302, 403, 302, 403, 403, 403, 302),
        ),
        # The world's visit is ahead: a message that it has not started, nothing recorded.
        "proposals.confirm_visit": (
            "post",
            f"/forslag/aktivitet/besoeg/{w['visit']}",
            (LOGIN, 302, 403, 302, 403, 403, 403, 302),
        ),
    }
