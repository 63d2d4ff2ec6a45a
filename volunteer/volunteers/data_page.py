"""'Vis mine data': the GDPR export (``gdpr.export``) as a page a person can read.

The page is made from the very rows the JSON download holds (so the two never disagree, and
links in stored texts are redacted the same way), grouped into sections in plain words: you,
your free times, your activities, your visits, the messages we sent you, what happened to your
account. Any table the sections do not know (one added later) is still shown, under "Other
records", field by field, so nothing stored is hidden from the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from volunteer.catalogue.models import ActivityType, Organisation
from volunteer.extensions import db
from volunteer.i18n import GENDER_LABELS, STATE_LABELS, clock, short_date, timestamp, weekday_name
from volunteer.needs.models import Need, Occurrence


@dataclass
class Item:
    """One thing stored: a heading and its fields; ``text`` is a longer body (an email)."""

    heading: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    text: str | None = None


@dataclass
class Section:
    id: str
    title: str
    items: list[Item]
    empty: str


VISIT_STATES = {
    "scheduled": _l("Planned"),
    "confirmed": _l("Confirmed"),
    "no_show": _l("Did not come"),
    "cancelled": _l("Cancelled"),
}
MESSAGE_STATES = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Could not be sent"),
}
ACTIONS = {
    "account.created": _l("Your account was created"),
    "account.registered": _l("You signed up"),
    "account.password_reset": _l("Your password was changed"),
    "account.reset_requested": _l("A new password was asked for"),
    "assignment.signed_up": _l("You signed up for an activity"),
    "assignment.accepted": _l("You said yes to an activity"),
    "assignment.declined": _l("You said no to an activity"),
    "assignment.withdrawn": _l("You stopped an activity"),
    "calendar.token_renewed": _l("Your calendar address was renewed"),
    "gdpr.exported": _l("You looked at or downloaded your data"),
    "volunteer.viewed": _l("A coordinator looked at your profile"),
    "volunteer.child_certificate_recorded": _l("Your child certificate was noted"),
    "visit.cancelled": _l("A visit was cancelled"),
}
# The tables the sections below show; every other table goes to "Other records".
SHOWN = {
    "users",
    "volunteer_profiles",
    "volunteer_interests",
    "organisation_volunteers",
    "availability_windows",
    "away_periods",
    "assignments",
    "visits",
    "outbox_messages",
    "audit_events",
    "forloeb",
    "forloeb_checkins",
    "proposals",
    "proposal_supports",
}


def _when(value: Any) -> str:
    """An exported ISO text shown in local, Danish notation; '' for nothing."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            if "T" in value:
                return timestamp(datetime.fromisoformat(value))
            if len(value) == 10:
                return short_date(date.fromisoformat(value))
            return clock(time.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.#")
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _names(model: Any, ids: list[int], attribute: str) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: str(getattr(row, attribute)) for row in rows}


def sections(data: dict[str, list[dict[str, Any]]], locale: str) -> list[Section]:
    """The readable sections of one person's export, in the order the page shows them."""
    return [
        _profile(data, locale),
        _free_times(data),
        _activities(data),
        _visits(data),
        *([_forloeb(data)] if data.get("forloeb") else []),  # only volunteers with a forløb
        _messages(data),
        *_proposals(data),
        _history(data),
        *_others(data),
    ]


