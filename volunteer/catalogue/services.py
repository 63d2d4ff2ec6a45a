"""The catalogue the forms choose from: active activity types and centres, local areas and
organisations, in display order; and the administrator's writes to it (audited). Rows that
others refer to are never deleted: centres and activity types are deactivated instead."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from volunteer import audit, geo
from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.db import unicode_lower
from volunteer.extensions import db

if TYPE_CHECKING:
    from volunteer.auth.models import User


def activity_types() -> list[ActivityType]:
    return list(
        db.session.scalars(
            select(ActivityType)
            .where(ActivityType.active.is_(True))
            .order_by(ActivityType.sort_order, ActivityType.id)
        )
    )


def person_activity_types() -> list[ActivityType]:
    """The active activity types offered to the people we help (``for_persons``)."""
    return [a for a in activity_types() if a.for_persons]


def centres() -> list[Centre]:
    return list(
        db.session.scalars(select(Centre).where(Centre.active.is_(True)).order_by(Centre.name))
    )


def local_areas() -> list[LocalArea]:
    return list(db.session.scalars(select(LocalArea).order_by(LocalArea.name)))


def organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


# Writes, for the administrator's screens. Each one is audited and commits.


class NameTaken(Exception):
    """Another row of this kind already has this name."""


class UnknownPostcode(Exception):
    """The postcode is not a Danish postcode."""


@dataclass(frozen=True)
class OrganisationData:
    name: str
    kind: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class LocalAreaData:
    name: str
    postcode: str | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class CentreData:
    name: str
    kind: str
    address: str
    postcode: str
    organisation_id: int
    local_area_id: int | None = None
    phone: str | None = None
    active: bool = True


@dataclass(frozen=True)
class ActivityTypeData:
    name_da: str
    name_en: str
    description_da: str = ""
    description_en: str = ""
    requires_child_certificate: bool = False
    sort_order: int = 0
    active: bool = True


def _name_free(
    model: type[Organisation | LocalArea | Centre], name: str, own_id: int | None
) -> None:
    # unicode_lower: SQLite's lower() leaves Æ, Ø and Å as they are.
    query = select(model.id).where(unicode_lower(model.name) == name.strip().lower())
    if own_id is not None:
        query = query.where(model.id != own_id)
    if db.session.scalar(query) is not None:
        raise NameTaken(name)


def _changes(row: object, data: object) -> dict[str, list[Any]]:
    """field → [old, new] for every field of ``data`` that differs from ``row`` (and sets it)."""
    changed: dict[str, list[Any]] = {}
    for name, value in asdict(data).items():  # type: ignore[call-overload]
        old = getattr(row, name)
        if old != value:
            changed[name] = [old, value]
            setattr(row, name, value)
    return changed


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:  # two admins saving the same name at once
        db.session.rollback()
        raise NameTaken("") from exc


def _flush() -> None:
    """Flush for the new row's id; a name taken meanwhile (the unique index) is NameTaken."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise NameTaken("") from exc


def save_organisation(
    actor: User, data: OrganisationData, org: Organisation | None = None
) -> Organisation:
    _name_free(Organisation, data.name, org.id if org else None)
    if org is None:
        org = Organisation(**asdict(data))
        db.session.add(org)
        _flush()
        audit.record(
            "organisation.created", "organisation", org.id, actor_id=actor.id, name=org.name
        )
    else:
        changed = _changes(org, data)
        if changed:
            audit.record(
                "organisation.updated", "organisation", org.id, actor_id=actor.id, changed=changed
            )
    _commit()
    return org


def _point(postcode: str) -> geo.Postcode:
    place = geo.lookup(postcode)
    if place is None:
        raise UnknownPostcode(postcode)
    return place


def save_local_area(actor: User, data: LocalAreaData, area: LocalArea | None = None) -> LocalArea:
    _name_free(LocalArea, data.name, area.id if area else None)
    place = _point(data.postcode) if data.postcode else None
    creating = area is None
    if area is None:
        area = LocalArea()
        db.session.add(area)
    changed = _changes(area, data)
    if place is not None and (creating or "postcode" in changed):
        area.postcode, area.lat, area.lon = place.code, place.lat, place.lon
    elif not data.postcode:
        area.lat = area.lon = None
    _flush()
    if creating:
        audit.record("local_area.created", "local_area", area.id, actor_id=actor.id, name=area.name)
    elif changed:
        audit.record(
            "local_area.updated", "local_area", area.id, actor_id=actor.id, changed=changed
        )
    _commit()
    return area


def save_centre(actor: User, data: CentreData, centre: Centre | None = None) -> Centre:
    """Create or change a centre; its town and point follow the postcode (a new postcode moves
    it to that postcode's point)."""
    _name_free(Centre, data.name, centre.id if centre else None)
    place = _point(data.postcode)
    creating = centre is None
    if centre is None:
        centre = Centre()
        db.session.add(centre)
    changed = _changes(centre, data)
    if creating or "postcode" in changed:
        centre.postcode, centre.town = place.code, place.town
        centre.lat, centre.lon = place.lat, place.lon
    _flush()
    if creating:
        audit.record("centre.created", "centre", centre.id, actor_id=actor.id, name=centre.name)
    elif changed:
        action = "centre.updated"
        if set(changed) == {"active"}:
            action = "centre.activated" if centre.active else "centre.deactivated"
        audit.record(action, "centre", centre.id, actor_id=actor.id, changed=changed)
    _commit()
    return centre


def _new_code(name: str) -> str:
    """A lower-case code for a new activity type from its Danish name, unique ('besoegsven')."""
    folded = name.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:32] or "aktivitet"
    code, n = base, 1
    while db.session.scalar(select(ActivityType.id).where(ActivityType.code == code)):
        n += 1
        code = f"{base}-{n}"
    return code


def save_activity_type(
    actor: User, data: ActivityTypeData, activity: ActivityType | None = None
) -> ActivityType:
    query = select(ActivityType.id).where(
        unicode_lower(ActivityType.name_da) == data.name_da.strip().lower()
    )
    if activity is not None:
        query = query.where(ActivityType.id != activity.id)
    if db.session.scalar(query) is not None:
        raise NameTaken(data.name_da)
    creating = activity is None
    if activity is None:
        activity = ActivityType(code=_new_code(data.name_da))
        db.session.add(activity)
    changed = _changes(activity, data)
    _flush()
    if creating:
        audit.record(
            "activity_type.created",
            "activity_type",
            activity.id,
            actor_id=actor.id,
            code=activity.code,
        )
    elif changed:
        action = "activity_type.updated"
        if set(changed) == {"active"}:
            action = "activity_type.activated" if activity.active else "activity_type.deactivated"
        audit.record(action, "activity_type", activity.id, actor_id=actor.id, changed=changed)
    _commit()
    return activity
