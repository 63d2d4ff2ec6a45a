"""Centre staff's forms: the outcome of a visit, and asking for a volunteer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from volunteer.centres.services import MAX_HOURS, NOTE_MAX, OUTCOMES
from volunteer.forms import DanishDecimalField, SamskabForm, strip_filter
from volunteer.needs.forms import WEEKDAY_CHOICES

HELP_TEXT_MAX = 1000


class VisitOutcomeForm(SamskabForm):
    """One per visit on the staff page (the view gives each a prefix, so ids stay unique).
    The outcome comes from the button that was pressed."""

    outcome = SelectField(choices=[SelectChoice(str(o), str(o)) for o in OUTCOMES])
    hours = DanishDecimalField(
        _l("Hours"),
        places=2,
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_HOURS, message=_l("Write a number of hours from 0 to 24.")),
        ],
    )
    note = StringField(
        _l("Note"),
        filters=[strip_filter],
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("Write at most %(max)d characters.")),
        ],
    )


class HelpRequestForm(SamskabForm):
    """Staff ask their organisation's coordinators for a volunteer. Choices are set by the view."""

    centre_id = SelectField(_l("Centre"), coerce=int)
    activity_type_id = SelectField(
        _l("Activity"), coerce=int, validators=[InputRequired(_l("Choose an activity."))]
    )
    weekday = SelectField(_l("Weekday"), coerce=int, choices=WEEKDAY_CHOICES)
    start_time = TimeField(_l("From"), validators=[InputRequired(_l("Write a time."))])
    end_time = TimeField(_l("To"), validators=[InputRequired(_l("Write a time."))])
    slots = IntegerField(
        _l("How many volunteers"),
        default=1,
        validators=[
            InputRequired(_l("Write a number from 1 to 20.")),
            NumberRange(min=1, max=20, message=_l("Write a number from 1 to 20.")),
        ],
    )
    text = TextAreaField(
        _l("What do you need?"),
        description=_l(
            "For example: We need a dining friend on Thursdays. "
            "No names or health details about residents."
        ),
        filters=[strip_filter],
        validators=[
            InputRequired(_l("Write a few words about what you need.")),
            Length(max=HELP_TEXT_MAX, message=_l("Write at most %(max)d characters.")),
        ],
    )