def _profile(data: dict[str, list[dict[str, Any]]], locale: str) -> Section:
    items = []
    for user in data.get("users", []):
        items.append(
            Item(
                _("Your account"),
                [
                    (_("Name"), _text(user.get("name"))),
                    (_("Email"), _text(user.get("email"))),
                    (_("Email confirmed"), _when(user.get("email_confirmed_at")) or _("Not yet")),
                    (_("Phone"), _text(user.get("phone"))),
                    (_("Language"), {"da": "Dansk", "en": "English"}.get(user.get("locale"), "–")),
                    (_("Created"), _when(user.get("created_at")) or "–"),
                    (_("Last logged in"), _when(user.get("last_login_at")) or "–"),
                ],
            )
        )
    for profile in data.get("volunteer_profiles", []):
        town = " ".join(str(profile.get(k) or "") for k in ("postcode", "town")).strip()
        cert = profile.get("child_cert_valid_until")
        items.append(
            Item(
                _("Your profile"),
                [
                    (_("Where you live"), _text(town)),
                    (_("Address"), _text(profile.get("address"))),
                    (_("How far you will travel"), f"{_text(profile.get('max_km'))} km"),
                    (_("Times a week at most"), _text(profile.get("weekly_capacity"))),
                    (_("Languages"), _text(profile.get("languages"))),
                    (_("Gender"), str(GENDER_LABELS.get(profile.get("gender") or "", "–"))),
                    (_("Skills"), _text(profile.get("skills"))),
                    (_("About you"), _text(profile.get("about"))),
                    (_("Paused until"), _when(profile.get("paused_until")) or "–"),
                    (
                        _("Child certificate valid until"),
                        _when(cert) if cert else "–",
                    ),
                ],
            )
        )
    activities = _names(
        ActivityType,
        [row["activity_type_id"] for row in data.get("volunteer_interests", [])],
        "name_da" if locale == "da" else "name_en",
    )
    organisations = _names(
        Organisation,
        [row["organisation_id"] for row in data.get("organisation_volunteers", [])],
        "name",
    )
    if activities or organisations:
        items.append(
            Item(
                _("What you would like to do, and with whom"),
                [
                    (_("Activities you like"), _text(sorted(activities.values()))),
                    (_("Organisations"), _text(sorted(organisations.values()))),
                ],
            )
        )
    return Section("profil", _("You and your profile"), items, _("Nothing stored."))


def _free_times(data: dict[str, list[dict[str, Any]]]) -> Section:
    items = [
        Item(
            f"{weekday_name(w['weekday'])} {_when(w['start_time'])}–{_when(w['end_time'])}",
        )
        for w in sorted(
            data.get("availability_windows", []), key=lambda w: (w["weekday"], w["start_time"])
        )
    ]
    items += [
        Item(
            _(
                "Away %(start)s–%(end)s",
                start=_when(a["start_date"]),
                end=_when(a["end_date"]),
            )
        )
        for a in data.get("away_periods", [])
    ]
    return Section("tider", _("Your free times and time away"), items, _("No times saved."))


def _need_titles(need_ids: list[int]) -> dict[int, str]:
    return _names(Need, need_ids, "title")


def _activities(data: dict[str, list[dict[str, Any]]]) -> Section:
    rows = data.get("assignments", [])
    titles = _need_titles([row["need_id"] for row in rows])
    items = [
        Item(
            titles.get(row["need_id"], _("An activity")),
            [
                (_("Status"), str(STATE_LABELS["assignment"].get(row["state"], row["state"]))),
                (_("Since"), _when(row.get("created_at")) or "–"),
                (_("Ended"), _when(row.get("ended_at")) or "–"),
            ],
        )
        for row in rows
    ]
    return Section("opgaver", _("Your activities"), items, _("No activities."))


def _visits(data: dict[str, list[dict[str, Any]]]) -> Section:
    rows = data.get("visits", [])
    occurrences = {
        o.id: o
        for o in db.session.scalars(
            select(Occurrence).where(Occurrence.id.in_([row["occurrence_id"] for row in rows]))
        )
    }
    items = []
    for row in sorted(
        rows,
        key=lambda r: o.starts_at if (o := occurrences.get(r["occurrence_id"])) else datetime.min,
    ):
        occurrence = occurrences.get(row["occurrence_id"])
        heading = (
            f"{occurrence.need.title}, {timestamp(occurrence.starts_at)}"
            if occurrence
            else _("A visit")
        )
        fields = [(_("Status"), str(VISIT_STATES.get(row["state"], row["state"])))]
        if row.get("hours") is not None:
            fields.append((_("Hours"), _text(float(row["hours"]))))
        if row.get("note"):
            fields.append((_("Note"), _text(row["note"])))
        if row.get("cancel_reason"):
            fields.append((_("Why it was cancelled"), _text(row["cancel_reason"])))
        items.append(Item(heading, fields))
    return Section("besoeg", _("Your visits"), items, _("No visits."))


