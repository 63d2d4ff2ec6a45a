"""The administrator's forms: organisations, local areas, centres, activity types and staff.
Choices that come from the database are set by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from volunteer.forms import DanishPostcode, MultiCheckboxField, SamskabForm, strip_filter

ORGANISATION_KIND_NAMES = {
    "municipality": _l("Municipality"),
    "association": _l("Association"),
    "local_council": _l("Local council"),
}
CENTRE_KIND_NAMES = {
    "plejecenter": _l("Care home"),
    "aktivitetscenter": _l("Activity centre"),
    "bibliotek": _l("Library"),
    "skole": _l("School"),
    "andet": _l("Other"),
}
STAFF_ROLE_NAMES = {
    "coordinator": _l("Coordinator"),
    "centre": _l("Centre staff member"),
    "admin": _l("Administrator"),
}


def _name_field(maximum: int) -> StringField:
    return StringField(
        _l("Name"),
        filters=[strip_filter],
        validators=[
            InputRequired(_l("Write a name.")),
            Length(max=maximum, message=_l("Write at most %(max)d characters.")),
        ],
    )


def _optional_text(label: str, maximum: int, **kwargs) -> StringField:  # type: ignore[no-untyped-def]
    return StringField(
        label,
        filters=[strip_filter],
        validators=[
            Optional(),
            Length(max=maximum, message=_l("Write at most %(max)d characters.")),
        ],
        **kwargs,
    )


def _email(optional: bool = False) -> EmailField:
    return EmailField(
        _l("Email"),
        filters=[strip_filter],
        validators=[
            Optional() if optional else InputRequired(_l("Write the email address.")),
            Email(_l("That does not look like an email address."), check_deliverability=False),
            Length(max=254, message=_l("Write at most %(max)d characters.")),
        ],
    )


def _choice(label: str, names: dict) -> SelectField:  # type: ignore[type-arg]
    return SelectField(
        label,
        choices=[SelectChoice(code, name) for code, name in names.items()],
        validators=[InputRequired(_l("Choose one of the options."))],
    )


class OrganisationForm(SamskabForm):
    name = _name_field(160)
    kind = _choice(_l("Kind"), ORGANISATION_KIND_NAMES)
    email = _email(optional=True)
    phone = _optional_text(_l("Phone"), 32)


class LocalAreaForm(SamskabForm):
    name = _name_field(120)
    postcode = StringField(
        _l("Postcode"),
        description=_l("Places the area on the map for distances and reports."),
        filters=[strip_filter],
        validators=[Optional(), DanishPostcode()],
        render_kw={"inputmode": "numeric", "maxlength": 8},
    )
    organisation_id = SelectField(_l("Organisation"), coerce=int, default=0)


class CentreForm(SamskabForm):
    name = _name_field(160)
    kind = _choice(_l("Kind"), CENTRE_KIND_NAMES)
    address = _optional_text(_l("Address"), 200, description=_l("Street and number."))
    postcode = StringField(
        _l("Postcode"),
        description=_l("The town and the point on the map come from the postcode."),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write the postcode.")), DanishPostcode()],
        render_kw={"inputmode": "numeric", "maxlength": 8},
    )
    phone = _optional_text(_l("Phone"), 32)
    organisation_id = SelectField(
        _l("Organisation"), coerce=int, validators=[InputRequired(_l("Choose an organisation."))]
    )
    local_area_id = SelectField(_l("Local area"), coerce=int, default=0)
    active = BooleanField(
        _l("Active"),
        default=True,
        description=_l("An inactive centre cannot be chosen for new needs. Nothing is deleted."),
    )


class ActivityTypeForm(SamskabForm):
    name_da = StringField(
        _l("Name in Danish"),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write a name.")), Length(max=80)],
    )
    name_en = StringField(
        _l("Name in English"),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write a name.")), Length(max=80)],
    )
    description_da = TextAreaField(
        _l("Description in Danish"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000, message=_l("Write at most %(max)d characters."))],
    )
    description_en = TextAreaField(
        _l("Description in English"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000, message=_l("Write at most %(max)d characters."))],
    )
    requires_child_certificate = BooleanField(_l("Child certificate (børneattest) required"))
    sort_order = IntegerField(
        _l("Order in lists"),
        default=0,
        description=_l("Lower numbers come first."),
        validators=[
            InputRequired(_l("Write a number.")),
            NumberRange(min=0, max=1000, message=_l("Write a number from 0 to 1000.")),
        ],
    )
    active = BooleanField(
        _l("Active"),
        default=True,
        description=_l(
            "An inactive activity cannot be chosen for new needs or interests. Nothing is deleted."
        ),
    )


# Made before StaffForm's fields, so the invitation's errors are listed in the page's order.
_INVITE_EMAIL = _email()


class StaffForm(SamskabForm):
    """Who the person is and where they work. The email is only asked when inviting."""

    name = StringField(
        _l("Full name"),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write the person's name.")), Length(max=120)],
    )
    role = _choice(_l("Role"), STAFF_ROLE_NAMES)
    organisation_ids = MultiCheckboxField(
        _l("Organisations"),
        coerce=int,
        description=_l(
            "For a coordinator: the organisations whose needs and volunteers they manage."
        ),
    )
    centre_ids = MultiCheckboxField(
        _l("Centres"),
        coerce=int,
        description=_l("For centre staff: the centres whose visits they confirm."),
    )


class InviteForm(StaffForm):
    email = _INVITE_EMAIL


class LoginPolicyForm(SamskabForm):
    """How each staff role logs in (``volunteer.auth.two_factor.set_policy``)."""

    # Short labels: each pair sits under its role's heading (the fieldset's legend).
    coordinator_two_factor = BooleanField(_l("Require two-factor"))
    coordinator_password = BooleanField(_l("May log in with a password"))
    centre_two_factor = BooleanField(_l("Require two-factor"))
    centre_password = BooleanField(_l("May log in with a password"))
    admin_two_factor = BooleanField(_l("Require two-factor"))
    admin_password = BooleanField(_l("May log in with a password"))
