"""Forms for forløb: the weekly pattern to look for candidates (a GET form), proposing a
volunteer, the coordinator's moves (with the end's reason) and the volunteer's answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from volunteer.forms import SamskabForm, SamskabGetForm
from volunteer.i18n import weekday_name
from volunteer.pairs.models import CheckinAnswer, EndReason, ForloebState

STATES = {
    ForloebState.PROPOSED: _l("Proposed"),
    ForloebState.ACTIVE: _l("Active"),
    ForloebState.PAUSED: _l("Paused"),
    ForloebState.ENDED: _l("Ended"),
}
END_REASONS = {
    EndReason.DECLINED: _l("The volunteer said no"),
    EndReason.WITHDRAWN: _l("The proposal was taken back"),
    EndReason.VOLUNTEER_STOPPED: _l("The volunteer stopped"),
    EndReason.PERSON_STOPPED: _l("The person no longer wants visits"),
    EndReason.NOT_A_MATCH: _l("They were not a good match"),
    EndReason.MOVED: _l("Someone moved"),
    EndReason.OTHER: _l("Something else"),
}
# The reasons a coordinator chooses from (declined is the volunteer's own answer).
CHOSEN_REASONS = [r for r in END_REASONS if r != EndReason.DECLINED]
ANSWERS = {
    CheckinAnswer.GOOD: _l("Good"),
    CheckinAnswer.TALK: _l("I would like to talk to a coordinator"),
    CheckinAnswer.STOP: _l("I would like to stop"),
}


def _weekdays() -> list[SelectChoice]:
    return [SelectChoice(day, weekday_name(day)) for day in range(7)]


class _Times:
    def validate_end_time(self, field) -> None:  # type: ignore[no-untyped-def]
        start = self.start_time.data  # type: ignore[attr-defined]
        if field.data is not None and start is not None and field.data <= start:
            raise ValidationError(_l("The end must be after the start."))


class PatternForm(_Times, SamskabGetForm):
    """The weekly time to find volunteers for (from the query string)."""

    weekday = SelectField(_l("Weekday"), coerce=int, validators=[InputRequired()])
    start_time = TimeField(_l("From"), validators=[InputRequired(_l("Write a time."))])
    end_time = TimeField(_l("To"), validators=[InputRequired(_l("Write a time."))])
    start_date = DateField(_l("First visit"), validators=[InputRequired(_l("Choose a date."))])

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.weekday.choices = _weekdays()


class ProposeForm(_Times, SamskabForm):
    volunteer_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    weekday = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=6)])
    start_time = TimeField(validators=[InputRequired()])
    end_time = TimeField(validators=[InputRequired()])
    start_date = DateField(validators=[InputRequired()])


class MoveForm(SamskabForm):
    """The coordinator's buttons on a forløb; ending needs a reason."""

    action = SelectField(
        choices=[SelectChoice(a, a) for a in ("yes", "pause", "resume", "end")],
        validators=[InputRequired()],
    )
    reason = SelectField(_l("Why does it end?"), validators=[Optional()])
    end_person = BooleanField(_l("End the person's registration too (they want no new volunteer)"))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.reason.choices = [SelectChoice(r.value, END_REASONS[r]) for r in CHOSEN_REASONS]

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)
        if valid and self.action.data == "end" and not self.reason.data:
            self.reason.errors = [*self.reason.errors, _l("Choose why it ends.")]
            return False
        return valid


class AnswerForm(SamskabForm):
    answer = SelectField(
        choices=[SelectChoice(a, a) for a in ("yes", "no")], validators=[InputRequired()]
    )


class EmptyForm(SamskabForm):
    """A button: only the CSRF token."""


class CheckinChoiceForm(SamskabForm):
    """The SMS's check-in page: one button per answer (the button pressed is the answer)."""

    answer = SelectField(
        _l("Your answer"),
        choices=[SelectChoice(a.value, label) for a, label in ANSWERS.items()],
        validators=[InputRequired(_l("Press one of the answers."))],
    )
