"""Danish postcodes → town, kommune and an approximate point; great-circle distances.

The table is GeoNames' postal-code data (CC BY 4.0, geonames.org), shipped with the app so
nothing is looked up over the network.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from matching import haversine_km

POSTCODE_FILE = Path(__file__).parent / "data" / "dk-postcodes.csv"


@dataclass(frozen=True)
class Postcode:
    code: str
    town: str
    kommune: str
    kommune_code: str
    lat: float
    lon: float


@cache
def postcodes() -> dict[str, Postcode]:
    """All Danish postcodes, keyed by the four-digit code (read once per process)."""
    with POSTCODE_FILE.open(encoding="utf-8", newline="") as fh:
        return {
            row["zipcode"]: Postcode(
                code=row["zipcode"],
                town=row["place"],
                kommune=row["province"],
                kommune_code=row["province_code"],
                lat=float(row["latitude"]),
                lon=float(row["longitude"]),
            )
            for row in csv.DictReader(fh)
        }


def normalise_postcode(text: str) -> str:
    """'DK-7130 ' → '7130'; anything else comes back stripped, for the validator to judge."""
    text = text.strip().upper()
    return text.removeprefix("DK-").removeprefix("DK").strip()


def lookup(code: str) -> Postcode | None:
    """The postcode's town and point, or None when there is no such Danish postcode."""
    return postcodes().get(normalise_postcode(code))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km, computed exactly as the matching engine does, so a page that
    says "within reach" and the matching always agree."""
    return haversine_km(lat1, lon1, lat2, lon2)
