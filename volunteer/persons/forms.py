"""Forms for the people we help: the coordinator's person form, the public referral form, the
decline form and the list's search. Free texts refuse a CPR number (``NoCPR``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from volunteer.forms import (
    LANGUAGES,
    DanishPostcode,
    MultiCheckboxField,
    SamskabForm,
    SamskabGetForm,
    strip_filter,
)
from volunteer.i18n import weekday_name
from volunteer.persons import services
from volunteer.persons.models import ConsentMethod, PersonState, ReferrerRelation
from volunteer.volunteers.forms import PhoneNumber
from volunteer.volunteers.models import Gender

NOTE_MAX = 2000
TEXT_MAX = 500

CPR_MESSAGE = _l("Do not write a CPR number. Remove the number (ddmmyy-xxxx) and save again.")
CONSENT_METHODS = {
    ConsentMethod.WRITTEN: _l("In writing"),
    ConsentMethod.ORAL_TO_STAFF: _l("Orally to staff"),
    ConsentMethod.RELATIVE_WITH_POWER_OF_ATTORNEY: _l("By a relative with power of attorney"),
}
RELATIONS = {
    ReferrerRelation.RELATIVE: _l("A relative"),
    ReferrerRelation.STAFF: _l("Home care or other staff"),
    ReferrerRelation.SELF: _l("The person themself"),
    ReferrerRelation.OTHER: _l("Someone else"),
}
PERSON_STATES = {
    PersonState.WAITING: _l("Waiting"),
    PersonState.PAIRED: _l("Has a volunteer"),
    PersonState.ENDED: _l("Ended"),
}


class NoCPR:
    """Refuses a text that looks like it holds a CPR number (ddmmyy-xxxx)."""

    def __call__(self, form: Any, field: Field) -> None:
        if services.contains_cpr(field.data):
            raise ValidationError(CPR_MESSAGE)


def _length(maximum: int) -> Length:
    return Length(max=maximum, message=_l("Write at most %(max)d characters.", max=maximum))


def _text(label: Any, maximum: int = 120, required: Any = None, **kwargs: Any) -> StringField:
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    return StringField(
        label,
        filters=[strip_filter],
        validators=[*validators, _length(maximum), NoCPR()],
        **kwargs,
    )


def _phone(label: Any, **kwargs: Any) -> StringField:
    return StringField(
        label,
        filters=[strip_filter],
        validators=[Optional(), _length(32), PhoneNumber()],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
        **kwargs,
    )


def _email(label: Any, **kwargs: Any) -> EmailField:
    return EmailField(
        label,
        filters=[strip_filter, lambda v: v.lower() if isinstance(v, str) else v],
        validators=[
            Optional(),
            _length(254),
            Email(_l("That does not look like an email address."), check_deliverability=False),
        ],
        **kwargs,
    )


def _postcode(label: Any, required: Any) -> StringField:
    return StringField(
        label,
        filters=[strip_filter],
        validators=[DataRequired(required), DanishPostcode()],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 8},
    )


def _note(label: Any, maximum: int, description: Any) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        filters=[strip_filter],
        validators=[_length(maximum), NoCPR()],
    )


NO_CPR_WARNING = _l("Do not write CPR numbers or health information.")


class PersonForm(SamskabForm):
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    name = _text(_l("Name"), required=_l("Write the person's name."))
    phone = _phone(_l("Phone"), description=_l("Many have none: leave it empty."))
    email = _email(_l("Email"))
    postcode = _postcode(_l("Postcode"), _l("Write the postcode."))
    address = _text(
        _l("Street address"),
        200,
        required=_l("Write the street address."),
        description=_l("Only coordinators of the organisation see it."),
        render_kw={"autocomplete": "off"},
    )
    local_area_id = SelectField(
        _l("Local area"),
        coerce=int,
        description=_l("Empty: chosen from the postcode."),
    )
    activity_type_ids = MultiCheckboxField(_l("What would they like?"), coerce=int)
    interests = _note(
        _l("Interests"), TEXT_MAX, _l("For example: cards, gardening, football on TV.")
    )
    languages = MultiCheckboxField(
        _l("Which languages do they speak?"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
    )
    volunteer_wish = _note(
        _l("The person's own wish about the volunteer"),
        TEXT_MAX,
        _l('In their words, for example "a woman". Only what they asked for.'),
    )
    wish_gender = SelectField(
        _l("Does the person wish for a woman or a man?"),
        choices=[
            SelectChoice("", _l("No wish")),
            SelectChoice(str(Gender.WOMAN), _l("A woman")),
            SelectChoice(str(Gender.MAN), _l("A man")),
        ],
        default="",
        description=_l("Only what the person wished for themself."),
    )
    wish_required = BooleanField(
        _l("The person asked for this as a requirement"),
        description=_l(
            "Then we only propose volunteers who have said they are a woman or a man. Without"
            " a tick the wish only puts those who fit it first."
        ),
    )
    contact_name = _text(_l("Contact person"), description=_l("A relative or staff."))
    contact_relation = _text(
        _l("Relation"), 80, description=_l("For example: daughter, home care.")
    )
    contact_phone = _phone(_l("Contact person's phone"))
    contact_email = _email(_l("Contact person's email"))
    consent_given_by = _text(
        _l("Consent given by"),
        required=_l("Write who gave the consent."),
        description=_l("The person, or the relative who holds a power of attorney."),
    )
    consent_given_on = DateField(
        _l("Consent given on"), validators=[InputRequired(_l("Choose the date of the consent."))]
    )
    consent_method = RadioField(
        _l("How was the consent given?"),
        choices=[SelectChoice(str(code), label) for code, label in CONSENT_METHODS.items()],
        validators=[InputRequired(_l("Choose how the consent was given."))],
    )
    note = _note(_l("Note"), NOTE_MAX, NO_CPR_WARNING)

    def validate_languages(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one language."))

    def validate_wish_required(self, field: BooleanField) -> None:
        if field.data and not self.wish_gender.data:
            raise ValidationError(_l("Choose a woman or a man, or remove the tick."))


class AcceptReferralForm(PersonForm):
    """The person form, and optionally a weekly need (a draft) for the person's visits."""

    need_weekday = SelectField(
        _l("Also make a weekly need (a draft)"),
        coerce=int,
        default=-1,
        description=_l("Choose the weekday. The need shows the postcode only, never the address."),
    )
    need_start = TimeField(_l("From"), validators=[Optional()])
    need_end = TimeField(_l("To"), validators=[Optional()])

    def fill_weekdays(self) -> None:
        self.need_weekday.choices = [SelectChoice(-1, _l("No need now"))] + [
            SelectChoice(day, weekday_name(day)) for day in range(7)
        ]

    def validate_need_weekday(self, field: SelectField) -> None:
        # Here, not on the time fields: their Optional() stops their own checks when empty.
        if field.data is None or field.data < 0:
            return
        start, end = self.need_start.data, self.need_end.data
        if start is None:
            raise ValidationError(_l("Write a start time."))
        if end is None:
            raise ValidationError(_l("Write an end time."))
        if end <= start:
            raise ValidationError(_l("The end time must be after the start time."))

    def validate_activity_type_ids(self, field: MultiCheckboxField) -> None:
        if self.need_weekday.data is not None and self.need_weekday.data >= 0 and not field.data:
            raise ValidationError(_l("Choose the activity the need is for."))


