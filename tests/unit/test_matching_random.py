"""Seeded random instances, larger than the exhaustive-search ones, against a plain MILP."""

import datetime as dt

import numpy as np
import pytest

import matching.solver as solver_module
from matching import MatchConfig, Need, Volunteer, Weekly, solve

LAT, LON = 55.77, 9.85


def window(rng, start_lo, start_hi, length_lo, length_hi) -> Weekly:
    start = int(rng.integers(start_lo, start_hi + 1))
    end = min(start + int(rng.integers(length_lo, length_hi + 1)), 47)
    return Weekly(
        int(rng.integers(0, 2)),
        dt.time(start // 2, 30 * (start % 2)),
        dt.time(end // 2, 30 * (end % 2)),
    )


def instance(seed: int, nv: int = 12, nn: int = 10):
    rng = np.random.default_rng(seed)
    vs = [
        Volunteer(
            f"v{i}",
            LAT + rng.uniform(-0.03, 0.03),
            LON + rng.uniform(-0.05, 0.05),
            float(rng.uniform(1.5, 6)),
            tuple(window(rng, 28, 36, 6, 12) for _ in range(int(rng.integers(1, 4)))),
            capacity=int(rng.choice([1, 1, 2, 3])),
            interests=frozenset(rng.choice(["a", "b"], int(rng.integers(0, 3)), False)),
            certificates=frozenset({"child"}) if rng.random() < 0.5 else frozenset(),
        )
        for i in range(nv)
    ]
    ns = [
        Need(
            f"n{j}",
            LAT + rng.uniform(-0.03, 0.03),
            LON + rng.uniform(-0.05, 0.05),
            window(rng, 32, 38, 2, 4),
            slots=int(rng.choice([1, 1, 2, 3])),
            activity=str(rng.choice(["a", "b", ""])),
            requires=frozenset({"child"}) if rng.random() < 0.2 else frozenset(),
        )
        for j in range(nn)
    ]
    existing = [(f"v{rng.integers(nv)}", f"n{rng.integers(nn)}") for _ in range(4)]
    return vs, ns, existing


def cost(cost_of, result, vs, ns, existing, config):
    vmap, nmap = {v.id: v for v in vs}, {n.id: n for n in ns}
    return sum(
        cost_of(vmap[m.volunteer_id], nmap[m.need_id], set(existing), config)
        for m in result.matches
    )


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("mode", ["full", "priced", "small_m"])
def test_random_instances_match_plain_milp(seed, mode, monkeypatch, feasible, milp_ref, cost_of):
    if mode != "full":
        # Price a nearly empty master, so that pricing has to find almost every pair.
        monkeypatch.setattr(solver_module, "_FULL_MODEL_PAIRS", 0)
        monkeypatch.setattr(solver_module, "_PER_NEED", 1)
    if mode == "small_m":
        # M = 1 lets the weighted pass trade pairs for cost, so the exact cardinality and
        # cost phases have to repair it.
        monkeypatch.setattr(solver_module, "_M_SPREAD_FACTOR", 0.0)
    vs, ns, existing = instance(seed)
    config = MatchConfig(continuity_bonus_km=float(seed % 5) * 10)
    r = solve(vs, ns, existing=existing, config=config)
    feasible(r, vs, ns)
    k, ref_cost = milp_ref(vs, ns, existing, config)
    assert r.status == "optimal" and r.gap == 0.0
    assert len(r.matches) == k
    assert cost(cost_of, r, vs, ns, existing, config) == pytest.approx(ref_cost, abs=1e-5)
    assert r.stats["total_cost"] == pytest.approx(ref_cost, abs=1e-5)
    assert r.stats["cost_bound"] <= r.stats["total_cost"] + 1e-6


def test_random_instances_are_not_trivial(milp_ref):
    # Guards the generator above: the comparison is only meaningful if pairs are plentiful.
    sizes = [milp_ref(*instance(seed)[:2])[0] for seed in range(5)]
    assert min(sizes) >= 5


def test_time_limit_returns_a_feasible_matching_with_a_certified_gap(monkeypatch, feasible):
    # Simulate a MILP that hits the time limit before finding anything: the greedy fallback is
    # returned and only the LP and flow bounds certify it.
    class Nothing:
        x = None
        status = 1
        mip_dual_bound = float("nan")

    monkeypatch.setattr(solver_module, "milp", lambda *a, **k: Nothing())
    monkeypatch.setattr(solver_module, "_FULL_MODEL_PAIRS", 0)
    vs, ns, _ = instance(3, nv=20, nn=15)
    r = solve(vs, ns)
    feasible(r, vs, ns)
    assert r.matches
    if r.status == "optimal":
        assert r.gap == 0.0
    else:
        assert r.status == "feasible" and r.gap > 0
        assert r.stats["cost_bound"] <= r.stats["total_cost"]
        assert r.stats["pairs_bound"] >= r.stats["filled"]
