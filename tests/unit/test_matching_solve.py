import datetime as dt

import pytest

from matching import (
    Match,
    MatchConfig,
    Need,
    Volunteer,
    Weekly,
    explain_infeasible,
    haversine_km,
    solve,
)

LAT, LON = 55.77, 9.85
THU = 3


def t(h: int, m: int = 0) -> dt.time:
    return dt.time(h, m)


def vol(id_="v", lat=LAT, lon=LON, max_km=10.0, windows=((THU, 17, 20),), **kw) -> Volunteer:
    avail = tuple(Weekly(d, t(a), t(b)) for d, a, b in windows)
    return Volunteer(id_, lat, lon, max_km, avail, **kw)


def need(id_="n", lat=LAT + 0.01, lon=LON, day=THU, start=18, end=19, **kw) -> Need:
    return Need(id_, lat, lon, Weekly(day, t(start), t(end)), **kw)


def pairs(result) -> set[tuple[str, str]]:
    return {(m.volunteer_id, m.need_id) for m in result.matches}


def test_no_volunteers():
    r = solve([], [need(slots=2)])
    assert r.matches == ()
    assert dict(r.unfilled) == {"n": 2}
    assert r.status == "optimal" and r.gap == 0.0


def test_no_needs():
    r = solve([vol()], [])
    assert r.matches == () and dict(r.unfilled) == {} and r.status == "optimal"


def test_zero_candidates_leaves_everything_unfilled():
    far = need(lat=LAT + 1.0)  # ~111 km away
    wrong_day = need("n2", day=0)
    r = solve([vol()], [far, wrong_day])
    assert r.matches == ()
    assert dict(r.unfilled) == {"n": 1, "n2": 1}
    assert r.stats["candidates"] == 0


def test_volunteer_exactly_at_max_km_is_feasible():
    n = need(lat=LAT + 0.0731, lon=LON + 0.0417)
    km = haversine_km(LAT, LON, n.lat, n.lon)
    exact = vol(max_km=km)
    assert explain_infeasible(exact, n) == ()
    assert pairs(solve([exact], [n])) == {("v", "n")}
    short = vol(max_km=km - 1e-6)
    assert explain_infeasible(short, n) == ("too_far",)
    assert solve([short], [n]).matches == ()


def test_window_touching_both_edges_of_the_need_is_feasible():
    v = vol(windows=((THU, 18, 19),))
    assert pairs(solve([v], [need(start=18, end=19)])) == {("v", "n")}


def test_touching_windows_are_merged():
    v = vol(windows=((THU, 16, 18), (THU, 18, 20)))
    r = solve([v], [need(start=17, end=19)])
    assert pairs(r) == {("v", "n")}
    assert ("free", {"weekday": THU, "start": "16:00", "end": "20:00"}) in r.matches[0].reason_codes


def test_need_sticking_out_of_window_is_not_free():
    v = vol(windows=((THU, 17, 20),))
    n = need(start=19, end=21)
    assert explain_infeasible(v, n) == ("not_free",)
    assert solve([v], [n]).matches == ()


def test_capacity_zero_and_slots_zero_match_nothing():
    r = solve([vol(capacity=0)], [need()])
    assert r.matches == () and dict(r.unfilled) == {"n": 1}
    r = solve([vol()], [need(slots=0)])
    assert r.matches == () and dict(r.unfilled) == {}


@pytest.mark.parametrize(
    "make",
    [
        lambda: solve([vol("a"), vol("a")], [need()]),
        lambda: solve([vol()], [need("x"), need("x")]),
        lambda: Weekly(THU, t(18), t(18)),
        lambda: Weekly(THU, t(19), t(18)),
        lambda: Weekly(7, t(17), t(18)),
        lambda: Weekly(-1, t(17), t(18)),
        lambda: vol(capacity=-1),
        lambda: need(slots=-1),
        lambda: vol(max_km=-1.0),
    ],
)
def test_invalid_input_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_overlapping_needs_are_not_both_given_to_one_volunteer(feasible):
    v = vol(capacity=2, windows=((THU, 16, 21),))
    a = need("a", start=17, end=19)
    b = need("b", start=18, end=20)
    r = solve([v], [a, b])
    assert len(r.matches) == 1
    feasible(r, [v], [a, b])


