"""The words for a proposal's stored codes and events, in the current language (pages and
mails alike)."""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from volunteer.proposals.models import ProposalEvent

STATES = {
    "draft": _l("Draft"),
    "received": _l("Received"),
    "under_review": _l("Under review"),
    "adopted": _l("Adopted"),
    "declined": _l("Declined"),
    "completed": _l("Completed"),
}
SUPPORT_KINDS = {"helper": _l("as a helper"), "participant": _l("as a participant")}
FIELD_LABELS = {
    "title": _l("Title"),
    "what": _l("What do you want to do?"),
    "for_whom": _l("For whom?"),
    "local_area_id": _l("Local area"),
    "postcode": _l("Postcode"),
    "organisation_id": _l("Who should answer?"),
    "schedule": _l("How often?"),
    "weekday": _l("Weekday"),
    "start_time": _l("From"),
    "end_time": _l("To"),
    "first_date": _l("First date"),
    "helpers_wanted": _l("Helpers wanted"),
    "helper_roles": _l("Which helpers?"),
    "ask_room": _l("A room"),
    "ask_materials": _l("Materials"),
    "amount_ore": _l("Amount"),
}


def state_label(code: str) -> str:
    return str(STATES.get(code, code))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def kroner(amount_ore: int) -> str:
    """An amount in øre as kroner in the page's number format: '1.500,00 kr.' in Danish."""
    return _("%(amount)s kr.", amount=format_decimal(amount_ore / 100, format="#,##0.00"))


def history_value(name: str, value: Any) -> str:
    """A value of the edit history as a person reads it."""
    from volunteer.i18n import weekday_name

    if value is None or value == "":
        return "–"
    if name == "amount_ore" and isinstance(value, int):
        return kroner(value)
    if name == "ask_room":
        return _("Yes") if value else _("No")
    if name == "schedule":
        return _("Every week") if value == "weekly" else _("Once")
    if name == "weekday" and isinstance(value, int) and 0 <= value <= 6:
        return weekday_name(value)
    return str(value)


def event_text(event: ProposalEvent) -> str:
    """What changed, in a sentence with the change itself."""
    details = event.details or {}
    if event.kind == "state":
        old, new = state_label(details.get("from", "")), state_label(details.get("to", ""))
        if details.get("answer"):
            return _(
                "Status changed from %(old)s to %(new)s: %(answer)s",
                old=old,
                new=new,
                answer=details["answer"],
            )
        return _("Status changed from %(old)s to %(new)s.", old=old, new=new)
    name = event.actor.name if event.actor is not None else _("someone")
    if event.kind == "comment":
        return _("New comment by %(name)s: %(excerpt)s", name=name, excerpt=details.get("excerpt"))
    fields = ", ".join(field_label(f) for f in details.get("fields", []))
    return _("%(name)s changed the proposal: %(fields)s", name=name, fields=fields)
