"""Certified optimal assignment of volunteers to needs.

Model (per connected component of the candidate graph), x_p in {0, 1} for each feasible pair p:
    sum of x over a need's pairs      <= slots
    sum of x over a volunteer's pairs <= capacity
    for a volunteer with capacity >= 2 and a time point t: its pairs whose need covers t <= 1
Objective: lexicographically most pairs, then least cost.

Solving the full model with a MILP solver is slow for large instances, so each component runs
a restricted-master scheme: the MILP only sees a subset S of the pairs (the cheapest per need and
per volunteer), the LP relaxation's duals price every left-out pair, and pairs are added until
pricing proves that no left-out pair could improve the MILP optimum. The bound is computed from
the duals by weak duality (duals clamped to the right sign, every reduced cost accounted for), so
it holds however inexact the LP solver is.

The lexicographic objective is solved first as one weighted objective (weight M - cost per pair
with a moderate M). If that solution has as many pairs as a max-flow bound that ignores time
conflicts, it is lexicographically optimal for any M; otherwise a cardinality phase and a
cost phase with the cardinality fixed settle it exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components, maximum_flow

from .candidates import Candidates, build_candidates, week_span
from .explain import make_match
from .types import DEFAULT_CONFIG, MatchConfig, MatchResult, Need, Volunteer

# Components with at most this many pairs are solved on the full model without pricing.
_FULL_MODEL_PAIRS = 3000
# Initial restricted master: the cheapest pairs of every need (pricing adds what is missing).
_PER_NEED = 8
# Weight per pair in the first pass is M - cost with M = factor * (cost spread) + 1: large enough
# that trading a pair for cost savings is rare, small enough to keep the LP well scaled.
_M_SPREAD_FACTOR = 4.0
# Reduced costs above -_RC_TOL count as non-negative (LP solver tolerance is ~1e-7).
_RC_TOL = 1e-7
# "Optimal" means within this relative gap on the total cost (absolute floor of 1 km).
_REL_TOL = 1e-6
# A floor on solver time so that a component reached just before the deadline still gets a
# solution from the MILP rather than only the greedy fallback.
_MIN_SOLVER_S = 0.05


def solve(
    volunteers: Iterable[Volunteer],
    needs: Iterable[Need],
    *,
    existing: Iterable[tuple[str, str]] = (),
    config: MatchConfig = DEFAULT_CONFIG,
) -> MatchResult:
    """Match volunteers to needs: most pairs first, then least total cost (see module doc).

    `existing` pairs that are no longer feasible, or name unknown ids, are ignored. The result
    lists matches sorted by (need id, volunteer id); `unfilled` holds only needs with open slots.
    `gap` is relative: while the number of pairs is not proven maximal it is
    (pair bound - pairs) / pair bound, otherwise (cost - cost bound) / max(1, |cost|).
    `config.time_limit_s` bounds the solver calls (each gets at least 0.05 s).
    """
    t0 = time.perf_counter()
    deadline = t0 + config.time_limit_s
    vols = _sorted_unique(volunteers, "volunteer")
    nds = _sorted_unique(needs, "need")
    cand = build_candidates(vols, nds)

    v_index = {v.id: i for i, v in enumerate(vols)}
    n_index = {n.id: i for i, n in enumerate(nds)}
    existing_keys = {
        v_index[vid] * len(nds) + n_index[nid]
        for vid, nid in existing
        if vid in v_index and nid in n_index
    }
    is_existing = np.isin(
        cand.vol * len(nds) + cand.need, np.fromiter(existing_keys, dtype=np.int64)
    )
    cost = (
        cand.km
        - config.interest_bonus_km * cand.interest
        - config.continuity_bonus_km * is_existing
    )
    cap = np.array([v.capacity for v in vols], dtype=np.int64)
    slots = np.array([n.slots for n in nds], dtype=np.int64)
    usable = np.flatnonzero((cap[cand.vol] > 0) & (slots[cand.need] > 0))
    spans = np.array([week_span(n.when) for n in nds], dtype=np.int64).reshape(-1, 2)

    chosen: list[np.ndarray] = []
    pairs_bound = 0
    cost_bound = 0.0
    master_pairs = 0
    comps = _components(cand, usable, len(vols), len(nds))
    for cols in comps:
        comp = _Component.build(cand, cols, cost, is_existing, cap, slots, spans)
        res = _solve_component(comp, deadline)
        chosen.append(cols[res.selected])
        pairs_bound += res.pairs_bound
        cost_bound += res.cost_bound
        master_pairs += res.master_pairs
    sel = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)

    order = np.lexsort((cand.vol[sel], cand.need[sel]))
    sel = sel[order]
    matches = tuple(
        make_match(
            vols[cand.vol[p]],
            nds[cand.need[p]],
            float(cand.km[p]),
            bool(cand.interest[p]),
            bool(is_existing[p]),
        )
        for p in sel
    )
    filled = np.bincount(cand.need[sel], minlength=len(nds))
    unfilled = {n.id: int(n.slots - filled[i]) for i, n in enumerate(nds) if n.slots > filled[i]}

    n_pairs = len(sel)
    total_cost = float(cost[sel].sum())
    if n_pairs < pairs_bound:
        status, gap = "feasible", (pairs_bound - n_pairs) / pairs_bound
    else:
        gap = max(0.0, total_cost - cost_bound) / max(1.0, abs(total_cost))
        status = "optimal" if gap <= _REL_TOL else "feasible"
        if status == "optimal":
            gap = 0.0
    stats = {
        "volunteers": float(len(vols)),
        "needs": float(len(nds)),
        "candidates": float(len(cand.vol)),
        "components": float(len(comps)),
        "master_pairs": float(master_pairs),
        "filled": float(n_pairs),
        "pairs_bound": float(pairs_bound),
        "total_km": float(cand.km[sel].sum()),
        "total_cost": total_cost,
        "cost_bound": float(cost_bound),
        "kept_existing": float(is_existing[sel].sum()),
        "seconds": time.perf_counter() - t0,
    }
    return MatchResult(matches, unfilled, status, gap, stats)


def _sorted_unique(items, kind: str) -> list:
    # Canonical id order makes the result independent of the input order.
    out = sorted(items, key=lambda x: x.id)
    for a, b in zip(out, out[1:], strict=False):
        if a.id == b.id:
            raise ValueError(f"duplicate {kind} id {a.id!r}")
    return out


def _components(cand: Candidates, usable: np.ndarray, nv: int, nn: int) -> list[np.ndarray]:
    """Column index arrays (each sorted, i.e. by volunteer) of independent subproblems."""
    if len(usable) == 0:
        return []
    adj = sparse.coo_matrix(
        (np.ones(len(usable)), (cand.vol[usable], nv + cand.need[usable])),
        shape=(nv + nn, nv + nn),
    )
    _, label = connected_components(adj, directed=False)
    col_label = label[cand.vol[usable]]
    order = np.argsort(col_label, kind="stable")
    bounds = np.flatnonzero(np.diff(col_label[order])) + 1
    return [usable[g] for g in np.split(order, bounds)]


@dataclass
class _Component:
    vol: np.ndarray  # local volunteer index per pair, non-decreasing
    need: np.ndarray  # local need index per pair
    cost: np.ndarray
    existing: np.ndarray
    start: np.ndarray  # need span per pair (microseconds since Monday)
    end: np.ndarray
    cap: np.ndarray  # per local volunteer, clipped to its number of pairs
    slots: np.ndarray  # per local need, clipped to its number of pairs
    vptr: np.ndarray  # pairs of volunteer v are vptr[v]:vptr[v + 1]

    @classmethod
    def build(cls, cand, cols, cost, existing, cap, slots, spans) -> _Component:
        gv, vol = np.unique(cand.vol[cols], return_inverse=True)
        gn, need = np.unique(cand.need[cols], return_inverse=True)
        vdeg = np.bincount(vol, minlength=len(gv))
        ndeg = np.bincount(need, minlength=len(gn))
        return cls(
            vol=vol,
            need=need,
            cost=cost[cols],
            existing=existing[cols],
            start=spans[cand.need[cols], 0],
            end=spans[cand.need[cols], 1],
            cap=np.minimum(cap[gv], vdeg),
            slots=np.minimum(slots[gn], ndeg),
            vptr=np.concatenate(([0], np.cumsum(vdeg))),
        )

    @property
    def n(self) -> int:
        return len(self.vol)


@dataclass
class _ComponentResult:
    selected: np.ndarray  # local pair indices
    pairs_bound: int
    cost_bound: float
    master_pairs: int


def _solve_component(comp: _Component, deadline: float) -> _ComponentResult:
    if len(comp.slots) == 1 or (len(comp.cap) == 1 and comp.cap[0] == 1):
        # A star: the cheapest pairs up to the centre's limit are optimal, no solver needed.
        limit = int(comp.slots[0] if len(comp.slots) == 1 else 1)
        sel = np.sort(np.argsort(comp.cost, kind="stable")[:limit])
        return _ComponentResult(sel, len(sel), float(comp.cost[sel].sum()), comp.n)

    spread = float(comp.cost.max() - comp.cost.min())
    big_m = _M_SPREAD_FACTOR * spread + 1.0
    s0 = _initial_master(comp)
    weighted = _price_and_solve(comp, comp.cost - big_m, s0, None, deadline, None)
    sel = weighted.selected
    k = len(sel)
    k_bound = _cardinality_bound(comp)
    if k == k_bound:
        return _ComponentResult(sel, k, weighted.bound + k * big_m, weighted.master_pairs)

    # Fewer pairs than the conflict-free bound: either conflicts cost pairs or M was too small.
    s1 = np.union1d(weighted.master, sel)
    card = _price_and_solve(comp, -np.ones(comp.n), s1, None, deadline, sel)
    if math.isfinite(card.bound):
        k_bound = min(k_bound, math.floor(-card.bound + 1e-6))
    if len(card.selected) <= k:
        return _ComponentResult(sel, k_bound, weighted.bound + k * big_m, card.master_pairs)
    k1 = len(card.selected)
    s2 = np.union1d(card.master, card.selected)
    phase2 = _price_and_solve(comp, comp.cost, s2, k1, deadline, card.selected)
    return _ComponentResult(phase2.selected, k_bound, phase2.bound, phase2.master_pairs)


def _initial_master(comp: _Component) -> np.ndarray:
    if comp.n <= _FULL_MODEL_PAIRS:
        return np.arange(comp.n)
    keep = comp.existing.copy()
    # Cost order first, then a stable integer sort by need: much faster than a two-key lexsort.
    by_cost = np.argsort(comp.cost, kind="stable")
    order = by_cost[np.argsort(comp.need[by_cost], kind="stable")]
    grouped = comp.need[order]
    rank = np.arange(comp.n) - np.searchsorted(grouped, grouped, side="left")
    keep[order[rank < _PER_NEED]] = True
    return np.flatnonzero(keep)


def _cardinality_bound(comp: _Component) -> int:
    """Max pairs ignoring time conflicts (a max flow); an upper bound on any matching."""
    trivial = int(min(comp.cap.sum(), comp.slots.sum()))
    nv, nn = len(comp.cap), len(comp.slots)
    source, sink = nv + nn, nv + nn + 1
    rows = np.concatenate((np.full(nv, source), comp.vol, nv + np.arange(nn)))
    cols = np.concatenate((np.arange(nv), nv + comp.need, np.full(nn, sink)))
    caps = np.concatenate((comp.cap, np.ones(comp.n, np.int64), comp.slots)).astype(np.int32)
    graph = sparse.csr_matrix((caps, (rows, cols)), shape=(nv + nn + 2, nv + nn + 2))
    return min(trivial, int(maximum_flow(graph, source, sink).flow_value))


@dataclass
class _Solved:
    selected: np.ndarray  # local pair indices
    objective: float
    bound: float  # proven lower bound on the objective over the full component model
    master: np.ndarray
    master_pairs: int


@dataclass
class _Master:
    a: sparse.csr_matrix  # rows x |S|, every row is "<= b"
    b: np.ndarray
    clique_vol: np.ndarray  # per clique row: volunteer and covered time point
    clique_t: np.ndarray
    n_base: int  # need rows then volunteer rows come first
    has_card: bool


def _build_master(comp: _Component, s: np.ndarray, card: int | None) -> _Master:
    nn, nv = len(comp.slots), len(comp.cap)
    m = len(s)
    rows = [comp.need[s], nn + comp.vol[s]]
    cols = [np.arange(m), np.arange(m)]
    b = [comp.slots.astype(float), comp.cap.astype(float)]
    clique_vol, clique_t = _clique_rows(comp, s)
    if clique_vol:
        # Member lists are rebuilt from (volunteer, time point) exactly as pricing reads them.
        sv = comp.vol[s]
        for r, (v, t) in enumerate(zip(clique_vol, clique_t, strict=True)):
            lo, hi = np.searchsorted(sv, [v, v + 1])
            members = lo + np.flatnonzero((comp.start[s[lo:hi]] <= t) & (t < comp.end[s[lo:hi]]))
            rows.append(np.full(len(members), nn + nv + r))
            cols.append(members)
        b.append(np.ones(len(clique_vol)))
    n_rows = nn + nv + len(clique_vol)
    vals = [np.ones(len(r)) for r in rows]
    if card is not None:
        # "at least card pairs" as a "<=" row keeps a single dual sign convention.
        rows.append(np.full(m, n_rows))
        cols.append(np.arange(m))
        vals.append(-np.ones(m))
        b.append(np.array([-float(card)]))
        n_rows += 1
    a = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, m)
    )
    return _Master(
        a,
        np.concatenate(b),
        np.array(clique_vol, dtype=np.int64),
        np.array(clique_t, dtype=np.int64),
        nn + nv,
        card is not None,
    )


def _clique_rows(comp: _Component, s: np.ndarray) -> tuple[list[int], list[int]]:
    """Time points covering >= 2 of a multi-capacity volunteer's master pairs.

    Every two overlapping intervals share the later one's start point, so the start points of
    the volunteer's master pairs cover every conflict; a point whose set is contained in the
    next point's set is redundant and skipped.
    """
    out_v: list[int] = []
    out_t: list[int] = []
    sv = comp.vol[s]
    multi = np.flatnonzero(comp.cap >= 2)
    los = np.searchsorted(sv, multi, side="left")
    his = np.searchsorted(sv, multi, side="right")
    for v, lo, hi in zip(multi, los, his, strict=True):
        if hi - lo < 2:
            continue
        st = comp.start[s[lo:hi]]
        en = comp.end[s[lo:hi]]
        prev: frozenset[int] | None = None
        prev_t = 0
        for t in np.unique(st):
            members = frozenset(np.flatnonzero((st <= t) & (t < en)).tolist())
            if prev is not None and not prev <= members and len(prev) >= 2:
                out_v.append(int(v))
                out_t.append(prev_t)
            prev, prev_t = members, int(t)
        if prev is not None and len(prev) >= 2:
            out_v.append(int(v))
            out_t.append(prev_t)
    return out_v, out_t


def _reduced_costs(comp: _Component, c: np.ndarray, master: _Master, duals: np.ndarray):
    """Reduced costs of every pair of the component and the weak-duality bound they imply."""
    y = np.minimum(duals, 0.0)  # "<=" rows of a minimisation have non-positive duals
    nn = len(comp.slots)
    price = y[comp.need] + y[nn + comp.vol]
    if master.has_card:
        price += y[-1] * -1.0
    n_cliques = len(master.clique_vol)
    yc = y[master.n_base : master.n_base + n_cliques]
    for r in np.flatnonzero(yc < 0):
        v, t = master.clique_vol[r], master.clique_t[r]
        lo, hi = comp.vptr[v], comp.vptr[v + 1]
        hit = (comp.start[lo:hi] <= t) & (t < comp.end[lo:hi])
        price[lo:hi][hit] += yc[r]
    rc = c - price
    # Any x in [0,1]^n with Ax <= b has c.x = rc.x + y.Ax >= sum(min(rc, 0)) + y.b.
    dual_bound = float(master.b @ y + np.minimum(rc, 0.0).sum())
    return rc, dual_bound


def _remaining(deadline: float) -> float:
    return max(deadline - time.perf_counter(), _MIN_SOLVER_S)


def _price_and_solve(
    comp: _Component,
    c: np.ndarray,
    s: np.ndarray,
    card: int | None,
    deadline: float,
    fallback: np.ndarray | None,
) -> _Solved:
    """Minimise c.x over the component model, certified against all pairs (see module doc)."""
    in_s = np.zeros(comp.n, dtype=bool)
    in_s[s] = True
    rc = None
    dual_bound = -math.inf
    if len(s) < comp.n:
        while True:
            master = _build_master(comp, s, card)
            lp = linprog(
                c[s],
                A_ub=master.a,
                b_ub=master.b,
                bounds=(0.0, 1.0),
                method="highs",
                options={"time_limit": _remaining(deadline)},
            )
            if lp.status != 0:
                break
            rc, dual_bound = _reduced_costs(comp, c, master, lp.ineqlin.marginals)
            entering = np.flatnonzero(~in_s & (rc < -_RC_TOL))
            if len(entering) == 0 or time.perf_counter() >= deadline:
                break
            batch = max(1000, len(s) // 4)
            entering = entering[np.argsort(rc[entering], kind="stable")[:batch]]
            in_s[entering] = True
            s = np.flatnonzero(in_s)

    while True:
        master = _build_master(comp, s, card)
        res = milp(
            c[s],
            constraints=LinearConstraint(master.a, -np.inf, master.b),
            integrality=np.ones(len(s)),
            bounds=Bounds(0.0, 1.0),
            options={"time_limit": _remaining(deadline), "mip_rel_gap": 0.0},
        )
        if res.x is not None:
            selected = s[res.x > 0.5]
            mip_bound = float(res.mip_dual_bound)
            if not math.isfinite(mip_bound):
                mip_bound = -math.inf
        else:
            selected = fallback if fallback is not None else _greedy(comp, s)
            mip_bound = -math.inf
        objective = float(c[selected].sum())
        if rc is None or time.perf_counter() >= deadline:
            break
        # A left-out pair can only be in a better solution if its reduced cost is below the gap.
        entering = np.flatnonzero(~in_s & (rc < objective - dual_bound - _RC_TOL))
        if len(entering) == 0:
            break
        in_s[entering] = True
        s = np.flatnonzero(in_s)

    # The LP bound holds for the full model on its own; the MILP bound only for the master, so
    # it extends to the full model only through the reduced costs of the left-out pairs.
    out = ~in_s
    if not out.any():
        bound = max(mip_bound, dual_bound)
    elif rc is None:
        bound = -math.inf  # the LP did not finish in time: nothing is known about left-out pairs
    else:
        bound = max(dual_bound, min(mip_bound, dual_bound + float(np.maximum(rc[out], 0).min())))
    return _Solved(np.sort(selected), objective, min(bound, objective), s, len(s))


def _greedy(comp: _Component, s: np.ndarray) -> np.ndarray:
    """Cheapest-pair-first feasible matching; used only when the MILP found nothing in time."""
    vol_load = np.zeros(len(comp.cap), np.int64)
    need_load = np.zeros(len(comp.slots), np.int64)
    taken: dict[int, list[tuple[int, int]]] = {}
    out = []
    for p in s[np.argsort(comp.cost[s], kind="stable")]:
        v, n = comp.vol[p], comp.need[p]
        if vol_load[v] >= comp.cap[v] or need_load[n] >= comp.slots[n]:
            continue
        st, en = comp.start[p], comp.end[p]
        if any(a < en and st < b for a, b in taken.get(v, ())):
            continue
        taken.setdefault(v, []).append((st, en))
        vol_load[v] += 1
        need_load[n] += 1
        out.append(p)
    return np.array(out, dtype=np.int64)