def _messages(data: dict[str, list[dict[str, Any]]]) -> Section:
    items = [
        Item(
            _text(row.get("subject")),
            [
                (_("Written"), _when(row.get("created_at")) or "–"),
                (_("Status"), str(MESSAGE_STATES.get(row["state"], row["state"]))),
                (_("To"), _text(row.get("recipient_email") or row.get("to_phone"))),
            ],
            text=row.get("body_text") or "",
        )
        for row in sorted(data.get("outbox_messages", []), key=lambda r: r["id"])
    ]
    return Section("beskeder", _("Emails we have sent you"), items, _("No emails."))


def _proposals(data: dict[str, list[dict[str, Any]]]) -> list[Section]:
    """The proposals (forslag) the person wrote, and those they said "Jeg er med" to (no
    section when there are none)."""
    from volunteer.proposals.models import Proposal
    from volunteer.proposals.texts import SUPPORT_KINDS, kroner, state_label

    items = [
        Item(
            row["title"],
            [
                (_("Status"), state_label(row["state"])),
                (_("Created"), _when(row.get("created_at")) or "–"),
                (_("Sent"), _when(row.get("submitted_at")) or "–"),
                (_("Amount"), kroner(row.get("amount_ore") or 0)),
                (_("What do you want to do?"), _text(row.get("what"))),
            ],
        )
        for row in data.get("proposals", [])
    ]
    supports = data.get("proposal_supports", [])
    titles = _names(Proposal, [row["proposal_id"] for row in supports], "title")
    items += [
        Item(
            titles.get(row["proposal_id"], _("A proposal")),
            [
                (_("I am in"), str(SUPPORT_KINDS.get(row["kind"], row["kind"]))),
                (_("Since"), _when(row.get("created_at")) or "–"),
            ],
        )
        for row in supports
    ]
    if not items:
        return []
    return [Section("forslag", _("Your proposals"), items, "")]


def _history(data: dict[str, list[dict[str, Any]]]) -> Section:
    items = [
        Item(
            str(ACTIONS.get(row["action"], row["action"])),
            [(_("When"), _when(row.get("created_at")) or "–")],
        )
        for row in sorted(data.get("audit_events", []), key=lambda r: r["id"])
    ]
    return Section("historik", _("What happened to your account"), items, _("Nothing yet."))


def _forloeb(data: dict[str, list[dict[str, Any]]]) -> Section:
    """The volunteer's forløb: when, since when, how it stands, and their check-in answers."""
    from volunteer.pairs.forms import ANSWERS, END_REASONS, STATES

    answers: dict[Any, list[str]] = {}
    for row in data.get("forloeb_checkins", []):
        if row.get("answer"):
            label = str(ANSWERS.get(row["answer"], row["answer"]))
            answers.setdefault(row["forloeb_id"], []).append(f"{_when(row['due_on'])}: {label}")
    items = [
        Item(
            _(
                "Every %(weekday)s from %(start)s to %(end)s",
                weekday=weekday_name(row["weekday"]),
                start=_when(row["start_time"]),
                end=_when(row["end_time"]),
            ),
            [
                (_("Status"), str(STATES.get(row["state"], row["state"]))),
                (_("First visit"), _when(row["start_date"])),
                (_("Ended on"), _when(row.get("ended_on")) or "–"),
                (_("Why does it end?"), str(END_REASONS.get(row.get("end_reason"), "–"))),
                (_("How is it going?"), "; ".join(answers.get(row["id"], [])) or "–"),
            ],
        )
        for row in data.get("forloeb", [])
    ]
    return Section("forloeb", _("Forløb"), items, _("None."))


def _others(data: dict[str, list[dict[str, Any]]]) -> list[Section]:
    items = [
        Item(
            f"{table} #{row.get('id', index + 1)}",
            [
                (key, _when(value) if key.endswith(("_at", "_on")) else _text(value))
                for key, value in row.items()
            ],
        )
        for table, rows in data.items()
        if table not in SHOWN
        for index, row in enumerate(rows)
    ]
    if not items:
        return []
    return [Section("andet", _("Other records"), items, "")]
