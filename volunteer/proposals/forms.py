"""The proposal forms. Choices of local areas and organisations are set by the view."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from volunteer.forms import (
    DanishDecimalField,
    DanishPostcode,
    SamskabForm,
    SamskabGetForm,
    strip_filter,
)
from volunteer.needs.forms import WEEKDAY_CHOICES, _int_or_none

LONG = _l("Write at most %(max)d characters.")


def _text(label: str, maximum: int = 4000, **kw):  # type: ignore[no-untyped-def]
    return TextAreaField(
        label,
        filters=[strip_filter],
        validators=[Optional(), Length(max=maximum, message=LONG)],
        **kw,
    )


class ProposalForm(SamskabForm):
    title = StringField(
        _l("Title"),
        description=_l("For example: We want to start a walking club in Løsning."),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write a title.")), Length(max=160, message=LONG)],
    )
    what = TextAreaField(
        _l("What do you want to do?"),
        filters=[strip_filter],
        validators=[
            InputRequired(_l("Write what you want to do.")),
            Length(max=4000, message=LONG),
        ],
    )
    for_whom = _text(_l("For whom?"), description=_l("For example: seniors who live alone."))
    postcode = StringField(
        _l("Postcode"),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write the postcode.")), DanishPostcode()],
        render_kw={"inputmode": "numeric", "maxlength": 8, "autocomplete": "postal-code"},
    )
    local_area_id = SelectField(_l("Local area"), coerce=int, default=0)
    organisation_id = SelectField(
        _l("Who should answer?"),
        coerce=int,
        default=0,
        description=_l(
            "An organisation, or the local area's council. They answer within the deadline."
        ),
    )
    schedule = RadioField(
        _l("How often?"),
        choices=[SelectChoice("weekly", _l("Every week")), SelectChoice("once", _l("Once"))],
        default="weekly",
        validators=[InputRequired(_l("Choose how often."))],
    )
    weekday = SelectField(
        _l("Weekday"),
        coerce=_int_or_none,
        choices=[SelectChoice(None, _l("Not decided")), *WEEKDAY_CHOICES],
        validators=[Optional()],
    )
    first_date = DateField(_l("First date"), validators=[Optional()])
    start_time = TimeField(_l("From"), validators=[Optional()])
    end_time = TimeField(_l("To"), validators=[Optional()])
    helpers_wanted = IntegerField(
        _l("Helpers wanted"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=500, message=_l("Write a number from 0 to 500.")),
        ],
    )
    helper_roles = _text(
        _l("Which helpers?"), 1000, description=_l("For example: two walking guides, one driver.")
    )
    ask_room = BooleanField(_l("We need a room"))
    ask_materials = _text(_l("Materials"), 1000)
    amount = DanishDecimalField(
        _l("Amount (kroner)"),
        places=2,
        validators=[
            Optional(),
            NumberRange(
                min=Decimal(0),
                max=Decimal(100_000_000),
                message=_l("Write an amount from 0 to 100.000.000 kroner."),
            ),
        ],
    )

    def validate_end_time(self, field: TimeField) -> None:
        from wtforms import ValidationError

        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end must be after the start."))


class CoauthorForm(SamskabForm):
    email = EmailField(
        _l("Email address of the co-author"),
        filters=[strip_filter],
        validators=[
            InputRequired(_l("Write an email address.")),
            Length(max=254, message=LONG),
            Email(_l("Write a valid email address.")),
        ],
    )


class SupportForm(SamskabForm):
    kind = SelectField(
        _l("How do you want to take part?"),
        choices=[
            SelectChoice("helper", _l("as a helper")),
            SelectChoice("participant", _l("as a participant")),
            SelectChoice("", _l("I am not in after all")),
        ],
    )


class FollowForm(SamskabForm):
    follow = SelectField(choices=[SelectChoice("1", "1"), SelectChoice("0", "0")])


class CommentForm(SamskabForm):
    body = TextAreaField(
        _l("Your comment"),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write a comment.")), Length(max=4000, message=LONG)],
    )


class ReportForm(SamskabForm):
    reason = _text(_l("What is wrong with it? (optional)"), 1000)


class HideForm(SamskabForm):
    reason = TextAreaField(
        _l("Why is it hidden?"),
        description=_l("Shown publicly where the comment was."),
        filters=[strip_filter],
        validators=[InputRequired(_l("Write a short reason.")), Length(max=1000, message=LONG)],
    )


class AnswerForm(SamskabForm):
    state = SelectField(_l("New status"), validators=[InputRequired(_l("Choose a status."))])
    text = TextAreaField(
        _l("The answer"),
        description=_l("Public. A decline must say why."),
        filters=[strip_filter],
        validators=[Optional(), Length(max=4000, message=LONG)],
    )
    grant = DanishDecimalField(
        _l("Grant from the local area's fund (kroner)"),
        description=_l("Only when you adopt it. At most what the fund has left."),
        places=2,
        validators=[
            Optional(),
            NumberRange(
                min=Decimal(0),
                max=Decimal(100_000_000),
                message=_l("Write an amount from 0 to 100.000.000 kroner."),
            ),
        ],
    )


class CloseoutForm(SamskabForm):
    """The tovholder's close-out: how many took part, how many times, a short note."""

    participants = IntegerField(
        _l("How many took part?"),
        validators=[
            InputRequired(_l("This is needed.")),
            NumberRange(min=0, max=100_000, message=_l("The number is out of range.")),
        ],
    )
    sessions = IntegerField(
        _l("How many times did you meet?"),
        validators=[
            InputRequired(_l("This is needed.")),
            NumberRange(min=0, max=10_000, message=_l("The number is out of range.")),
        ],
    )
    note = TextAreaField(
        _l("A few words on how it went"),
        filters=[strip_filter],
        validators=[Optional(), Length(max=2000, message=LONG)],
    )


class PoolForm(SamskabForm):
    """A new local area fund (administrators)."""

    local_area_id = SelectField(_l("Local area"), coerce=int, validators=[InputRequired()])
    year = IntegerField(
        _l("Year"),
        validators=[
            InputRequired(_l("This is needed.")),
            NumberRange(min=2000, max=2100, message=_l("The number is out of range.")),
        ],
    )
    amount = DanishDecimalField(
        _l("Amount (kroner)"),
        places=2,
        validators=[
            InputRequired(_l("This is needed.")),
            NumberRange(
                min=Decimal(0),
                max=Decimal(20_000_000),
                message=_l("Write an amount from 0 to 20.000.000 kroner."),
            ),
        ],
    )
    voting = BooleanField(_l("Residents vote first"))
    voting_closes_on = DateField(_l("The vote closes on"), validators=[Optional()])


class VoteForm(SamskabForm):
    """Approve a proposal in the local area fund's vote (no fields but the CSRF token)."""


class CoauthorAnswerForm(SamskabForm):
    answer = SelectField(choices=[SelectChoice("yes", "yes"), SelectChoice("no", "no")])


class ProposalFilterForm(SamskabGetForm):
    omraade = SelectField(_l("Local area"), coerce=int, default=0, validators=[Optional()])
    status = SelectField(_l("Status"), default="", validators=[Optional()])


class VisitOutcomeForm(SamskabForm):
    outcome = SelectField(
        _l("Did the helper come?"),
        choices=[
            SelectChoice("confirmed", _l("Came")),
            SelectChoice("no_show", _l("Did not come")),
        ],
    )
