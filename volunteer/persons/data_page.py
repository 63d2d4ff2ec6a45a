"""A person's export (``gdpr.export_helped_person``) as a page a coordinator can read and
print for the person: the same rows as the JSON download, in plain words."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from volunteer.catalogue.models import ActivityType
from volunteer.extensions import db
from volunteer.i18n import language_names, weekday_name, wish_label
from volunteer.persons.forms import CONSENT_METHODS, PERSON_STATES, RELATIONS
from volunteer.volunteers.data_page import Item, Section, _text, _when

PERSON_FIELDS = {
    "name": _l("Name"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "address": _l("Street address"),
    "postcode": _l("Postcode"),
    "town": _l("Town"),
    "interests": _l("Interests"),
    "languages": _l("Languages"),
    "volunteer_wish": _l("The person's own wish about the volunteer"),
    "wish_gender": _l("A woman or a man"),
    "contact_name": _l("Contact person"),
    "contact_relation": _l("Relation"),
    "contact_phone": _l("Contact person's phone"),
    "contact_email": _l("Contact person's email"),
    "consent_given_by": _l("Consent given by"),
    "consent_given_on": _l("Consent given on"),
    "consent_method": _l("How was the consent given?"),
    "note": _l("Note"),
    "state": _l("Status"),
    "waiting_since": _l("Waiting since"),
    "ended_on": _l("Ended on"),
    "created_at": _l("Registered"),
}
REFERRAL_FIELDS = {
    "referrer_name": _l("Your name"),
    "referrer_relation": _l("Who are you?"),
    "referrer_phone": _l("Your phone"),
    "referrer_email": _l("Your email"),
    "person_name": _l("The person's name"),
    "person_address": _l("The person's street address"),
    "person_phone": _l("The person's phone"),
    "message": _l("Anything else we should know?"),
    "created_at": _l("Received"),
}
ACTIONS = {
    "person.created": _l("Registered"),
    "person.updated": _l("Changed"),
    "person.viewed": _l("A coordinator looked at the record"),
    "person.exported": _l("The data were looked at or downloaded"),
    "person.ended": _l("The registration was ended"),
    "person.reopened": _l("Waiting again"),
}


def _value(name: str, value: Any, row: dict[str, Any]) -> str:
    if name == "wish_gender":
        return wish_label(value, row.get("wish_required", False))
    if name == "languages":
        return language_names(value or [])
    if name == "consent_method":
        return str(CONSENT_METHODS.get(value, value or ""))
    if name == "state":
        return str(PERSON_STATES.get(value, value))
    if name == "referrer_relation":
        return str(RELATIONS.get(value, value))
    if name.endswith(("_at", "_on", "_since")):
        return _when(value)
    return _text(value)


def _fields(row: dict[str, Any], labels: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(label), _value(name, row[name], row))
        for name, label in labels.items()
        if name in row and row[name] not in (None, "", [])
    ]


def sections(data: dict[str, list[dict[str, Any]]], locale: str) -> list[Section]:
    person = data.get("persons", [{}])[0]
    times = [
        Item(f"{weekday_name(w['weekday'])} {_when(w['start_time'])}–{_when(w['end_time'])}")
        for w in data.get("person_windows", [])
    ]
    ids = [row["activity_type_id"] for row in data.get("person_activity_types", [])]
    activities = [Item(a.name(locale)) for a in (db.session.get(ActivityType, i) for i in ids) if a]
    return [
        Section(
            "borger", _("The person"), [Item(_("Details"), _fields(person, PERSON_FIELDS))], ""
        ),
        Section("tider", _("Times that suit"), times, _("No times.")),
        Section("aktiviteter", _("What would they like?"), activities, _("None.")),
        Section(
            "henvisning",
            _("Referral"),
            [
                Item(_("Referral"), _fields(row, REFERRAL_FIELDS))
                for row in data.get("referrals", [])
            ],
            _("None."),
        ),
        Section(
            "historik",
            _("History"),
            [
                Item(
                    str(ACTIONS.get(row["action"], _("Other"))),
                    [(_("When"), _when(row["created_at"]))],
                )
                for row in data.get("audit_events", [])
            ],
            _("None."),
        ),
    ]
