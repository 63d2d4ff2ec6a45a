import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching.solver as solver_module
from matching import MatchConfig, Need, Volunteer, Weekly, solve

LAT, LON = 55.77, 9.85
DEFAULT = MatchConfig()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def windows(draw, earliest: int, latest: int, min_hours: int, max_hours: int):
    day = draw(st.integers(0, 1))  # two weekdays keep clashes and merges frequent
    start = draw(st.integers(earliest * 2, latest * 2))  # in half hours
    end = min(start + draw(st.integers(min_hours * 2, max_hours * 2)), 47)
    return Weekly(day, dt.time(start // 2, 30 * (start % 2)), dt.time(end // 2, 30 * (end % 2)))


def positions():
    # About 4 x 4 km, so most pairs are within reach of each other.
    return st.tuples(st.floats(-0.018, 0.018), st.floats(-0.03, 0.03))


@st.composite
def volunteers(draw, i: int):
    dlat, dlon = draw(positions())
    return Volunteer(
        id=f"v{i}",
        lat=LAT + dlat,
        lon=LON + dlon,
        max_km=draw(st.floats(1.0, 6.0)),
        availability=tuple(draw(st.lists(windows(14, 17, 3, 7), min_size=1, max_size=3))),
        capacity=draw(st.sampled_from([0, 1, 1, 2, 2, 3])),
        interests=frozenset(draw(st.sets(st.sampled_from("ab")))),
        languages=frozenset(draw(st.sets(st.sampled_from(["da", "en"]), min_size=1))),
        certificates=draw(st.sampled_from([frozenset(), frozenset({"child"})] * 2)),
    )


@st.composite
def needs(draw, i: int):
    dlat, dlon = draw(positions())
    return Need(
        id=f"n{i}",
        lat=LAT + dlat,
        lon=LON + dlon,
        when=draw(windows(16, 19, 1, 2)),
        slots=draw(st.sampled_from([0, 1, 1, 2])),
        activity=draw(st.sampled_from(["", "a", "b"])),
        requires=draw(st.sampled_from([frozenset()] * 3 + [frozenset({"child"})])),
        languages=draw(
            st.sampled_from([frozenset()] * 3 + [frozenset({"en"}), frozenset({"da", "en"})])
        ),
    )


@st.composite
def instances(draw, max_v: int = 4, max_n: int = 4):
    vs = [draw(volunteers(i)) for i in range(draw(st.integers(1, max_v)))]
    ns = [draw(needs(i)) for i in range(draw(st.integers(1, max_n)))]
    existing = draw(
        st.lists(
            st.tuples(
                st.sampled_from([v.id for v in vs] or ["x"]),
                st.sampled_from([n.id for n in ns] or ["y"]),
            ),
            max_size=3,
        )
    )
    return vs, ns, existing


def total_cost(pair_cost, result, vs, ns, existing, config=DEFAULT):
    vmap, nmap = {v.id: v for v in vs}, {n.id: n for n in ns}
    return sum(
        pair_cost(vmap[m.volunteer_id], nmap[m.need_id], set(existing), config)
        for m in result.matches
    )


@SETTINGS
@given(inst=instances(max_v=6, max_n=6))
def test_every_matching_is_feasible(feasible, inst):
    vs, ns, existing = inst
    r = solve(vs, ns, existing=existing)
    feasible(r, vs, ns)
    assert r.status == "optimal" and r.gap == 0.0


@SETTINGS
@given(inst=instances())
def test_optimum_equals_brute_force(reference, cost_of, inst):
    vs, ns, existing = inst
    r = solve(vs, ns, existing=existing)
    k, cost = reference(vs, ns, existing)
    assert r.status == "optimal"
    assert len(r.matches) == k
    assert total_cost(cost_of, r, vs, ns, existing) == pytest.approx(cost, rel=1e-6, abs=1e-6)


@SETTINGS
@given(inst=instances(), continuity=st.floats(0.0, 60.0), interest=st.floats(0.0, 5.0))
def test_optimum_equals_brute_force_for_any_bonuses(reference, cost_of, inst, continuity, interest):
    # Large continuity bonuses make the weighted first pass trade pairs for cost, which must be
    # caught and corrected by the exact cardinality and cost phases.
    vs, ns, existing = inst
    config = MatchConfig(interest_bonus_km=interest, continuity_bonus_km=continuity)
    r = solve(vs, ns, existing=existing, config=config)
    k, cost = reference(vs, ns, existing, config)
    assert r.status == "optimal"
    assert len(r.matches) == k
    assert total_cost(cost_of, r, vs, ns, existing, config) == pytest.approx(
        cost, rel=1e-6, abs=1e-6
    )


@pytest.fixture
def tiny_master(monkeypatch):
    """Force the priced restricted master even on tiny components."""
    monkeypatch.setattr(solver_module, "_FULL_MODEL_PAIRS", 0)
    monkeypatch.setattr(solver_module, "_PER_NEED", 1)


@settings(SETTINGS, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=instances(max_v=5, max_n=4))
def test_priced_master_reaches_the_brute_force_optimum(
    tiny_master, feasible, reference, cost_of, inst
):
    vs, ns, existing = inst
    r = solve(vs, ns, existing=existing)
    feasible(r, vs, ns)
    k, cost = reference(vs, ns, existing)
    assert r.status == "optimal"
    assert len(r.matches) == k
    assert total_cost(cost_of, r, vs, ns, existing) == pytest.approx(cost, rel=1e-6, abs=1e-6)


@SETTINGS
@given(instances(max_v=6, max_n=6))
def test_deterministic(inst):
    vs, ns, existing = inst
    a = solve(vs, ns, existing=existing)
    b = solve(list(reversed(vs)), list(reversed(ns)), existing=list(reversed(existing)))
    assert a.matches == b.matches
    assert a.unfilled == b.unfilled
    assert a.status == b.status


@SETTINGS
@given(instances(max_v=6, max_n=6))
def test_previous_optimum_is_kept_as_existing(inst):
    vs, ns, _ = inst
    first = solve(vs, ns)
    previous = [(m.volunteer_id, m.need_id) for m in first.matches]
    again = solve(vs, ns, existing=previous)
    assert {(m.volunteer_id, m.need_id) for m in again.matches} == set(previous)
    assert again.stats["kept_existing"] == len(previous)
