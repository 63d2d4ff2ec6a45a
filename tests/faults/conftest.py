"""The fault tests reuse the job tests' SMTP sink (tests/jobs/jobs_support.py). tests/jobs is
not a package: put it on the path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jobs"))
