"""Paper for people who never log in: a volunteer's schedule for the coming weeks, a centre's
visit list for a week, the claim letter of an account a coordinator keeps, and a letter to a
person we help about their new visiting friend, as real A4 PDFs (fpdf2, pure Python), in
Danish, with the weekday on every date and the text at 14 pt or larger.

The PDFs use DejaVu Sans where the system has it (Debian: fonts-dejavu-core), which covers any
name; otherwise PDF's built-in Helvetica, which covers Danish (æøå are Latin-1) and shows other
letters by their nearest Latin form. What each page says is decided here once; the views only
check who may print what and send the bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import Response
from flask_babel import gettext as _
from fpdf import FPDF

from volunteer import bookings
from volunteer.auth.models import User
from volunteer.catalogue.models import Centre
from volunteer.centres.models import Visit, VisitState
from volunteer.centres.services import visits_query
from volunteer.clock import local_to_utc, local_today, to_local
from volunteer.extensions import db
from volunteer.i18n import clock, long_date, week_number, weekday_name
from volunteer.needs.contact import contact_of
from volunteer.needs.models import Occurrence
from volunteer.needs.place import address_access
from volunteer.urls import external_url

BODY_PT = 14
HEADING_PT = 20
SMALL_PT = 14  # the footer too: nothing on the page is smaller than the body
SCHEDULE_WEEKS = 6
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LINE_MM = 7.5
# Letters NFKD does not take apart, for Helvetica (Latin-1 only).
FOLD = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Œ": "OE", "œ": "oe"})


@dataclass(frozen=True)
class Line:
    """One entry on a page: a bold first line and plain lines under it."""

    heading: str
    details: tuple[str, ...] = ()


class Sheet(FPDF):
    """An A4 page in portrait with Samskab's header and a footer "Side 1 af 2"."""

    def __init__(self, title: str, printed_on: date) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        self.printed = _("Printed %(date)s", date=long_date(printed_on))
        self.unicode = (FONT_DIR / "DejaVuSans.ttf").exists() and (
            FONT_DIR / "DejaVuSans-Bold.ttf"
        ).exists()
        if self.unicode:
            self.add_font("Body", "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("Body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.family = "Body"
        else:
            self.family = "Helvetica"
        self.set_title(self.text(title))
        self.set_author("Samskab")
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(auto=True, margin=25)
        self.alias_nb_pages()
        self.add_page()

    def text(self, value: str) -> str:
        """``value`` as the font can draw it (Helvetica: Latin-1, other letters folded)."""
        value = value.replace("–", "-").replace("—", "-").replace("…", "...")
        if self.unicode or _latin1(value):
            return value
        out = []
        for ch in value.translate(FOLD):
            if not _latin1(ch):
                parts = unicodedata.normalize("NFKD", ch)
                ch = "".join(c for c in parts if not unicodedata.combining(c))
                ch = ch if ch and _latin1(ch) else "?"
            out.append(ch)
        return "".join(out)

    def header(self) -> None:
        self.set_font(self.family, "B", HEADING_PT)
        self.multi_cell(0, 10, self.text(self.title_text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", SMALL_PT)
        self.cell(0, LINE_MM, self.text(f"Samskab · {self.printed}"), new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font(self.family, "", SMALL_PT)
        label = _("Page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, LINE_MM, self.text(label), align="C")

    def section(self, heading: str) -> None:
        self.ln(2)
        self.set_font(self.family, "B", BODY_PT + 2)
        self.multi_cell(0, 9, self.text(heading), new_x="LMARGIN", new_y="NEXT")

    def entry(self, line: Line) -> None:
        self.set_font(self.family, "B", BODY_PT)
        self.multi_cell(0, LINE_MM, self.text(line.heading), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", BODY_PT)
        for detail in line.details:
            self.multi_cell(0, LINE_MM, self.text(detail), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def paragraph(self, value: str) -> None:
        self.set_font(self.family, "", BODY_PT)
        self.multi_cell(0, LINE_MM, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def bytes(self) -> bytes:
        try:
            return bytes(self.output())
        finally:
            # fontTools reads the font files lazily and keeps them open until the garbage
            # collector finds them; close them here, once the document is written.
            for font in self.fonts.values():
                ttfont = getattr(font, "ttfont", None)
                if ttfont is not None:
                    ttfont.close()


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def pdf_response(data: bytes, filename: str) -> Response:
    """The PDF for the browser to show (and print or save under ``filename``)."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _when(visit: Visit) -> str:
    occ = visit.occurrence
    return _(
        "%(day)s, %(start)s to %(end)s",
        day=long_date(occ.starts_at),
        start=clock(occ.starts_at),
        end=clock(occ.ends_at),
    )


def _group_by_day(visits: Iterable[Visit]) -> list[tuple[date, list[Visit]]]:
    days: dict[date, list[Visit]] = {}
    for visit in visits:
        days.setdefault(to_local(visit.occurrence.starts_at).date(), []).append(visit)
    return sorted(days.items())


def volunteer_schedule(volunteer: User, now: datetime, weeks: int = SCHEDULE_WEEKS) -> bytes:
    """The volunteer's booked visits from now and ``weeks`` weeks on: when (with weekday and
    week number), what, where (the address as the volunteer may see it) and whom to call."""
    today = local_today(now)
    until = local_to_utc(today + timedelta(weeks=weeks), time(0))
    visits = [
        v
        for v in bookings.booked_ahead(now, volunteer_id=volunteer.id)
        if v.occurrence.starts_at < until
    ]
    access = address_access(volunteer)
    sheet = Sheet(_("Visits for %(name)s", name=volunteer.name), today)
    sheet.paragraph(
        _(
            "Your visits from %(start)s to %(end)s.",
            start=long_date(today),
            end=long_date(today + timedelta(weeks=weeks) - timedelta(days=1)),
        )
    )
    if not visits:
        sheet.paragraph(_("You have no visits booked in these weeks."))
    for visit in visits:
        need = visit.occurrence.need
        details = [_("Where: %(place)s", place=access.place(need))]
        person = contact_of(need)
        if person is not None:
            how = person.phone or person.email
            details.append(
                _("If you cannot come, tell %(name)s: %(how)s", name=person.name, how=how)
            )
        sheet.entry(
            Line(
                f"{_when(visit)} ({week_number(visit.occurrence.starts_at)})",
                (need.title, *details),
            )
        )
    return sheet.bytes()


def _centre_visits(centre_ids: list[int], monday: date) -> list[Visit]:
    return list(
        db.session.scalars(
            visits_query(centre_ids)
            .where(
                Visit.state.in_((VisitState.SCHEDULED, VisitState.CONFIRMED)),
                Occurrence.starts_at >= local_to_utc(monday, time(0)),
                Occurrence.starts_at < local_to_utc(monday + timedelta(days=7), time(0)),
            )
            .order_by(Occurrence.starts_at, Visit.id)
        ).unique()
    )


def centre_week(centres: list[Centre], monday: date, today: date) -> bytes:
    """The visits expected at ``centres`` in the ISO week starting ``monday``, day by day: the
    time, the activity, the volunteer's name and phone (what staff need to welcome them) and a
    box to tick whether they came."""
    sheet = Sheet(
        _(
            "Visits in %(week)s, %(start)s to %(end)s",
            week=week_number(monday),
            start=long_date(monday),
            end=long_date(monday + timedelta(days=6)),
        ),
        today,
    )
    for centre in centres:
        sheet.section(centre.name)
        visits = _centre_visits([centre.id], monday)
        if not visits:
            sheet.paragraph(_("No visits are booked this week."))
        for day, on_day in _group_by_day(visits):
            sheet.section(long_date(day))
            for visit in on_day:
                occ = visit.occurrence
                who = visit.volunteer.name
                if visit.volunteer.phone:
                    who = _("%(name)s, phone %(phone)s", name=who, phone=visit.volunteer.phone)
                sheet.entry(
                    Line(
                        f"{clock(occ.starts_at)}-{clock(occ.ends_at)}  {occ.need.title}",
                        (who, _("[ ] Came    [ ] Did not come")),
                    )
                )
    return sheet.bytes()


def iso_monday(text: str | None, today: date) -> date | None:
    """The Monday of an ISO week written ``2026-W49`` (None if it is not one), or of this week
    when ``text`` is empty."""
    if not text:
        return today - timedelta(days=today.weekday())
    try:
        year, week = text.upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return None


def claim_letter(
    volunteer: User, code: str, expires_at: datetime, coordinator: User, today: date
) -> bytes:
    """A letter to someone whose account a coordinator keeps: how to take it over themselves
    at /konto/aktiver with a one-time ``code`` (until ``expires_at``), and whom to call."""
    sheet = Sheet(_("Your account at Samskab"), today)
    sheet.paragraph(_("Dear %(name)s,", name=volunteer.name))
    sheet.paragraph(
        _(
            "%(coordinator)s has made an account at Samskab for you. It holds your free times "
            "and the activities you take part in. If you like, you can now use it yourself: "
            "see your visits, sign up and change your times.",
            coordinator=coordinator.name,
        )
    )
    sheet.entry(
        Line(
            _("How to start"),
            (
                _("1. Go to %(address)s", address=external_url("auth.claim_with_code")),
                _("2. Type this code: %(code)s", code=code),
                _("3. Write your email address and choose a password."),
            ),
        )
    )
    sheet.paragraph(
        _(
            "The code works once, until %(date)s. Keep this letter to yourself: the code opens "
            "your account.",
            date=long_date(expires_at),
        )
    )
    how = coordinator.phone or coordinator.email or ""
    sheet.paragraph(
        _("Questions? Call or write to %(name)s: %(how)s", name=coordinator.name, how=how)
        if how
        else _("Questions? Ask %(name)s.", name=coordinator.name)
    )
    return sheet.bytes()


@dataclass(frozen=True)
class VisitingFriend:
    """Who will visit and when, as the coordinator agreed it with both (a forløb will fill it
    in at the merge; for now the coordinator chooses on the person's page)."""

    first_name: str
    phone: str | None
    weekday: int  # 0 = Monday
    starts: time
    first_date: date | None = None


def visiting_friend_letter(
    person_name: str, friend: VisitingFriend, coordinator: User, today: date
) -> bytes:
    """A letter to a person we help about their new visiting friend: the friend's first name
    and phone, the weekday and time they agreed (and the first date, with its weekday), and
    whom to call at the organisation."""
    sheet = Sheet(_("Your new visiting friend"), today)
    sheet.paragraph(_("Dear %(name)s,", name=person_name))
    sheet.paragraph(
        _(
            "We are glad to tell you that %(friend)s will visit you.",
            friend=friend.first_name,
        )
    )
    details = [
        _(
            "Every %(weekday)s at %(time)s",
            weekday=weekday_name(friend.weekday),
            time=clock(friend.starts),
        )
    ]
    if friend.first_date is not None:
        details.append(_("The first time: %(date)s", date=long_date(friend.first_date)))
    if friend.phone:
        details.append(
            _("%(friend)s's phone: %(phone)s", friend=friend.first_name, phone=friend.phone)
        )
    sheet.entry(
        Line(_("Your visiting friend: %(friend)s", friend=friend.first_name), tuple(details))
    )
    how = coordinator.phone or coordinator.email or ""
    sheet.paragraph(
        _(
            "If a day does not suit you, or you have questions, call or write to %(name)s: %(how)s",
            name=coordinator.name,
            how=how,
        )
        if how
        else _("If you have questions, ask %(name)s.", name=coordinator.name)
    )
    sheet.paragraph(_("Kind regards,"))
    sheet.paragraph(coordinator.name)
    return sheet.bytes()
