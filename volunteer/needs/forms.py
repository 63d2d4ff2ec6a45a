from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from volunteer.forms import LANGUAGES, DanishPostcode, MultiCheckboxField, SamskabForm, strip_filter

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGES.items()]

WEEKDAY_CHOICES = [
    SelectChoice(0, _l("Monday")),
    SelectChoice(1, _l("Tuesday")),
    SelectChoice(2, _l("Wednesday")),
    SelectChoice(3, _l("Thursday")),
    SelectChoice(4, _l("Friday")),
    SelectChoice(5, _l("Saturday")),
    SelectChoice(6, _l("Sunday")),
]


def _int_or_none(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)  # type: ignore[arg-type]


class NeedForm(SamskabForm):
    """What a coordinator fills in to ask for volunteers. Choices are set by the view."""

    organisation_id = SelectField(_l("Organisation"), coerce=int)
    # Any id reaches the service, which answers in Danish when it is no coordinator of the
    # need's organisation (the choices list those of all the user's organisations).
    contact_id = SelectField(
        _l("Contact person"),
        coerce=_int_or_none,
        validate_choice=False,
        description=_l(
            "The coordinator volunteers can ask about the need. Their name, phone and email are "
            "shown on the need's page and in the emails about it."
        ),
    )
    activity_type_id = SelectField(
        _l("Activity"), coerce=int, validators=[InputRequired(_l("Choose an activity."))]
    )
    title = StringField(
        _l("Title"),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write a title.")), Length(max=160)],
    )
    description = TextAreaField(
        _l("Description"),
        description=_l(
            "What will the volunteer do? Do not write personal details about the senior or "
            "child (name, health, address): the description is public."
        ),
        filters=[strip_filter],
        validators=[
            Optional(),
            Length(max=4000, message=_l("Write at most %(max)d characters.")),
        ],
    )
    centre_id = SelectField(
        _l("Place"),
        coerce=int,
        description=_l("A centre, or choose 'Another place' and write the postcode below."),
    )
    postcode = StringField(
        _l("Postcode"),
        description=_l("Only when the place is not a centre."),
        filters=[strip_filter],
        validators=[Optional(), DanishPostcode()],
    )
    address = StringField(
        _l("Address"),
        description=_l("Shown only to volunteers who have taken the task."),
        filters=[strip_filter],
        validators=[Optional(), Length(max=200)],
    )
    local_area_id = SelectField(_l("Local area"), coerce=int)
    schedule = RadioField(
        _l("How often"),
        choices=[SelectChoice("weekly", _l("Every week")), SelectChoice("once", _l("Once"))],
        default="weekly",
        validators=[InputRequired(_l("Choose how often."))],
    )
    weekday = SelectField(_l("Weekday"), coerce=int, choices=WEEKDAY_CHOICES, default=0)
    first_date = DateField(
        _l("Date, or first date"),
        validators=[InputRequired(_l("Write a date."))],
    )
    last_date = DateField(
        _l("Last date"),
        description=_l("Leave empty if the task goes on."),
        validators=[Optional()],
    )
    start_time = TimeField(_l("From"), validators=[InputRequired(_l("Write a start time."))])
    end_time = TimeField(_l("To"), validators=[InputRequired(_l("Write an end time."))])
    skip_holidays = BooleanField(_l("Not on public holidays"), default=True)
    slots = IntegerField(
        _l("Number of volunteers wanted"),
        default=1,
        validators=[
            InputRequired(_l("Write how many volunteers you need.")),
            NumberRange(min=1, max=100, message=_l("Write a number from 1 to 100.")),
        ],
    )
    requires_child_certificate = BooleanField(_l("Child certificate (børneattest) required"))
    languages = MultiCheckboxField(
        _l("Languages"),
        description=_l("Only if the volunteer must speak one of these."),
        choices=LANGUAGE_CHOICES,
    )

    def validate_end_time(self, field: TimeField) -> None:
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate_last_date(self, field: DateField) -> None:
        if field.data and self.first_date.data and field.data < self.first_date.data:
            raise ValidationError(_l("The last date cannot be before the first date."))

    def validate_centre_id(self, field: SelectField) -> None:
        if not field.data and not self.postcode.data:
            raise ValidationError(_l("Choose a centre, or write the postcode of the place."))


class SearchForm(SamskabForm):
    """The public list's filters (GET; no CSRF needed: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), filters=[strip_filter], validators=[Optional(), Length(max=100)])
    aktivitet = SelectField(_l("Activity"), validators=[Optional()])
    omraade = SelectField(_l("Local area"), coerce=_int_or_none, validators=[Optional()])
    ugedag = SelectField(
        _l("Weekday"),
        coerce=_int_or_none,
        choices=[SelectChoice(None, _l("Any day")), *WEEKDAY_CHOICES],
        validators=[Optional()],
    )
    tid = SelectField(
        _l("Time of day"),
        choices=[
            SelectChoice("", _l("Any time")),
            SelectChoice("morgen", _l("Morning (before 12)")),
            SelectChoice("eftermiddag", _l("Afternoon (12–17)")),
            SelectChoice("aften", _l("Evening (from 17)")),
        ],
        validators=[Optional()],
    )
    postnummer = StringField(
        _l("Near postcode"),
        filters=[strip_filter],
        validators=[Optional(), DanishPostcode()],
        render_kw={"inputmode": "numeric", "maxlength": 8, "autocomplete": "postal-code"},
    )
    km = IntegerField(
        _l("Within km"),
        default=10,
        validators=[
            Optional(),
            NumberRange(min=0, max=200, message=_l("Write a distance from 0 to 200 km.")),
        ],
    )
