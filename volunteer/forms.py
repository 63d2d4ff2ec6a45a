"""Validators shared by every feature's forms, with their messages in Danish (via gettext)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, SelectMultipleField, StringField, ValidationError
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from volunteer import geo

# Languages a volunteer can list and a need can ask for (ISO 639-1 codes).
LANGUAGES = {
    "da": _l("Danish"),
    "en": _l("English"),
    "de": _l("German"),
    "ar": _l("Arabic"),
    "uk": _l("Ukrainian"),
    "pl": _l("Polish"),
    "tr": _l("Turkish"),
    "so": _l("Somali"),
    "fa": _l("Persian"),
    "ro": _l("Romanian"),
    "sv": _l("Swedish"),
    "no": _l("Norwegian"),
}


class DanishPostcode:
    """A four-digit Danish postcode that exists; stores the normalised code back in the field."""

    def __call__(self, form: Form, field: Field) -> None:
        code = geo.normalise_postcode(field.data or "")
        if not (len(code) == 4 and code.isdecimal()):
            raise ValidationError(_l("Write a Danish postcode of four digits, e.g. 7130."))
        if geo.lookup(code) is None:
            raise ValidationError(_l("We do not know the postcode %(code)s.", code=code))
        field.data = code


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes: easier to use than a multi-select on a phone and by keyboard."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        # A crafted value outside the choices is an error, not a silent drop.
        values = {str(value) for value, *_ in self.iter_choices()}
        for item in self.data or []:
            if str(item) not in values:
                raise ValidationError(_l("Choose from the list."))


def postcode_field() -> StringField:
    """The volunteer's home postcode, as asked at sign-up and on the profile."""
    return StringField(
        _l("Postcode"),
        description=_l("Where you live. We use it to find activities near you."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write your postcode.")), DanishPostcode()],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 8},
    )


def strip_filter(value: Any) -> Any:
    # NUL characters go too: no one types them, and PostgreSQL refuses them in text (a 500).
    return value.replace("\x00", "").strip() if isinstance(value, str) else value
