"""Volunteer-to-need matching: certified optimal assignment, explanations and local repair.

Pure Python on numpy/scipy; imports nothing from the web app.
"""

from .candidates import explain_infeasible
from .geo import haversine_km
from .repair import fill_vacancy, rank_volunteers
from .solver import solve
from .types import Match, MatchConfig, MatchResult, Need, Volunteer, Weekly

__all__ = [
    "Match",
    "MatchConfig",
    "MatchResult",
    "Need",
    "Volunteer",
    "Weekly",
    "explain_infeasible",
    "fill_vacancy",
    "haversine_km",
    "rank_volunteers",
    "solve",
]
