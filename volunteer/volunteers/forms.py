"""The volunteer's forms. Deliberately no child-certificate fields: only coordinators record it."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    Field,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from volunteer.catalogue.services import activity_types, local_areas
from volunteer.clock import to_local
from volunteer.db import utcnow
from volunteer.forms import (
    LANGUAGES,
    MultiCheckboxField,
    SamskabForm,
    SamskabGetForm,
    postcode_field,
    strip_filter,
)
from volunteer.i18n import GENDER_LABELS, weekday_name
from volunteer.volunteers.staff import VolunteerFilter

# Code → Danish-first name; the order is the order of the checkboxes.

ABOUT_MAX = 1000
SKILLS_MAX = 500
CANCEL_REASON_MAX = 500

# A Danish number of 8 digits, or an international one with + or 00 and 7–15 digits.
_DANISH_PHONE = re.compile(r"^(?:\+45|0045)?\d{8}$")
_INTERNATIONAL_PHONE = re.compile(r"^(?:\+|00)\d{7,15}$")


class PhoneNumber:
    """'+45 12 34 56 78', '12345678' or '+49 30 1234567'; spaces and hyphens are allowed."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        digits = re.sub(r"[\s\-]", "", field.data)
        if not (_DANISH_PHONE.match(digits) or _INTERNATIONAL_PHONE.match(digits)):
            raise ValidationError(
                _l("Write a phone number with 8 digits, or with + and the country code.")
            )


def _length(maximum: int) -> Length:
    return Length(max=maximum, message=_l("Write at most %(max)d characters.", max=maximum))


