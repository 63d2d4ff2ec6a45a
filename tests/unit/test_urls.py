"""Record ids from form data: only whole numbers a database id can hold; anything else is None
(never an exception, which would be a 500)."""

from __future__ import annotations

import pytest

from volunteer.urls import MAX_ID, form_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("-3", None),
        ("", None),
        (None, None),
        (" 7", None),
        ("7.0", None),
        ("²", None),  # a digit to str.isdigit, but int() refuses it (found by the fuzz tests)
        ("¹²", None),
        ("٣", 3),  # Arabic-Indic three: a decimal digit, and int() reads it
    ],
)
def test_form_id(value, expected):
    assert form_id(value) == expected
