"""#15 acceptance: a citizen in Løsning proposes a walking club asking for 2.000 kr., two
neighbours join and vote, the council adopts it and grants the money, it becomes a need whose
helpers are invited first, the tovholder confirms the first visit, and the fund's public page
shows 2.000,00 kr. spent — every page on the way passes axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from e2e_helpers import _log_in, assert_accessible
from support import factories
from volunteer.catalogue.models import LocalArea, Organisation
from volunteer.centres.models import Visit
from volunteer.coordination.models import Assignment
from volunteer.extensions import db
from volunteer.models import Pool, PoolGrant, Proposal
from volunteer.needs import signup
from volunteer.needs.models import Occurrence
from volunteer.proposals.models import ProposalNeed

PASSWORD = "gaaklub-i-loesning-2026"
CITIZEN = "birte.borger@example.org"
NEIGHBOURS = ("nabo.en@example.org", "nabo.to@example.org")
TITLE = "Gåklub ved Løsning Mose"


def _people() -> None:
    from werkzeug.security import generate_password_hash

    kommune = db.session.scalars(select(Organisation).filter_by(name="Hedensted Kommune")).one()
    for email, name in zip(
        (CITIZEN, *NEIGHBOURS), ("Birte Borger", "Nabo Et", "Nabo To"), strict=True
    ):
        person = factories.free_volunteer(kommune, name=name, email=email, postcode="8723")
        person.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()


def test_a_walking_club_from_proposal_to_the_funds_page(page, mail_site, smtp_sink):
    from volunteer import demo

    app, base = mail_site.app, mail_site.url
    with app.app_context():
        _people()
    page.set_viewport_size({"width": 390, "height": 844})

    # The citizen proposes it and sends it.
    page.context.clear_cookies()
    _log_in(page, base, CITIZEN, PASSWORD)
    page.goto(f"{base}/forslag/nyt")
    assert_accessible(page)
    page.fill("[name=title]", TITLE)
    page.fill("[name=what]", "Vi går 4 km hver tirsdag kl. 10 og drikker kaffe bagefter.")
    page.fill("[name=for_whom]", "Alle i Løsning, der vil gå i selskab")
    page.fill("[name=postcode]", "8723")
    page.fill("[name=helpers_wanted]", "2")
    page.fill("[name=amount]", "2000")
    page.get_by_role("button", name="Gem").last.click()
    page.wait_for_url(lambda url: "/forslag/nyt" not in url)
    proposal_id = int(page.url.rstrip("/").split("/")[-1])
    page.get_by_role("button", name="Send forslaget").click()
    page.wait_for_load_state()
    assert "2.000,00 kr." in page.content()
    assert_accessible(page)

    # Two neighbours join as helpers and vote for it.
    for email in NEIGHBOURS:
        page.context.clear_cookies()
        _log_in(page, base, email, PASSWORD)
        page.goto(f"{base}/forslag/{proposal_id}")
        page.get_by_role("button", name="Jeg er med").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Stem for forslaget").click()
        page.wait_for_load_state()
        assert "Tak for din stemme" in page.content()
    assert_accessible(page)

    # The council adopts it and grants the money.
    page.context.clear_cookies()
    _log_in(page, base, "koordinator@example.org", demo.DEMO_PASSWORD)
    page.goto(f"{base}/forslag/{proposal_id}/svar")
    assert "Beboernes stemmer: 2." in page.content()
    assert_accessible(page)
    page.select_option("[name=state]", "adopted")
    page.fill("[name=text]", "Ja! Lokalpuljen betaler refleksveste og kaffe.")
    page.fill("[name=grant]", "2000")
    page.get_by_role("button", name="Offentliggør svaret").click()
    page.wait_for_load_state()
    assert "Bevilget: 2.000,00 kr." in page.content()

    # It becomes a need; the two helpers who said "Jeg er med" are invited first.
    page.goto(f"{base}/forslag/{proposal_id}/opgave")
    page.select_option("[name=activity_type_id]", index=1)
    page.locator("button[name=aaben]").click()
    page.wait_for_load_state()
    assert "2 hjælpere" in page.content()
    with app.app_context():
        need_id = db.session.scalar(
            select(ProposalNeed.need_id).where(ProposalNeed.proposal_id == proposal_id)
        )
        invited = db.session.scalars(select(Assignment).where(Assignment.need_id == need_id)).all()
        assert len(invited) == 2 and {a.state for a in invited} == {"invited"}
        now = datetime.now(UTC)
        for a in invited:
            signup.accept_invitation(a.volunteer, a.id, now)
        # The first date has come: its visits are an hour old.
        first = db.session.scalars(
            select(Occurrence).where(Occurrence.need_id == need_id).order_by(Occurrence.starts_at)
        ).first()
        length = first.ends_at - first.starts_at
        first.starts_at = now - timedelta(hours=1)
        first.ends_at = first.starts_at + length
        db.session.commit()
        first_id = first.id

    # The tovholder confirms the first visit.
    page.context.clear_cookies()
    _log_in(page, base, CITIZEN, PASSWORD)
    page.goto(f"{base}/forslag/{proposal_id}/aktivitet")
    assert_accessible(page)
    page.get_by_role("button", name="Kom").first.click()
    page.wait_for_load_state()
    assert "Besøget er registreret." in page.content()
    with app.app_context():
        states = db.session.scalars(
            select(Visit.state).where(Visit.occurrence_id == first_id)
        ).all()
        assert "confirmed" in states

    # The fund's public page shows what it paid for.
    page.context.clear_cookies()
    with app.app_context():
        area = db.session.scalars(select(LocalArea).filter_by(name="Løsning")).one()
        pool = db.session.scalars(select(Pool).filter_by(local_area_id=area.id)).one()
        assert (
            db.session.scalar(
                select(PoolGrant.amount_ore).where(PoolGrant.proposal_id == proposal_id)
            )
            == 200_000
        )
        assert db.session.get(Proposal, proposal_id).state == "adopted"
    page.goto(f"{base}/puljer/{pool.id}")
    assert page.locator("[data-spent]").get_attribute("data-spent") == "200000"
    assert TITLE in page.content() and "2.000,00 kr." in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    page.goto(f"{base}/puljer")
    assert_accessible(page)
