"""Benchmark of matching.solve against self sign-up and a plain full MILP.

    python bench/matching.py [--sizes S,M,L,XL] [--quick]

Every measurement runs in its own subprocess (peak memory = that process's max RSS); instances
are generated from fixed seeds, so runs are reproducible. Results go to bench/results/matching.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This script's own name would shadow the `matching` package when run as bench/matching.py.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

from matching import Need, Volunteer, Weekly, fill_vacancy, solve  # noqa: E402
from matching.candidates import build_candidates, week_span  # noqa: E402

SIZES = {
    # name: (volunteers, needs, area km east-west, area km north-south)
    "S": (500, 100, 40.0, 30.0),
    "M": (5_000, 1_000, 40.0, 30.0),
    "L": (50_000, 10_000, 130.0, 100.0),
    "XL": (50_000, 10_000, 40.0, 30.0),
}
CENTER = (55.77, 9.85)  # Hedensted
ACTIVITIES = ("spisevenner", "lektiehjælp", "besøgsven", "gåtur", "indkøb", "it-hjælp")
PLAIN_MILP_LIMIT_S = 120.0
PLAIN_MILP_MAX_PAIRS = 1_000_000  # beyond this the dense clique model does not fit in memory


def _place(rng, n, width, height, towns):
    """Points clustered around towns (70 %) and scattered over the area (30 %)."""
    km_lat = 111.2
    km_lon = 111.2 * np.cos(np.radians(CENTER[0]))
    town = towns[rng.integers(0, len(towns), n)]
    x = np.where(rng.random(n) < 0.7, town[:, 0] + rng.normal(0, 2.5, n), rng.uniform(0, width, n))
    y = np.where(rng.random(n) < 0.7, town[:, 1] + rng.normal(0, 2.5, n), rng.uniform(0, height, n))
    x, y = np.clip(x, 0, width), np.clip(y, 0, height)
    return CENTER[0] + (y - height / 2) / km_lat, CENTER[1] + (x - width / 2) / km_lon


def _t(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _window(rng, hours_lo, hours_hi) -> Weekly:
    day = int(rng.integers(0, 7))
    if day >= 5:
        start = int(rng.choice([9 * 60, 10 * 60, 13 * 60]))
    elif rng.random() < 0.65:
        start = int(rng.integers(32, 39)) * 30  # evenings, 16:00-19:00
    else:
        start = int(rng.integers(26, 31)) * 30  # afternoons, 13:00-15:00
    length = int(rng.integers(hours_lo * 2, hours_hi * 2 + 1)) * 30
    return Weekly(day, _t(start), _t(min(start + length, 23 * 60 + 30)))


def make_instance(size: str, seed: int = 7):
    nv, nn, width, height = SIZES[size]
    rng = np.random.default_rng(seed)
    towns = rng.uniform([0, 0], [width, height], size=(max(3, int(width * height / 150)), 2))
    vlat, vlon = _place(rng, nv, width, height, towns)
    nlat, nlon = _place(rng, nn, width, height, towns)
    volunteers = []
    for i in range(nv):
        langs = {"da"} | ({"en"} if rng.random() < 0.15 else set())
        if rng.random() < 0.05:
            langs.add("uk")
        volunteers.append(
            Volunteer(
                id=f"v{i:06d}",
                lat=float(vlat[i]),
                lon=float(vlon[i]),
                max_km=float(rng.integers(3, 26)),
                availability=tuple(_window(rng, 2, 4) for _ in range(int(rng.integers(1, 5)))),
                capacity=1 if rng.random() < 0.8 else 2,
                interests=frozenset(rng.choice(ACTIVITIES, int(rng.integers(1, 4)), False)),
                languages=frozenset(langs),
                certificates=frozenset({"child"}) if rng.random() < 0.3 else frozenset(),
            )
        )
    needs = []
    for j in range(nn):
        activity = str(rng.choice(ACTIVITIES))
        lang_draw = rng.random()
        needs.append(
            Need(
                id=f"n{j:06d}",
                lat=float(nlat[j]),
                lon=float(nlon[j]),
                when=_window(rng, 1, 3),
                slots=int(rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05])),
                activity=activity,
                requires=frozenset({"child"})
                if activity == "lektiehjælp" and rng.random() < 0.5
                else frozenset(),
                languages=frozenset({"en"})
                if lang_draw < 0.07
                else frozenset({"uk"})
                if lang_draw < 0.1
                else frozenset(),
            )
        )
    return volunteers, needs


def _fcfs(volunteers, needs, seed: int = 11) -> dict:
    """Self sign-up: volunteers in random order each take their nearest open feasible needs."""
    t0 = time.perf_counter()
    cand = build_candidates(volunteers, needs)
    order = np.lexsort((cand.km, cand.vol))
    vptr = np.searchsorted(cand.vol[order], np.arange(len(volunteers) + 1))
    spans = [week_span(n.when) for n in needs]
    open_slots = [n.slots for n in needs]
    pairs, km = 0, 0.0
    for v in np.random.default_rng(seed).permutation(len(volunteers)):
        left = volunteers[v].capacity
        taken: list[tuple[int, int]] = []
        for p in order[vptr[v] : vptr[v + 1]]:
            if left == 0:
                break
            n = cand.need[p]
            s, e = spans[n]
            if open_slots[n] and not any(a < e and s < b for a, b in taken):
                open_slots[n] -= 1
                left -= 1
                taken.append((s, e))
                pairs += 1
                km += float(cand.km[p])
    return {"pairs": pairs, "total_km": km, "seconds": time.perf_counter() - t0}


def _plain_milp(volunteers, needs) -> dict:
    """The full model (every candidate pair, same rows and weighted objective as the library's
    first pass) handed to HiGHS in one piece."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from matching import solver as S

    t0 = time.perf_counter()
    cand = build_candidates(volunteers, needs)
    if len(cand.vol) > PLAIN_MILP_MAX_PAIRS:
        return {"skipped": f"{len(cand.vol)} pairs: too large to build the full model"}
    cap = np.array([v.capacity for v in volunteers])
    slots = np.array([n.slots for n in needs])
    spans = np.array([week_span(n.when) for n in needs]).reshape(-1, 2)
    cost = cand.km - 2.0 * cand.interest
    cols = np.flatnonzero((cap[cand.vol] > 0) & (slots[cand.need] > 0))
    comp = S._Component.build(cand, cols, cost, np.zeros(len(cost), bool), cap, slots, spans)
    big_m = S._M_SPREAD_FACTOR * float(comp.cost.max() - comp.cost.min()) + 1.0
    master = S._build_master(comp, np.arange(comp.n), None)
    res = milp(
        comp.cost - big_m,
        constraints=LinearConstraint(master.a, -np.inf, master.b),
        integrality=np.ones(comp.n),
        bounds=Bounds(0, 1),
        options={"time_limit": PLAIN_MILP_LIMIT_S, "mip_rel_gap": 1e-6},
    )
    sel = res.x > 0.5 if res.x is not None else np.zeros(comp.n, bool)
    return {
        "pairs": int(sel.sum()),
        "total_km": float(cand.km[cols][sel].sum()),
        "status": "optimal" if res.status == 0 else "time limit",
        "gap": float(res.mip_gap) if res.x is not None else None,
        "seconds": time.perf_counter() - t0,
        "rows": int(master.a.shape[0]),
    }


