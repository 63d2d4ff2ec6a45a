"""Value types of the matching contract.

All types are frozen dataclasses that validate themselves on construction, so a malformed
window or a negative capacity is rejected where it is created rather than deep in the solver.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Weekly:
    """A weekly time window in local time; windows never cross midnight."""

    weekday: int
    start: datetime.time
    end: datetime.time

    def __post_init__(self) -> None:
        if not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday!r}")
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} must be after start {self.start}")


@dataclass(frozen=True)
class Volunteer:
    id: str
    lat: float
    lon: float
    max_km: float
    availability: tuple[Weekly, ...]
    capacity: int = 1
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"da"})
    certificates: frozenset[str] = frozenset()
    # As the volunteer declared it ("woman", "man"); "" when they did not say.
    gender: str = ""

    def __post_init__(self) -> None:
        _check_position(self.id, self.lat, self.lon)
        if not self.max_km >= 0:  # also rejects NaN
            raise ValueError(f"volunteer {self.id!r}: max_km must be >= 0")
        if self.capacity < 0:
            raise ValueError(f"volunteer {self.id!r}: capacity must be >= 0")


@dataclass(frozen=True)
class Need:
    id: str
    lat: float
    lon: float
    when: Weekly
    slots: int = 1
    activity: str = ""
    requires: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    # The person's own wish about the volunteer's gender ("" for none). Only when the person
    # asked for it as a requirement (``wish_required``) is it a rule: then only volunteers who
    # declared that gender fit. Otherwise it is a preference and only ranks them.
    wish_gender: str = ""
    wish_required: bool = False

    def __post_init__(self) -> None:
        _check_position(self.id, self.lat, self.lon)
        if self.wish_required and not self.wish_gender:
            raise ValueError(f"need {self.id!r}: a required wish must name a gender")
        if self.slots < 0:
            raise ValueError(f"need {self.id!r}: slots must be >= 0")


@dataclass(frozen=True)
class MatchConfig:
    interest_bonus_km: float = 2.0
    # A volunteer who fits the person's wish that is only a preference counts as this much nearer.
    wish_bonus_km: float = 1.0
    continuity_bonus_km: float = 50.0
    time_limit_s: float = 30.0


DEFAULT_CONFIG = MatchConfig()


@dataclass(frozen=True)
class Match:
    volunteer_id: str
    need_id: str
    km: float
    reasons: tuple[str, ...]
    # Machine-readable twin of `reasons` so the web app can translate them; dicts are not
    # hashable, hence excluded from the hash.
    reason_codes: tuple[tuple[str, dict[str, Any]], ...] = field(default=(), hash=False)


@dataclass(frozen=True)
class MatchResult:
    matches: tuple[Match, ...]
    unfilled: Mapping[str, int]
    status: str
    gap: float
    stats: Mapping[str, float]


def _check_position(ident: str, lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90:
        raise ValueError(f"{ident!r}: invalid position ({lat}, {lon})")
