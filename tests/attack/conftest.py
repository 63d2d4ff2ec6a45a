"""The attack tests reuse the authorisation matrix's world and route table (tests/web), so a new
route is attacked as soon as it has a row there. tests/web is not a package: put it on the path,
and offer its ``world`` fixture to every test here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))

from test_authorization_matrix import world  # noqa: E402, F401  (the fixture)