def _ours(volunteers, needs) -> dict:
    r = solve(volunteers, needs)
    return {
        "candidates": int(r.stats["candidates"]),
        "pairs": len(r.matches),
        "total_km": r.stats["total_km"],
        "status": r.status,
        "gap": r.gap,
        "seconds": r.stats["seconds"],
        "components": int(r.stats["components"]),
        "master_pairs": int(r.stats["master_pairs"]),
    }


def _incremental(volunteers, needs, withdrawals: int = 5) -> dict:
    """Withdraw one matched volunteer at a time from the optimum; re-solve with the remaining
    pairs as `existing` and count how many other pairs change; also time fill_vacancy."""
    base = solve(volunteers, needs)
    before = {(m.volunteer_id, m.need_id) for m in base.matches}
    matched = sorted({vid for vid, _ in before})
    picks = [matched[i * len(matched) // withdrawals] for i in range(withdrawals)]
    runs = []
    for gone in picks:
        keep = {p for p in before if p[0] != gone}
        rest = [v for v in volunteers if v.id != gone]
        t0 = time.perf_counter()
        r = solve(rest, needs, existing=keep)
        resolve_s = time.perf_counter() - t0
        after = {(m.volunteer_id, m.need_id) for m in r.matches}
        vacated = sorted(nid for vid, nid in before if vid == gone)
        fill_ms = []
        for nid in vacated:
            t0 = time.perf_counter()
            fill_vacancy(rest, needs, keep, nid)
            fill_ms.append((time.perf_counter() - t0) * 1000)
        runs.append(
            {
                "withdrawn": gone,
                "dropped_other_pairs": len(keep - after),
                "new_pairs": len(after - keep),
                "resolve_seconds": resolve_s,
                "fill_vacancy_ms": max(fill_ms),
                "status": r.status,
            }
        )
    return {"runs": runs}


ALGOS = {"ours": _ours, "fcfs": _fcfs, "plain_milp": _plain_milp, "incremental": _incremental}


def _child(algo: str, size: str) -> None:
    volunteers, needs = make_instance(size)
    print(json.dumps(ALGOS[algo](volunteers, needs)))


def _run(algo: str, size: str) -> dict:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", algo, size], stdout=subprocess.PIPE, text=True
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    if status != 0:
        return {"error": f"exit status {status}"}
    result = json.loads(out)
    result["peak_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="S,M,L,XL")
    ap.add_argument("--quick", action="store_true", help="skip the plain MILP and incremental runs")
    ap.add_argument("--child", nargs=2, metavar=("ALGO", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return

    results: dict = {}
    for size in args.sizes.split(","):
        row = {"ours": _run("ours", size), "fcfs": _run("fcfs", size)}
        if not args.quick:
            row["plain_milp"] = (
                _run("plain_milp", size)
                if size in ("S", "M")
                else {"skipped": "full model too large to build within the time limit"}
            )
            if size == "M":
                row["incremental"] = _run("incremental", size)
        results[size] = row
        _print_row(size, row)
    out = HERE / "results" / "matching.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


def _print_row(size: str, row: dict) -> None:
    ours = row["ours"]
    print(f"\n== {size}: {ours.get('candidates', '?')} candidate pairs ==")
    print(
        f"{'method':<12} {'seconds':>8} {'status':>11} {'gap':>9} {'pairs':>6} "
        f"{'total km':>10} {'peak MB':>8}"
    )
    for name in ("ours", "plain_milp", "fcfs"):
        r = row.get(name)
        if r is None:
            continue
        if "skipped" in r or "error" in r:
            print(f"{name:<12} {r.get('skipped') or r.get('error')}")
            continue
        print(
            f"{name:<12} {_fmt(r.get('seconds'), '8.3f')} {r.get('status', '-'):>11} "
            f"{_fmt(r.get('gap'), '9.2e')} {r['pairs']:>6} {r['total_km']:>10.1f} "
            f"{r['peak_mb']:>8.0f}"
        )
    inc = row.get("incremental")
    if inc and "runs" in inc:
        for run in inc["runs"]:
            print(
                f"withdraw {run['withdrawn']}: re-solve {run['resolve_seconds']:.2f} s "
                f"({run['status']}), other pairs dropped {run['dropped_other_pairs']}, "
                f"new pairs {run['new_pairs']}, fill_vacancy {run['fill_vacancy_ms']:.1f} ms"
            )


if __name__ == "__main__":
    main()
