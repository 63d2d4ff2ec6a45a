"""Danish first, English second: locale choice and the date/time formats the templates use.

Everything is stored in UTC and converted to Europe/Copenhagen here, at the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.dates import get_day_names
from flask import Flask, current_app, g, session
from flask_babel import format_date, format_decimal, get_locale, get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from volunteer.clock import to_local
from volunteer.extensions import babel


def select_locale() -> str:
    """The user's saved language, else the one chosen this session, else Danish."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=16)
def _day_names(width: str, locale: str) -> tuple[str, ...]:
    names = get_day_names(width, locale=locale)
    return tuple(names[day] for day in range(7))


def weekday_name(weekday: int, width: str = "wide") -> str:
    """'mandag' for 0 in Danish, 'Monday' in English."""
    return _day_names(width, str(get_locale()))[weekday]


# A page lists many needs on a few dozen dates: each date is formatted once per language
# (Babel's formatting is the slow part of a list, #16). Bounded: about three years of dates.
@lru_cache(maxsize=2048)
def _long_date(value: date, locale: str) -> str:
    if locale == "da":
        return "{} den {}".format(
            _day_names("wide", "da")[value.weekday()],
            babel_format_date(value, "d. MMMM y", locale="da"),
        )
    return babel_format_date(value, "EEEE d MMMM y", locale=locale)


def long_date(value: date | datetime) -> str:
    """'fredag den 27. november 2026' / 'Friday 27 November 2026': always with the weekday."""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return _long_date(value, str(get_locale()))


def short_date(value: date | datetime) -> str:
    """'27.11.2026' / '27/11/2026'."""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return format_date(value, "dd.MM.y" if str(get_locale()) == "da" else "dd/MM/y")


def clock(value: time | datetime) -> str:
    """24-hour clock, as Danes write it: '17.30' in Danish, '17:30' in English."""
    if isinstance(value, datetime):
        value = to_local(value).time()
    separator = "." if str(get_locale()) == "da" else ":"
    return f"{value.hour:02d}{separator}{value.minute:02d}"


def week_number(value: date | datetime) -> str:
    """'uge 48' / 'week 48' (ISO weeks, Monday first, as in Denmark)."""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return gettext("week %(number)d", number=value.isocalendar().week)


def km(value: float) -> str:
    """A distance with one decimal, in the locale's notation: '2,3 km' / '2.3 km'."""
    return gettext("%(km)s km", km=format_decimal(value, format="#,##0.0"))


def activity_name(code: str) -> str:
    """An activity type's name in the page's language, from its code ('besoegsven' → 'Besøgsven');
    the code itself if the type is gone. Looked up once per request."""
    names = g.get("activity_names")
    if names is None:
        from sqlalchemy import select

        from volunteer.catalogue.models import ActivityType
        from volunteer.extensions import db

        locale = str(get_locale())
        names = {a.code: a.name(locale) for a in db.session.scalars(select(ActivityType))}
        g.activity_names = names
    return names.get(code, code)


def language_names(codes: list[str]) -> str:
    """'dansk, engelsk' / 'Danish, English' for ISO codes; an unknown code stays as it is."""
    from volunteer.forms import LANGUAGES

    names = [str(LANGUAGES[code]) if code in LANGUAGES else code for code in codes]
    if str(get_locale()) == "da":  # Danish writes language names in lower case in a sentence
        names = [name.lower() for name in names]
    return ", ".join(names)


# The person's wish about the volunteer's gender, as the reason a volunteer fits it: asked for
# (a rule) or preferred (it only ranks).
WISH_REASONS = {
    ("woman", True): _l("The person asked for a woman"),
    ("man", True): _l("The person asked for a man"),
    ("woman", False): _l("The person prefers a woman"),
    ("man", False): _l("The person prefers a man"),
}

# A volunteer's own answer about their gender ("" when they would rather not say).
GENDER_LABELS = {
    "": _l("Prefer not to say"),
    "woman": _l("Woman"),
    "man": _l("Man"),
}


def wish_label(gender: str, required: bool) -> str:
    """The person's wish about the volunteer's gender in words; "–" for none."""
    label = WISH_REASONS.get((gender, bool(required)))
    return str(label) if label is not None else "–"


