"""The one place formatter: exact vs approximate, a centre vs a plain address, missing parts."""

from __future__ import annotations

import pytest

from volunteer.models import Centre, Need
from volunteer.needs.place import (
    PlaceParts,
    approximate_line,
    centre_line,
    place_line,
    place_parts,
)


def _centre(address: str = "Bakkevej 12") -> Centre:
    return Centre(
        name="Plejecenter Bakkegården", address=address, postcode="7130", town="Juelsminde"
    )


def _need(centre: Centre | None = None, address: str | None = None) -> Need:
    # The need keeps its own postcode and town (for search and distance); here on purpose not
    # the centre's, to show which one the line uses.
    return Need(centre=centre, address=address, postcode="8722", town="Hedensted")


@pytest.mark.parametrize(
    ("need", "exact", "approximate"),
    [
        # A centre: the centre's street when the need has none of its own.
        (
            _need(_centre()),
            "Plejecenter Bakkegården, Bakkevej 12, 7130 Juelsminde",
            "Plejecenter Bakkegården, 7130 Juelsminde",
        ),
        # A centre and a more precise address on the need (a flat, a room): the need's.
        (
            _need(_centre(), "Rosenvej 7, lejl. 3"),
            "Plejecenter Bakkegården, Rosenvej 7, lejl. 3, 7130 Juelsminde",
            "Plejecenter Bakkegården, 7130 Juelsminde",
        ),
        # A centre with no street on file.
        (
            _need(_centre(address="")),
            "Plejecenter Bakkegården, 7130 Juelsminde",
            "Plejecenter Bakkegården, 7130 Juelsminde",
        ),
        # A plain address (a senior's home).
        (_need(address="Skolevej 3"), "Skolevej 3, 8722 Hedensted", "8722 Hedensted"),
        # No address at all: exact is the postcode and town.
        (_need(), "8722 Hedensted", "8722 Hedensted"),
        # Blank and stray white space count as missing.
        (_need(address="   "), "8722 Hedensted", "8722 Hedensted"),
        (_need(address=" Skolevej  3 \n"), "Skolevej 3, 8722 Hedensted", "8722 Hedensted"),
    ],
)
def test_exact_and_approximate_lines(need, exact, approximate):
    assert place_line(need, exact=True) == exact
    assert place_line(need, exact=False) == approximate
    # The lists read plain columns (no ORM objects) and must say the same.
    c = need.centre
    centre = (c.name, c.postcode, c.town) if c is not None else None
    assert approximate_line(need.postcode, need.town, centre) == approximate


def test_the_approximate_line_never_holds_a_street():
    need = _need(_centre(), "Rosenvej 7, lejl. 3")
    assert place_parts(need, exact=False).street == ""
    assert "vej" not in place_line(need, exact=False)


def test_parts_join_without_empty_pieces():
    assert PlaceParts("", "", "", "").line() == ""
    assert PlaceParts("", "", "", "Hedensted").line() == "Hedensted"
    assert PlaceParts("Hallen", "", "8722", "").line() == "Hallen, 8722"
    assert place_parts(_need(_centre()), exact=True) == PlaceParts(
        "Plejecenter Bakkegården", "Bakkevej 12", "7130", "Juelsminde"
    )


def test_a_centres_own_line():
    assert centre_line(_centre()) == "Plejecenter Bakkegården, Bakkevej 12, 7130 Juelsminde"
    assert centre_line(_centre(address="")) == "Plejecenter Bakkegården, 7130 Juelsminde"
