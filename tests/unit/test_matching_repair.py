import datetime as dt

import pytest

from matching import Need, Volunteer, Weekly, fill_vacancy, haversine_km

LAT, LON = 55.77, 9.85


def vol(id_, dlat, capacity=1, **kw):
    window = (Weekly(3, dt.time(16), dt.time(21)),)
    return Volunteer(id_, LAT + dlat, LON, 10.0, window, capacity=capacity, **kw)


def need(id_, start=18, end=19, slots=1, **kw):
    return Need(id_, LAT, LON, Weekly(3, dt.time(start), dt.time(end)), slots=slots, **kw)


def test_haversine_known_distance():
    # One degree of latitude on the mean sphere.
    assert haversine_km(55.0, 9.0, 56.0, 9.0) == pytest.approx(111.195, abs=1e-3)
    assert haversine_km(55.77, 9.85, 55.77, 9.85) == 0.0


def test_fill_vacancy_picks_nearest_free_volunteer():
    vs = [vol("busy", 0.001), vol("near", 0.01), vol("far", 0.05)]
    ns = [need("n"), need("other", start=17, end=19)]
    m = fill_vacancy(vs, ns, [("busy", "other")], "n")
    assert m is not None and m.volunteer_id == "near" and m.need_id == "n"
    assert m.reasons[0] == f"{m.km:.1f} km away"


def test_fill_vacancy_respects_conflicts_capacity_and_existing_assignment():
    vs = [vol("twice", 0.001, capacity=2), vol("far", 0.05)]
    ns = [need("n", slots=2), need("clash", start=18, end=20), need("later", start=20, end=21)]
    # "twice" is on a clashing need: not eligible.
    assert fill_vacancy(vs, ns, [("twice", "clash")], "n").volunteer_id == "far"
    # A touching need does not clash, and capacity 2 leaves room.
    assert fill_vacancy(vs, ns, [("twice", "later")], "n").volunteer_id == "twice"
    # Already on this need: the other slot goes to someone else.
    assert fill_vacancy(vs, ns, [("twice", "n")], "n").volunteer_id == "far"


def test_fill_vacancy_interest_and_requirements():
    vs = [vol("near", 0.005), vol("keen", 0.02, interests=frozenset({"gåtur"}))]
    assert fill_vacancy(vs, [need("n", activity="gåtur")], [], "n").volunteer_id == "keen"
    certified = [vol("near", 0.005), vol("ok", 0.03, certificates=frozenset({"child"}))]
    n = need("n", requires=frozenset({"child"}))
    assert fill_vacancy(certified, [n], [], "n").volunteer_id == "ok"


def test_fill_vacancy_none_when_full_or_nobody_fits():
    vs = [vol("a", 0.001), vol("b", 0.002)]
    assert fill_vacancy(vs, [need("n")], [("a", "n")], "n") is None
    assert fill_vacancy(vs, [need("n", start=21, end=22)], [], "n") is None
    with pytest.raises(ValueError):
        fill_vacancy(vs, [need("n")], [], "missing")