class ProfileForm(SamskabForm):
    name = StringField(
        _l("Name"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write your name.")), _length(120)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Phone"),
        description=_l("Only coordinators of your organisations see it."),
        filters=[strip_filter],
        validators=[Optional(), _length(32), PhoneNumber()],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    postcode = postcode_field()
    address = StringField(
        _l("Street address"),
        description=_l("Never shown publicly. It helps a coordinator plan a visit near you."),
        filters=[strip_filter],
        validators=[Optional(), _length(200)],
        render_kw={"autocomplete": "street-address"},
    )
    max_km = IntegerField(
        _l("How far will you travel (km)?"),
        validators=[
            InputRequired(_l("Write a number of kilometres.")),
            NumberRange(0, 200, _l("Write a number of kilometres from 0 to 200.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    weekly_capacity = IntegerField(
        _l("At most how many activities a week?"),
        validators=[
            InputRequired(_l("Write a number from 1 to 14.")),
            NumberRange(1, 14, _l("Write a number from 1 to 14.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    interests = MultiCheckboxField(_l("What would you like to do?"), coerce=int)
    languages = MultiCheckboxField(
        _l("Which languages do you speak?"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
    )
    organisations = MultiCheckboxField(_l("Which organisations may contact you?"), coerce=int)
    gender = SelectField(
        _l("Gender"),
        choices=[SelectChoice(code, label) for code, label in GENDER_LABELS.items()],
        default="",
        description=_l(
            "Some people we help want a visiting friend of a particular gender. You choose"
            " whether to say. Only coordinators of your organisations see it."
        ),
    )
    skills = TextAreaField(
        _l("Skills"),
        description=_l("For example: cooking, playing cards, maths, driving."),
        filters=[strip_filter],
        validators=[_length(SKILLS_MAX)],
    )
    about = TextAreaField(
        _l("A few words about you"),
        description=_l("At most 1,000 characters."),
        filters=[strip_filter],
        validators=[_length(ABOUT_MAX)],
    )
    paused_until = DateField(
        _l("Pause until"),
        description=_l(
            "Leave empty if you want to be asked. We will not ask you before this date."
        ),
        validators=[Optional()],
    )

    def validate_languages(self, field: MultiCheckboxField) -> None:
        # Not DataRequired: its "required" flag would mark every single checkbox as required.
        if not field.data:
            raise ValidationError(_l("Choose at least one language."))


class _DateField(DateField):
    """A date field whose "not a date" error is ours, in Danish, not WTForms' English one."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("That is not a date. Choose a date.")) from None


class AwayPeriodForm(SamskabForm):
    start_date = _DateField(_l("First day away"), validators=[InputRequired(_l("Choose a date."))])
    end_date = _DateField(_l("Last day away"), validators=[InputRequired(_l("Choose a date."))])

    def validate_end_date(self, field: DateField) -> None:
        if self.start_date.data and field.data and field.data < self.start_date.data:
            raise ValidationError(_l("The last day cannot be before the first day."))


class CannotComeForm(SamskabForm):
    """The reminder's "Kan ikke komme": one button; a reason only if they want to give one."""

    reason = TextAreaField(
        _l("Do you want to say why? (You do not have to)"),
        description=_l("The coordinator reads it. Do not write anything about your health."),
        filters=[strip_filter],
        validators=[Optional(), _length(CANCEL_REASON_MAX)],
    )


class CancelVisitForm(SamskabForm):
    reason = TextAreaField(
        _l("Why can you not come?"),
        description=_l("The coordinator reads it. Do not write anything about your health."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write a short reason.")), _length(CANCEL_REASON_MAX)],
    )


class DeleteAccountForm(SamskabForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Write your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ManagedVolunteerForm(SamskabForm):
    """For coordinators: a volunteer whose account the organisation keeps (no email needed)."""

    organisation_id = SelectField(
        _l("Organisation"),
        coerce=int,
        choices=[],
        validators=[InputRequired(_l("Choose from the list."))],
    )
    name = StringField(
        _l("Name"),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write the volunteer's name.")), _length(120)],
    )
    phone = StringField(
        _l("Phone"),
        description=_l("If they have one. Only coordinators of your organisations see it."),
        filters=[strip_filter],
        validators=[Optional(), _length(32), PhoneNumber()],
        render_kw={"inputmode": "tel"},
    )
    email = EmailField(
        _l("Email"),
        description=_l("Only if they have one and want mail from Samskab."),
        filters=[strip_filter],
        validators=[
            Optional(),
            Email(_l("That does not look like an email address."), check_deliverability=False),
            _length(254),
        ],
    )
    postcode = postcode_field(_l("Where they live. It finds activities near them."))


class SignUpForVolunteerForm(SamskabForm):
    need_id = SelectField(
        _l("Activity"),
        coerce=int,
        choices=[],
        validators=[InputRequired(_l("Choose from the list."))],
    )


class InvitationForm(SamskabForm):
    """Only the CSRF token and the way the invitation travels."""

    channel = SelectField(
        _l("Send by"),
        choices=[SelectChoice("email", _l("Email")), SelectChoice("sms", _l("SMS"))],
    )


class CertificateForm(SamskabForm):
    """For coordinators: the fact of a børneattest check, never the certificate itself."""

    checked_on = DateField(
        _l("Checked on"), validators=[InputRequired(_l("Choose the date you checked it."))]
    )
    valid_until = DateField(
        _l("Valid until"), validators=[InputRequired(_l("Choose the date it expires."))]
    )

    def validate_checked_on(self, field: DateField) -> None:
        if field.data and field.data > to_local(utcnow()).date():
            raise ValidationError(_l("The check cannot be in the future."))

    def validate_valid_until(self, field: DateField) -> None:
        if self.checked_on.data and field.data and field.data < self.checked_on.data:
            raise ValidationError(_l("It cannot expire before it was checked."))


class VolunteerFilterForm(SamskabGetForm):
    """The coordinators' volunteer list filters, read from the query string (GET: no CSRF)."""

    q = StringField(
        _l("Search"),
        default="",
        filters=[strip_filter],
        validators=[Optional(), Length(max=100)],
        description=_l("Name, email, phone, postcode or activity"),
    )
    area = SelectField(_l("Local area"), default="")
    activity = SelectField(_l("Interested in"), default="")
    weekday = SelectField(_l("Free on"), default="")
    certificate = SelectField(
        _l("Child certificate"),
        default="",
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("valid", _l("Valid")),
            SelectChoice("expired", _l("Expired")),
            SelectChoice("none", _l("None")),
        ],
    )

    def fill_choices(self, locale: str) -> None:
        every = SelectChoice("", _l("All"))
        self.area.choices = [every] + [SelectChoice(str(a.id), a.name) for a in local_areas()]
        self.activity.choices = [every] + [
            SelectChoice(str(a.id), a.name(locale)) for a in activity_types()
        ]
        self.weekday.choices = [every] + [
            SelectChoice(str(day), weekday_name(day)) for day in range(7)
        ]

    def to_filter(self) -> VolunteerFilter:
        """The filters after ``validate()``; a crafted value in one field just drops that filter."""

        def value(field: SelectField) -> str | None:
            return field.data if field.data and not field.errors else None

        def number(field: SelectField) -> int | None:
            text = value(field)
            return int(text) if text else None

        return VolunteerFilter(
            local_area_id=number(self.area),
            activity_type_id=number(self.activity),
            weekday=number(self.weekday),
            certificate=value(self.certificate),
            text="" if self.q.errors else (self.q.data or ""),
        )
