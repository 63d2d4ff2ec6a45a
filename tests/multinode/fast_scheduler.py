"""`flask --app app scheduler run`, with two waits shortened so the two-node test takes seconds.

    python tests/multinode/fast_scheduler.py      (cwd: the project root; env: SAMSKAB_*)

Everything else is the production command: the same CLI, lock (PostgreSQL advisory lock),
standby loop, jobs and SMTP delivery. Only these differ, because the app has no setting for them:

* ``dispatch_outbox`` and ``visit_reminders`` run every MULTINODE_JOB_INTERVAL_S seconds
  (default 1) instead of every 30 s and 5 min (``volunteer.scheduler.JOBS``);
* the outbox claim lease OUTBOX_CLAIM_S is MULTINODE_OUTBOX_CLAIM_S seconds (default 5) instead
  of 300, so the rows a killed leader had claimed become claimable again within the test.

The standby poll needs no patch: SAMSKAB_SCHEDULER_STANDBY_POLL_S sets it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

# The checkout this file is in, before any installed copy (as gunicorn's cwd is for the nodes).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apscheduler.triggers.interval import IntervalTrigger  # noqa: E402

from volunteer import config, scheduler  # noqa: E402
from volunteer.clock import LOCAL_TZ  # noqa: E402

FAST_JOBS = ("dispatch_outbox", "visit_reminders")


def patch() -> None:
    interval = float(os.environ.get("MULTINODE_JOB_INTERVAL_S", "1"))
    for job_id in FAST_JOBS:
        scheduler.JOBS[job_id] = dataclasses.replace(
            scheduler.JOBS[job_id],
            trigger=lambda: IntervalTrigger(seconds=interval, timezone=LOCAL_TZ),
        )
    # Read by create_app() when `flask --app app` imports app.py below.
    config.DEFAULTS["OUTBOX_CLAIM_S"] = int(os.environ.get("MULTINODE_OUTBOX_CLAIM_S", "5"))


def main() -> None:
    patch()
    from flask.cli import main as flask_main

    sys.argv = ["flask", "--app", "app", "scheduler", "run"]
    flask_main()


if __name__ == "__main__":
    main()