def match_reasons(codes: list[list[Any]] | None) -> str:
    """A match's reason codes (from the matching engine) as one readable line, with names
    (never codes or slugs) in the page's language."""
    parts = []
    for code, params in codes or []:
        if code == "distance":
            parts.append(gettext("%(distance)s away", distance=km(params["km"])))
        elif code == "free":
            separator = "." if str(get_locale()) == "da" else ":"
            parts.append(
                gettext(
                    "free %(weekday)s %(start)s–%(end)s",
                    weekday=weekday_name(params["weekday"]),
                    start=params["start"].replace(":", separator),
                    end=params["end"].replace(":", separator),
                )
            )
        elif code == "interest":
            parts.append(gettext("likes %(activity)s", activity=activity_name(params["activity"])))
        elif code == "language":
            parts.append(
                gettext("speaks %(languages)s", languages=language_names(params["languages"]))
            )
        elif code == "certificate":
            parts.append(gettext("has a valid child certificate"))
        elif code == "wish" and (params["gender"], bool(params["required"])) in WISH_REASONS:
            parts.append(str(WISH_REASONS[params["gender"], bool(params["required"])]))
        elif code == "continuity":
            parts.append(gettext("already does this"))
        elif code == "manual":
            parts.append(gettext("chosen by the coordinator"))
    return " · ".join(parts)


def timestamp(value: datetime) -> str:
    """A full local timestamp for records: '27.11.2026 11.05'."""
    return f"{short_date(value)} {clock(value)}"


# Names for stored codes, shown to people.
STATE_LABELS = {
    "need": {
        "draft": _l("Draft"),
        "open": _l("Open"),
        "filled": _l("Filled"),
        "closed": _l("Closed"),
    },
    "assignment": {
        "proposed": _l("Proposed"),
        "waitlisted": _l("On the waiting list"),
        "invited": _l("Invited"),
        "pending": _l("Waiting for approval"),
        "accepted": _l("Accepted"),
        "declined": _l("Declined"),
        "expired": _l("Expired"),
        "withdrawn": _l("Withdrawn"),
        "ended": _l("Ended"),
    },
    "match_run": {
        "queued": _l("Queued"),
        "running": _l("Running"),
        "done": _l("Done"),
        "failed": _l("Failed"),
    },
    # What a coordinator did for a volunteer whose account they keep (``auth.managed``).
    "on_behalf": {
        "account.managed_created": _l("Account created"),
        "volunteer.availability_saved": _l("Free times recorded"),
        "account.claim_invited": _l("Invitation sent"),
        "account.claim_letter_printed": _l("Letter with a code printed"),
        "assignment.signed_up": _l("Signed up"),
    },
    "role": {
        "volunteer": _l("Volunteers"),
        "coordinator": _l("Coordinators"),
        "centre": _l("Centre staff"),
        "admin": _l("Administrators"),
    },
}


def _label(kind: str) -> Callable[[str], str]:
    def label(code: str) -> str:
        return str(STATE_LABELS[kind].get(code, code))

    return label


def _translations() -> Any:
    """This request's catalogue, looked up once per request and locale: Flask-Babel looks it
    up anew for every string, and a list page has a few hundred (#16). A changed locale
    (``force_locale`` in an email) is a new ``Locale`` object, so it is looked up again."""
    locale = get_locale()
    cached = g.get("_samskab_translations")
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._samskab_translations = (locale, translations)
    return translations


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # The templates' _() and ngettext() as Flask-Babel installs them, with the catalogue kept.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update(
        long_date=long_date,
        short_date=short_date,
        clock=clock,
        week_number=week_number,
        timestamp=timestamp,
        km=km,
        match_reasons=match_reasons,
        language_names=language_names,
        weekday_name=weekday_name,
        activity_name=activity_name,
        need_status=_label("need"),
        assignment_state=_label("assignment"),
        run_state=_label("match_run"),
        role_name=_label("role"),
        on_behalf_action=_label("on_behalf"),
    )
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()), wish_label=wish_label)
