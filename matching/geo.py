"""Great-circle distances."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088
# Slack for "distance <= max_km": a need placed exactly at the limit must not be lost to the
# last bit of floating-point rounding. One micrometre is far below any meaningful distance.
DISTANCE_SLACK_KM = 1e-9


def haversine_np(lat1, lon1, lat2, lon2):
    """Vectorised haversine distance in km; arguments broadcast like numpy arrays."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.subtract(lon2, lon1))
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (R = 6371.0088 km).

    Shares the vectorised code path with candidate generation so that a pair placed exactly at
    a volunteer's max_km is judged identically here and in `solve`.
    """
    return float(haversine_np(np.array([lat1]), np.array([lon1]), lat2, lon2)[0])
