"""A forløb on a phone, end to end: the coordinator opens the waiting list, finds Edith Gram's
candidates with their reasons, proposes the first; the volunteer says yes on Min side, sees her
address, and the weekly visit is on Min side. Every page passes axe-core."""

from __future__ import annotations

from sqlalchemy import select

from e2e_helpers import _log_in, assert_accessible
from volunteer.extensions import db
from volunteer.pairs.models import Forloeb

COORDINATOR = "koordinator@example.org"


def test_propose_accept_and_the_visit_on_min_side(phone, mail_site):
    app, base = mail_site.app, mail_site.url
    _log_in(phone, base, COORDINATOR)
    phone.goto(f"{base}/koordinator/borgere?state=waiting")
    assert_accessible(phone)
    row = phone.get_by_role("row").filter(has_text="Edith Gram")
    assert "dage" in row.inner_text()  # the waiting time
    phone.get_by_role("link", name="Edith Gram").tap()
    phone.get_by_role("link", name="Find en frivillig").tap()
    phone.wait_for_url(lambda url: "/kandidater" in url)
    assert phone.get_by_role("heading", level=1).inner_text() == "Frivillige til Edith Gram"
    assert "km" in phone.content() and "En kvinde" in phone.content()  # reasons and the wish
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Foreslå").first.tap()
    assert "Den frivillige er spurgt" in phone.content()
    assert_accessible(phone)
    with app.app_context():
        forloeb = db.session.scalars(select(Forloeb).order_by(Forloeb.id.desc())).first()
        email, title = forloeb.volunteer.email, forloeb.need.title

    phone.context.clear_cookies()
    _log_in(phone, base, email)
    phone.goto(f"{base}/min-side/")
    phone.get_by_role("link", name="Et forslag til dig").first.tap()
    assert phone.get_by_role("heading", level=1).inner_text() == "Vil du være fast besøgsven?"
    assert "Strandvejen 41" not in phone.content()  # not before the yes
    assert_accessible(phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Ja, det vil jeg gerne").tap()
    assert "Strandvejen 41" in phone.content()
    assert_accessible(phone)
    phone.goto(f"{base}/min-side/")
    visits = phone.locator("section", has=phone.get_by_role("heading", name="Mine næste besøg"))
    assert title in visits.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(phone)
