"""Local repair: refill one vacated slot without re-solving the whole instance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .candidates import containing_window, explain_infeasible, week_span
from .explain import make_match
from .geo import DISTANCE_SLACK_KM, haversine_km, haversine_np
from .types import DEFAULT_CONFIG, Match, MatchConfig, Need, Volunteer


def fill_vacancy(
    volunteers: Sequence[Volunteer],
    needs: Sequence[Need],
    current_pairs: Iterable[tuple[str, str]],
    need_id: str,
    *,
    config: MatchConfig = DEFAULT_CONFIG,
) -> Match | None:
    """The best free volunteer for one open slot of `need_id`, or None.

    "Free" means: the pair is feasible, the volunteer is below capacity, is not already on this
    need and has no current need overlapping in time. Among those the least cost wins
    (km minus the interest bonus; ties by volunteer id). Nobody else is moved, so this is a
    quick fix between full re-solves, not an optimum.
    """
    need = next((n for n in needs if n.id == need_id), None)
    if need is None:
        raise ValueError(f"unknown need id {need_id!r}")
    pairs = list(current_pairs)
    if sum(1 for _, nid in pairs if nid == need_id) >= need.slots:
        return None
    lat = np.fromiter((v.lat for v in volunteers), float, len(volunteers))
    lon = np.fromiter((v.lon for v in volunteers), float, len(volunteers))
    reach = np.fromiter((v.max_km for v in volunteers), float, len(volunteers))
    km = haversine_np(lat, lon, need.lat, need.lon)
    near = np.flatnonzero(km <= reach + DISTANCE_SLACK_KM)
    if len(near) == 0:
        return None

    spans = {n.id: week_span(n.when) for n in needs}
    busy: dict[str, list[tuple[int, int]]] = {}
    for vid, nid in pairs:
        if nid in spans:
            busy.setdefault(vid, []).append(spans[nid])
    s, e = spans[need_id]
    best: tuple[float, str, int, bool] | None = None
    for i in near:
        v = volunteers[i]
        load = busy.get(v.id, [])
        # A volunteer already on this need overlaps it in time, so the overlap test covers that.
        if len(load) >= v.capacity or any(a < e and s < b for a, b in load):
            continue
        if not need.requires <= v.certificates:
            continue
        if need.languages and not need.languages & v.languages:
            continue
        if containing_window(v, need) is None:
            continue
        interest = need.activity in v.interests
        cost = float(km[i]) - config.interest_bonus_km * interest
        if best is None or (cost, v.id) < best[:2]:
            best = (cost, v.id, int(i), interest)
    if best is None:
        return None
    i = best[2]
    return make_match(volunteers[i], need, float(km[i]), best[3], False)


def rank_volunteers(
    volunteers: Sequence[Volunteer],
    need: Need,
    *,
    limit: int = 5,
    config: MatchConfig = DEFAULT_CONFIG,
) -> list[Match]:
    """The best ``limit`` volunteers for one need on their own (a person waiting for a
    long-term volunteer), each with the reasons: only feasible pairs (free at the time, within
    reach, certificates, a shared language when the need names languages), the least cost
    first (km minus the interest bonus; ties by volunteer id). Capacity and the volunteers'
    other commitments are the caller's to check: the engine does not know them here.

    The person's wish about the volunteer's gender: asked for as a requirement
    (``need.wish_required``), only volunteers who declared that gender are ranked (one who did
    not say is left out); otherwise it is a preference, never a filter, and a volunteer who fits
    it counts as ``config.wish_bonus_km`` nearer. Either way a volunteer who fits it has the
    reason ``wish``."""
    ranked: list[tuple[float, str, Match]] = []
    for v in volunteers:
        fits_wish = bool(need.wish_gender) and v.gender == need.wish_gender
        if need.wish_required and not fits_wish:
            continue
        if explain_infeasible(v, need):
            continue
        km = haversine_km(v.lat, v.lon, need.lat, need.lon)
        interest = need.activity in v.interests
        cost = km - config.interest_bonus_km * interest
        if not need.wish_required:
            cost -= config.wish_bonus_km * fits_wish
        ranked.append((cost, v.id, make_match(v, need, km, interest, False, wish=fits_wish)))
    ranked.sort(key=lambda row: row[:2])
    return [match for _, _, match in ranked[:limit]]