class ReferralForm(SamskabForm):
    referrer_name = _text(
        _l("Your name"), required=_l("Write your name."), render_kw={"autocomplete": "name"}
    )
    referrer_relation = RadioField(
        _l("Who are you?"),
        choices=[SelectChoice(str(code), label) for code, label in RELATIONS.items()],
        validators=[InputRequired(_l("Choose who you are."))],
    )
    referrer_phone = _phone(_l("Your phone"))
    referrer_email = _email(
        _l("Your email"),
        description=_l("We send you a receipt and our answer."),
        render_kw={"autocomplete": "email"},
    )
    person_name = _text(
        _l("The person's name"),
        required=_l("Write the name of the person who would like a visit."),
        description=_l("Also when it is you."),
        render_kw={"autocomplete": "off"},
    )
    person_postcode = _postcode(_l("The person's postcode"), _l("Write the postcode."))
    person_address = _text(
        _l("The person's street address"),
        200,
        required=_l("Write the street address."),
        render_kw={"autocomplete": "off"},
    )
    person_phone = _phone(_l("The person's phone"))
    activity_codes = MultiCheckboxField(_l("What kind of help?"))
    message = _note(
        _l("Anything else we should know?"),
        NOTE_MAX,
        _l("For example: good times of the week. Do not write CPR numbers or health information."),
    )
    consent = BooleanField(
        _l("The person knows about this referral and agrees that we store these details"),
        validators=[DataRequired(_l("Tick the box: we need the person's consent."))],
    )

    def validate_activity_codes(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one kind of help."))


class DeclineForm(SamskabForm):
    reason = TextAreaField(
        _l("Why can you not help?"),
        description=_l(
            "The referrer gets it by email. Do not write CPR numbers or health information."
        ),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write a short reason.")), _length(TEXT_MAX), NoCPR()],
    )


class PersonFilterForm(SamskabGetForm):
    q = StringField(
        _l("Search"),
        default="",
        filters=[strip_filter],
        validators=[Optional(), Length(max=100)],
        description=_l("Name, postcode, town or contact person"),
    )
    state = SelectField(
        _l("Status"),
        default="",
        choices=[SelectChoice("", _l("All"))]
        + [SelectChoice(str(code), label) for code, label in PERSON_STATES.items()],
    )


class FriendLetterForm(SamskabForm):
    """A letter to the person about their new visiting friend: who, and when they agreed."""

    volunteer_id = SelectField(
        _l("Visiting friend"),
        coerce=int,
        choices=[],
        validators=[InputRequired(_l("Choose from the list."))],
    )
    weekday = SelectField(
        _l("Weekday"),
        coerce=int,
        choices=[],
        validators=[InputRequired(_l("Choose from the list."))],
    )
    starts = TimeField(_l("At"), validators=[InputRequired(_l("Write the time."))])
    first_date = DateField(_l("The first time"), validators=[Optional()])

    def fill_choices(self, volunteers: list[Any]) -> None:
        self.volunteer_id.choices = [SelectChoice(u.id, u.name) for u in volunteers]
        self.weekday.choices = [SelectChoice(day, weekday_name(day)) for day in range(7)]
