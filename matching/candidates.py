"""Feasible (volunteer, need) pairs: time windows, distance, certificates and languages.

Candidate generation is time-first: needs are sorted by start within the week and every merged
availability window of a volunteer selects the needs that start inside it with a binary search.
Dense areas (many needs within reach of everybody) are where a purely spatial index degrades, and
only a few percent of the pairs within reach are also free at the right time, so indexing on time
and then filtering by latitude band and exact haversine keeps the intermediate arrays small.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .geo import DISTANCE_SLACK_KM, EARTH_RADIUS_KM, haversine_km, haversine_np
from .types import Need, Volunteer, Weekly

_US_PER_DAY = 86_400_000_000
# Upper bound on (window, need) pairs expanded at once; bounds peak memory of generation.
_CHUNK_PAIRS = 4_000_000


def time_us(t: datetime.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def week_span(w: Weekly) -> tuple[int, int]:
    """The window as [start, end) in microseconds since Monday 00:00."""
    base = w.weekday * _US_PER_DAY
    return base + time_us(w.start), base + time_us(w.end)


def merged_windows(availability: Iterable[Weekly]) -> list[tuple[int, int]]:
    """Availability as disjoint week spans; touching or overlapping windows are merged so that a
    need spanning 17-19 fits a volunteer free 17-18 and 18-20."""
    spans = sorted(week_span(w) for w in availability)
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def containing_window(volunteer: Volunteer, need: Need) -> tuple[int, int] | None:
    s, e = week_span(need.when)
    for a, b in merged_windows(volunteer.availability):
        if a <= s and e <= b:
            return a, b
    return None


def explain_infeasible(volunteer: Volunteer, need: Need) -> tuple[str, ...]:
    """Reason codes why `volunteer` cannot take `need`; empty when the pair is feasible.

    Codes: "too_far", "not_free", "certificate_missing", "language".
    """
    reasons = []
    km = haversine_km(volunteer.lat, volunteer.lon, need.lat, need.lon)
    if km > volunteer.max_km + DISTANCE_SLACK_KM:
        reasons.append("too_far")
    if containing_window(volunteer, need) is None:
        reasons.append("not_free")
    if not need.requires <= volunteer.certificates:
        reasons.append("certificate_missing")
    if need.languages and not need.languages & volunteer.languages:
        reasons.append("language")
    return tuple(reasons)


def _bitsets(sets: Sequence[frozenset[str]], universe: dict[str, int]) -> np.ndarray:
    """Each set as a row of uint64 words over `universe` (code -> bit index); codes outside the
    universe are irrelevant to every comparison made with these rows and are dropped."""
    words = max(1, (len(universe) + 63) // 64)
    out = np.zeros((len(sets), words), dtype=np.uint64)
    for i, s in enumerate(sets):
        for code in s:
            bit = universe.get(code)
            if bit is not None:
                out[i, bit // 64] |= np.uint64(1 << (bit % 64))
    return out


@dataclass
class Candidates:
    """Feasible pairs as parallel arrays, sorted by (volunteer, need) index."""

    vol: np.ndarray  # int64 volunteer index
    need: np.ndarray  # int64 need index
    km: np.ndarray  # float64
    interest: np.ndarray  # bool: need activity among the volunteer's interests


def build_candidates(volunteers: Sequence[Volunteer], needs: Sequence[Need]) -> Candidates:
    empty = Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    if not volunteers or not needs:
        return empty

    n_span = np.array([week_span(n.when) for n in needs], dtype=np.int64).reshape(-1, 2)
    order = np.argsort(n_span[:, 0], kind="stable")
    sorted_start = n_span[order, 0]
    n_end = n_span[:, 1]
    n_lat = np.array([n.lat for n in needs], dtype=np.float64)
    n_lon = np.array([n.lon for n in needs], dtype=np.float64)
    v_lat = np.array([v.lat for v in volunteers], dtype=np.float64)
    v_lon = np.array([v.lon for v in volunteers], dtype=np.float64)
    v_max = np.array([v.max_km for v in volunteers], dtype=np.float64) + DISTANCE_SLACK_KM
    # Great-circle distance is at least R * |delta latitude|: a cheap exact pre-filter.
    v_max_dlat = np.degrees(v_max / EARTH_RADIUS_KM)

    w_vol, w_a, w_b = [], [], []
    for i, v in enumerate(volunteers):
        for a, b in merged_windows(v.availability):
            w_vol.append(i)
            w_a.append(a)
            w_b.append(b)
    if not w_vol:
        return empty
    w_vol_a = np.array(w_vol, dtype=np.int64)
    w_b_a = np.array(w_b, dtype=np.int64)
    lo = np.searchsorted(sorted_start, np.array(w_a, dtype=np.int64), side="left")
    hi = np.searchsorted(sorted_start, w_b_a, side="left")
    counts = hi - lo

    certs = {c: i for i, c in enumerate(sorted({c for n in needs for c in n.requires}))}
    langs = {c: i for i, c in enumerate(sorted({c for n in needs for c in n.languages}))}
    acts = {c: i for i, c in enumerate(sorted({n.activity for n in needs}))}
    n_req = _bitsets([n.requires for n in needs], certs)
    v_cert = _bitsets([v.certificates for v in volunteers], certs)
    n_lang = _bitsets([n.languages for n in needs], langs)
    v_lang = _bitsets([v.languages for v in volunteers], langs)
    n_act = _bitsets([frozenset({n.activity}) for n in needs], acts)
    v_int = _bitsets([v.interests for v in volunteers], acts)
    n_lang_any = n_lang.any(axis=1)

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    cum = np.cumsum(counts)
    first = 0
    while first < len(counts):
        base = cum[first - 1] if first else 0
        last = int(np.searchsorted(cum, base + _CHUNK_PAIRS, side="right"))
        last = max(last, first + 1)
        c = counts[first:last]
        total = int(c.sum())
        if total:
            win = np.repeat(np.arange(first, last), c)
            offset = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
            n_idx = order[lo[win] + offset]
            v_idx = w_vol_a[win]
            keep = n_end[n_idx] <= w_b_a[win]
            keep &= np.abs(n_lat[n_idx] - v_lat[v_idx]) <= v_max_dlat[v_idx]
            n_idx, v_idx = n_idx[keep], v_idx[keep]
            km = haversine_np(v_lat[v_idx], v_lon[v_idx], n_lat[n_idx], n_lon[n_idx])
            keep = km <= v_max[v_idx]
            keep &= ~(n_req[n_idx] & ~v_cert[v_idx]).any(axis=1)
            keep &= ~n_lang_any[n_idx] | (n_lang[n_idx] & v_lang[v_idx]).any(axis=1)
            parts.append((v_idx[keep], n_idx[keep], km[keep]))
        first = last
    if not parts:
        return empty
    vol = np.concatenate([p[0] for p in parts])
    need = np.concatenate([p[1] for p in parts])
    km = np.concatenate([p[2] for p in parts])
    srt = np.lexsort((need, vol))
    vol, need, km = vol[srt], need[srt], km[srt]
    interest = (n_act[need] & v_int[vol]).any(axis=1)
    return Candidates(vol, need, km, interest)
