"""Shared, solver-independent checks for the matching tests."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from matching import MatchConfig, MatchResult, Need, Volunteer, explain_infeasible

R_KM = 6371.0088
DEFAULT = MatchConfig()


def plain_km(v: Volunteer, n: Need) -> float:
    """Haversine written out with the math module, independent of matching.geo."""
    p1, p2 = math.radians(v.lat), math.radians(n.lat)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(n.lon - v.lon) / 2) ** 2
    )
    return 2 * R_KM * math.asin(math.sqrt(a))


def overlaps(a: Need, b: Need) -> bool:
    return (
        a.when.weekday == b.when.weekday and a.when.start < b.when.end and b.when.start < a.when.end
    )


def pair_cost(v, n, existing, config=DEFAULT) -> float:
    return (
        plain_km(v, n)
        - config.interest_bonus_km * (n.activity in v.interests)
        - config.continuity_bonus_km * ((v.id, n.id) in existing)
    )


def check_feasible(result: MatchResult, volunteers, needs) -> None:
    vols = {v.id: v for v in volunteers}
    nds = {n.id: n for n in needs}
    pairs = [(m.volunteer_id, m.need_id) for m in result.matches]
    assert len(pairs) == len(set(pairs)), "a pair is used twice"
    for m in result.matches:
        v, n = vols[m.volunteer_id], nds[m.need_id]
        assert explain_infeasible(v, n) == ()
        assert plain_km(v, n) <= v.max_km + 1e-6
        assert m.km == pytest.approx(plain_km(v, n), abs=1e-9)
        assert n.requires <= v.certificates
        assert not n.languages or n.languages & v.languages
    per_need = Counter(nid for _, nid in pairs)
    per_vol = Counter(vid for vid, _ in pairs)
    for nid, k in per_need.items():
        assert k <= nds[nid].slots
    for vid, k in per_vol.items():
        assert k <= vols[vid].capacity
        mine = [nds[nid] for v2, nid in pairs if v2 == vid]
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                assert not overlaps(a, b), f"{vid} has overlapping needs {a.id}, {b.id}"
    assert dict(result.unfilled) == {
        n.id: n.slots - per_need[n.id] for n in needs if n.slots > per_need[n.id]
    }
    assert result.stats["filled"] == len(pairs)


def brute_force(volunteers, needs, existing=(), config=DEFAULT) -> tuple[int, float]:
    """(pairs, cost) of the lexicographic optimum by exhaustive search; tiny instances only."""
    existing = set(existing)
    cand = [
        (v, n, pair_cost(v, n, existing, config))
        for v in volunteers
        for n in needs
        if not explain_infeasible(v, n) and v.capacity > 0 and n.slots > 0
    ]
    best = [(0, 0.0)]
    vol_load: Counter = Counter()
    need_load: Counter = Counter()
    taken: dict[str, list[Need]] = {}

    def key(k: int, c: float) -> tuple[int, float]:
        return (k, -c)

    def dfs(i: int, k: int, c: float) -> None:
        if key(k, c) > key(*best[0]):
            best[0] = (k, c)
        if i == len(cand) or k + len(cand) - i < best[0][0]:
            return
        v, n, pc = cand[i]
        if (
            vol_load[v.id] < v.capacity
            and need_load[n.id] < n.slots
            and not any(overlaps(n, o) for o in taken.get(v.id, []))
        ):
            vol_load[v.id] += 1
            need_load[n.id] += 1
            taken.setdefault(v.id, []).append(n)
            dfs(i + 1, k + 1, c + pc)
            taken[v.id].pop()
            vol_load[v.id] -= 1
            need_load[n.id] -= 1
        dfs(i + 1, k, c)

    dfs(0, 0, 0.0)
    return best[0]


@pytest.fixture(scope="session")
def feasible():
    return check_feasible


@pytest.fixture(scope="session")
def reference():
    return brute_force


@pytest.fixture(scope="session")
def cost_of():
    return pair_cost


def milp_reference(volunteers, needs, existing=(), config=DEFAULT) -> tuple[int, float]:
    """(pairs, cost) of the lexicographic optimum from a plain two-phase MILP with pairwise
    conflict rows; a formulation independent of the solver's."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    existing = set(existing)
    cand = [
        (v, n)
        for v in volunteers
        for n in needs
        if not explain_infeasible(v, n) and v.capacity > 0 and n.slots > 0
    ]
    if not cand:
        return 0, 0.0
    rows, ub = [], []
    for n in needs:
        rows.append([i for i, (_, m) in enumerate(cand) if m.id == n.id])
        ub.append(n.slots)
    for v in volunteers:
        rows.append([i for i, (w, _) in enumerate(cand) if w.id == v.id])
        ub.append(v.capacity)
    for i, (v, n) in enumerate(cand):
        for j in range(i + 1, len(cand)):
            if cand[j][0].id == v.id and overlaps(n, cand[j][1]):
                rows.append([i, j])
                ub.append(1)
    a = lil_matrix((len(rows) + 1, len(cand)))
    for r, members in enumerate(rows):
        for i in members:
            a[r, i] = 1
    a[len(rows), :] = -1
    cost = np.array([pair_cost(v, n, existing, config) for v, n in cand])
    ones = np.ones(len(cand))
    common = {"integrality": ones, "bounds": Bounds(0, 1), "options": {"mip_rel_gap": 0}}
    first = milp(-ones, constraints=LinearConstraint(a[:-1].tocsr(), -np.inf, ub), **common)
    k = round(-first.fun)
    second = milp(cost, constraints=LinearConstraint(a.tocsr(), -np.inf, [*ub, -k]), **common)
    assert first.status == 0 and second.status == 0
    return k, float(second.fun)


@pytest.fixture(scope="session")
def milp_ref():
    return milp_reference
