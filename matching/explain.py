"""Human-readable and translatable reasons for a match."""

from __future__ import annotations

from typing import Any

from .candidates import containing_window
from .types import WEEKDAYS, Match, Need, Volunteer

_US_PER_MINUTE = 60_000_000
_MINUTES_PER_DAY = 1440


def _clock(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def make_match(
    volunteer: Volunteer,
    need: Need,
    km: float,
    interest: bool,
    continuing: bool,
    *,
    wish: bool = False,
) -> Match:
    codes: list[tuple[str, dict[str, Any]]] = [("distance", {"km": round(km, 1)})]
    texts = [f"{km:.1f} km away"]
    window = containing_window(volunteer, need)
    if window is not None:
        day = window[0] // (_US_PER_MINUTE * _MINUTES_PER_DAY)
        # Round the end up so a window ending at 23:59:59.999999 reads as ending at 24:00.
        a = window[0] // _US_PER_MINUTE - day * _MINUTES_PER_DAY
        b = -(-window[1] // _US_PER_MINUTE) - day * _MINUTES_PER_DAY
        start, end = _clock(a), _clock(b)
        codes.append(("free", {"weekday": day, "start": start, "end": end}))
        texts.append(f"free {WEEKDAYS[day]} {start}\u2013{end}")
    if interest:
        codes.append(("interest", {"activity": need.activity}))
        texts.append(f"likes {need.activity}")
    if need.languages:
        shared = sorted(need.languages & volunteer.languages)
        codes.append(("language", {"languages": shared}))
        texts.append(f"speaks {', '.join(shared)}")
    if need.requires:
        certs = sorted(need.requires)
        codes.append(("certificate", {"certificates": certs}))
        texts.append(f"has {', '.join(certs)} certificate")
    if wish:
        codes.append(("wish", {"gender": need.wish_gender, "required": need.wish_required}))
        verb = "asked for" if need.wish_required else "prefers"
        texts.append(f"the person {verb} a {need.wish_gender}")
    if continuing:
        codes.append(("continuity", {}))
        texts.append("already matched")
    return Match(volunteer.id, need.id, km, tuple(texts), tuple(codes))
