"""Validators shared by every feature's forms, with their messages in Danish (via gettext)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, ValidationError

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
        if not (len(code) == 4 and code.isdigit()):
            raise ValidationError(_l("Write a Danish postcode of four digits, e.g. 7130."))
        if geo.lookup(code) is None:
            raise ValidationError(_l("We do not know the postcode %(code)s.", code=code))
        field.data = code


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value
