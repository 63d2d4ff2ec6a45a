import math

import pytest

from volunteer import geo


def test_hedensted_postcodes_resolve_to_their_towns_and_kommune():
    juelsminde = geo.lookup("7130")
    assert juelsminde is not None
    assert (juelsminde.town, juelsminde.kommune, juelsminde.kommune_code) == (
        "Juelsminde",
        "Hedensted Kommune",
        "766",
    )
    assert 55.7 < juelsminde.lat < 55.8 and 9.9 < juelsminde.lon < 10.1


@pytest.mark.parametrize("text", ["7130", " 7130 ", "DK-7130", "dk7130"])
def test_postcode_spellings_are_normalised(text):
    place = geo.lookup(text)
    assert place is not None and place.code == "7130"


@pytest.mark.parametrize("text", ["0000", "9999", "713", "abcd", ""])
def test_unknown_postcodes_give_none(text):
    assert geo.lookup(text) is None


def test_the_table_covers_every_danish_postcode():
    assert len(geo.postcodes()) == 1159


def test_one_degree_of_latitude_is_the_mean_earth_radius_times_pi_over_180():
    assert geo.distance_km(55.0, 10.0, 56.0, 10.0) == pytest.approx(
        6371.0088 * math.pi / 180, rel=1e-12
    )


def test_distance_is_symmetric_and_zero_for_the_same_point():
    a, b = geo.lookup("7130"), geo.lookup("8722")
    assert geo.distance_km(a.lat, a.lon, a.lat, a.lon) == 0
    d = geo.distance_km(a.lat, a.lon, b.lat, b.lon)
    assert d == geo.distance_km(b.lat, b.lon, a.lat, a.lon)
    # Juelsminde–Hedensted is about 19 km as the crow flies.
    assert 18 < d < 21
