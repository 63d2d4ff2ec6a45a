"""The base form every feature's form derives from, and the validators they share, with their
messages in Danish (via gettext).

WTForms' own messages ("Not a valid choice.", "This field is required.") come from WTForms'
catalogues, which Flask-WTF loads for the request's locale (``WTF_I18N_ENABLED``, on by default).
WTForms ships no Danish catalogue, so on a Danish page they stayed English. ``SamskabForm`` and
``SamskabGetForm`` look those msgids up in our own catalogue instead (``WTFORMS_MESSAGES`` below
keeps them there for ``make messages``): derive every form from one of them, never from
``FlaskForm`` or ``wtforms.Form`` directly (tests/unit/test_form_translations.py checks).
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, Field, Form, SelectMultipleField, StringField, ValidationError
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


class _CatalogueTranslations:
    """WTForms' translations interface over the request's Babel catalogue (ours)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_TRANSLATIONS = _CatalogueTranslations()


def _one_message_per_unreadable_value(form: Form) -> None:
    """A value that is not a number (or date, or time) gets that one message: not also "write a
    number from 1 to 20" from the validators, which ran on nothing."""
    for field in form:
        if field.process_errors and len(field.errors) > len(field.process_errors):
            field.errors = list(field.process_errors)


class SamskabForm(FlaskForm):
    """A POST form (CSRF from Flask-WTF) whose built-in messages are in the page's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> _CatalogueTranslations:
            return _TRANSLATIONS

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        _one_message_per_unreadable_value(self)
        return valid


class SamskabGetForm(Form):
    """A form read from the query string (no CSRF), with the same translated messages."""

    class Meta:
        def get_translations(self, form: Any) -> _CatalogueTranslations:
            return _TRANSLATIONS

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        _one_message_per_unreadable_value(self)
        return valid


def N_(msgid: str) -> str:  # noqa: N802 - the gettext marker's conventional name
    """Marks a msgid for extraction without translating it (WTForms translates at use)."""
    return msgid


def ungettext(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for extraction (babel's default `ungettext` keyword)."""
    return singular, plural


# WTForms' built-in messages (wtforms/locale/wtforms.pot, WTForms 3.x), kept in our catalogue.
WTFORMS_MESSAGES = (
    N_("Invalid field name '%s'."),
    N_("Field must be equal to %(other_name)s."),
    ungettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
    ),
    ungettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
    ),
    ungettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
    ),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Date must be at least %(min)s."),
    N_("Date must be at most %(max)s."),
    N_("Date must be between %(min)s and %(max)s."),
    N_("This field is required."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Invalid IP address."),
    N_("Invalid Mac address."),
    N_("Invalid URL."),
    N_("Invalid UUID."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid value, can't be any of: %(values)s."),
    N_("This field cannot be edited."),
    N_("This field is disabled and cannot have a value."),
    N_("Invalid CSRF Token."),
    N_("CSRF token missing."),
    N_("CSRF failed."),
    N_("CSRF token expired."),
    N_("Invalid Choice: could not coerce."),
    N_("Choices cannot be None."),
    N_("Not a valid choice."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    ungettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
    ),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Not a valid time value."),
    N_("Not a valid week value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
)


class DanishPostcode:
    """A four-digit Danish postcode that exists; stores the normalised code back in the field."""

    def __call__(self, form: Form, field: Field) -> None:
        code = geo.normalise_postcode(field.data or "")
        if not (len(code) == 4 and code.isdecimal()):
            raise ValidationError(_l("Write a Danish postcode of four digits, e.g. 7130."))
        if geo.lookup(code) is None:
            raise ValidationError(_l("We do not know the postcode %(code)s.", code=code))
        field.data = code


class DanishDecimalField(DecimalField):
    """A decimal number written the Danish way ("2,5") or with a point ("2.5", as a browser's
    number input sends it)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].strip().replace(",", "."), *valuelist[1:]]
        super().process_formdata(valuelist)


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


def postcode_field(description: Any = None) -> StringField:
    """The volunteer's home postcode, as asked at sign-up and on the profile (``description``:
    another hint, e.g. for a coordinator filling it in for someone)."""
    return StringField(
        _l("Postcode"),
        description=description or _l("Where you live. We use it to find activities near you."),
        filters=[strip_filter],
        validators=[DataRequired(_l("Write your postcode.")), DanishPostcode()],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 8},
    )


def strip_filter(value: Any) -> Any:
    # NUL characters go too: no one types them, and PostgreSQL refuses them in text (a 500).
    return value.replace("\x00", "").strip() if isinstance(value, str) else value