def test_touching_needs_can_both_go_to_one_volunteer():
    v = vol(capacity=2, windows=((THU, 16, 21),))
    r = solve([v], [need("a", start=17, end=18), need("b", start=18, end=20)])
    assert pairs(r) == {("v", "a"), ("v", "b")}


def test_more_pairs_beat_shorter_distance():
    # Greedy would give the near volunteer "a" the shared need and leave need "y" empty.
    shared = need("x", lat=LAT)
    only_a = need("y", lat=LAT + 0.05)
    a = vol("a", lat=LAT, max_km=8)
    b = vol("b", lat=LAT + 0.02, max_km=3)
    r = solve([a, b], [shared, only_a])
    assert pairs(r) == {("a", "y"), ("b", "x")}
    assert r.status == "optimal"


def test_certificate_and_language_requirements():
    n = need(requires=frozenset({"child"}), languages=frozenset({"en", "uk"}))
    plain = vol("a")
    qualified = vol("b", certificates=frozenset({"child"}), languages=frozenset({"da", "uk"}))
    assert explain_infeasible(plain, n) == ("certificate_missing", "language")
    r = solve([plain, qualified], [n])
    assert pairs(r) == {("b", "n")}
    assert "speaks uk" in r.matches[0].reasons
    assert ("certificate", {"certificates": ["child"]}) in r.matches[0].reason_codes


def test_explain_infeasible_lists_every_reason():
    n = need(lat=LAT + 1, day=0, requires=frozenset({"child"}), languages=frozenset({"en"}))
    assert explain_infeasible(vol(), n) == (
        "too_far",
        "not_free",
        "certificate_missing",
        "language",
    )


def test_interest_bonus_breaks_near_ties():
    n = need(activity="spisevenner")
    near = vol("near", lat=LAT + 0.005)  # ~0.6 km from the need
    keen = vol("keen", lat=LAT + 0.03, interests=frozenset({"spisevenner"}))  # ~2.2 km
    assert pairs(solve([near, keen], [n])) == {("keen", "n")}
    no_bonus = MatchConfig(interest_bonus_km=0.0)
    assert pairs(solve([near, keen], [n], config=no_bonus)) == {("near", "n")}


def test_reasons_content():
    v = vol(interests=frozenset({"spisevenner"}))
    n = need(activity="spisevenner")
    m = solve([v], [n], existing=[("v", "n")]).matches[0]
    assert isinstance(m, Match)
    km = haversine_km(v.lat, v.lon, n.lat, n.lon)
    assert m.km == pytest.approx(km)
    assert m.reasons == (
        f"{km:.1f} km away",
        "free Thursday 17:00\u201320:00",
        "likes spisevenner",
        "already matched",
    )
    assert m.reason_codes == (
        ("distance", {"km": round(km, 1)}),
        ("free", {"weekday": THU, "start": "17:00", "end": "20:00"}),
        ("interest", {"activity": "spisevenner"}),
        ("continuity", {}),
    )
    hash(m)  # matches stay usable in sets despite the dicts in reason_codes


def test_existing_pair_is_kept_over_a_closer_newcomer():
    n = need()
    old = vol("old", lat=LAT + 0.05)
    new = vol("new", lat=LAT + 0.01)
    assert pairs(solve([old, new], [n])) == {("new", "n")}
    r = solve([old, new], [n], existing=[("old", "n"), ("gone", "n")])
    assert pairs(r) == {("old", "n")}
    assert r.stats["kept_existing"] == 1


def test_result_does_not_depend_on_input_order(feasible):
    vs = [vol(f"v{i}", lat=LAT + 0.003 * i, capacity=1 + i % 2) for i in range(6)]
    ns = [
        need(f"n{i}", lon=LON + 0.004 * i, start=17 + i % 2, end=19, slots=1 + i % 2)
        for i in range(5)
    ]
    a = solve(vs, ns)
    b = solve(list(reversed(vs)), list(reversed(ns)))
    assert a.matches == b.matches
    feasible(a, vs, ns)


def test_matches_sorted_and_unfilled_counts(feasible):
    vs = [vol("a"), vol("b")]
    ns = [need("n1", slots=3), need("n2", start=17, end=18)]
    r = solve(vs, ns)
    feasible(r, vs, ns)
    assert [(m.need_id, m.volunteer_id) for m in r.matches] == sorted(
        (m.need_id, m.volunteer_id) for m in r.matches
    )
    assert sum(r.unfilled.values()) == 4 - len(r.matches)
