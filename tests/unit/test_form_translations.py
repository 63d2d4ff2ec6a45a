"""WTForms' own messages follow the page's language: every form derives from the base forms in
volunteer/forms.py, which look them up in our catalogue (WTForms ships no Danish)."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange

import volunteer
from volunteer import create_app
from volunteer.forms import DanishDecimalField, SamskabForm, SamskabGetForm


@pytest.fixture
def ctx():
    app = create_app(
        {"SAMSKAB_ENV": "testing", "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    with app.test_request_context():
        yield


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_form_of_the_app_derives_from_a_translated_base():
    for module in pkgutil.walk_packages(volunteer.__path__, "volunteer."):
        importlib.import_module(module.name)
    ours = {
        cls
        for cls in _subclasses(Form)
        if cls.__module__.startswith("volunteer.") and cls not in (SamskabForm, SamskabGetForm)
    }
    assert len(ours) > 10
    untranslated = sorted(
        f"{c.__module__}.{c.__name__}"
        for c in ours
        if not issubclass(c, SamskabForm | SamskabGetForm)
    )
    assert not untranslated, f"derive these from SamskabForm/SamskabGetForm: {untranslated}"


class _Sample(SamskabForm):
    number = IntegerField()
    hours = DanishDecimalField()
    choice = SelectField(choices=[SelectChoice("a", "A")])
    count = IntegerField(validators=[DataRequired()])


class _Named(SamskabGetForm):
    name = StringField(validators=[Length(min=3)])


def _errors(form_class: type, data: dict) -> dict:
    kwargs = {"meta": {"csrf": False}} if issubclass(form_class, FlaskForm) else {}
    form = form_class(MultiDict(data), **kwargs)
    form.validate()
    return form.errors


def test_wtforms_messages_are_danish_on_a_danish_page(ctx):
    with force_locale("da"):
        errors = _errors(_Sample, {"number": "abc", "hours": "x", "choice": "z", "count": ""})
        assert errors["number"] == ["Skriv et helt tal, fx 3."]
        assert errors["hours"] == ["Skriv et tal, fx 2,5."]
        assert errors["choice"] == ["Vælg fra listen."]
        assert errors["count"] == ["Udfyld feltet."]
        assert _errors(_Named, {"name": "12"})["name"] == ["Skriv mindst 3 tegn."]


def test_and_english_on_an_english_page(ctx):
    with force_locale("en"):
        errors = _errors(_Sample, {"number": "abc", "hours": "x", "choice": "z"})
        assert errors["number"] == ["Not a valid integer value."]
        assert errors["choice"] == ["Not a valid choice."]
        assert _errors(_Named, {"name": "12"})["name"] == [
            "Field must be at least 3 characters long."
        ]


def test_hours_may_be_written_with_a_decimal_comma(ctx):
    form = _Sample(MultiDict({"hours": " 2,5 "}), meta={"csrf": False})
    assert form.hours.data == Decimal("2.5")
    assert _Sample(MultiDict({"hours": "2.25"}), meta={"csrf": False}).hours.data == Decimal("2.25")


class _Slots(SamskabForm):
    slots = IntegerField(validators=[NumberRange(1, 20, message="Skriv et tal fra 1 til 20.")])


def test_a_value_that_is_not_a_number_gets_one_message(ctx):
    with force_locale("da"):
        assert _errors(_Slots, {"slots": "to"})["slots"] == ["Skriv et helt tal, fx 3."]
        assert _errors(_Slots, {"slots": "21"})["slots"] == ["Skriv et tal fra 1 til 20."]
