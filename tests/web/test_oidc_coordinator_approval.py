"""A coordinator approves or refuses a volunteer's first login through an identity provider
(the link to their account), for the coordinator's own organisations only; staff accounts'
links stay with an administrator."""

from __future__ import annotations

from sqlalchemy import select

from support.factories import coordinator, member, organisation, user
from volunteer.audit import AuditEvent
from volunteer.auth import oidc
from volunteer.auth.models import OidcLink, Role
from volunteer.coordination import attention
from volunteer.db import utcnow
from volunteer.extensions import db


def _waiting(account, subject: str = "sub-1") -> OidcLink:
    link = OidcLink(provider="mitid", subject=subject, user=account)
    db.session.add(link)
    db.session.commit()
    return link


def test_a_coordinator_sees_only_their_own_organisations_volunteers(app):
    org, other = organisation("Hedensted Kommune"), organisation("Røde Kors")
    boss = coordinator(org)
    mine = _waiting(member(org), "a")
    _waiting(member(other), "b")
    _waiting(coordinator(org), "c")  # a colleague: for an administrator
    _waiting(boss, "d")  # never their own
    links, total = oidc.links_waiting_for(boss)
    assert [link.id for link in links] == [mine.id] and total == 1
    assert oidc.links_waiting_for(user(role=Role.ADMIN))[1] == 4
    assert oidc.links_waiting_for(member(org))[1] == 0
    section = attention.attention_for(boss, utcnow()).waiting_links
    assert [link.id for link in section.rows] == [mine.id] and section.total == 1


def test_the_start_page_and_the_queue_list_the_waiting_login(client, auth):
    org = organisation()
    boss = coordinator(org)
    volunteer = member(org, name="Mette Frivillig")
    _waiting(volunteer)
    auth(boss)
    start = client.get("/koordinator/").get_data(as_text=True)
    assert f"/koordinator/frivillige/{volunteer.id}" in start  # the name links to the volunteer
    assert "Første log ind, der venter på godkendelse" in start
    assert "Mette Frivillig" in start
    assert "/koordinator/login-forbindelser" in start
    queue = client.get("/koordinator/login-forbindelser").get_data(as_text=True)
    assert "Mette Frivillig" in queue and "Godkend" in queue


def test_a_coordinator_approves_and_it_is_audited(client, auth):
    org = organisation()
    boss = coordinator(org)
    link = _waiting(member(org))
    auth(boss)
    response = client.post(f"/koordinator/login-forbindelser/{link.id}/godkend")
    assert response.status_code == 302
    db.session.expire_all()
    link = db.session.get(OidcLink, link.id)
    assert link.approved and link.approved_by_id == boss.id
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.oidc_link_approved")
    )
    assert event is not None and event.actor_id == boss.id
    # Decided once: a second answer finds nothing waiting.
    again = client.post(f"/koordinator/login-forbindelser/{link.id}/afvis")
    assert again.status_code == 404


def test_a_coordinator_refuses_and_the_link_goes(client, auth):
    org = organisation()
    boss = coordinator(org)
    link_id = _waiting(member(org)).id
    auth(boss)
    assert client.post(f"/koordinator/login-forbindelser/{link_id}/afvis").status_code == 302
    db.session.expire_all()
    assert db.session.get(OidcLink, link_id) is None
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.oidc_link_rejected")
    )


def test_another_organisation_or_a_colleague_cannot_be_decided(client, auth):
    org, other = organisation("Hedensted Kommune"), organisation("Røde Kors")
    boss = coordinator(org)
    foreign = _waiting(member(other), "x").id
    colleague = _waiting(coordinator(org), "y").id
    own = _waiting(boss, "z").id
    auth(boss)
    for link_id in (foreign, colleague, own):
        assert client.post(f"/koordinator/login-forbindelser/{link_id}/godkend").status_code == 404
    db.session.expire_all()
    assert all(not db.session.get(OidcLink, i).approved for i in (foreign, colleague, own))
