"""SMS reminder throughput through the outbox, against a bare HTTP loop, and a SIGKILL mid-batch.

    python bench/sms.py [--visits 10000] [--backends sqlite,postgresql]

Per backend, a fresh database with VISITS scheduled visits in the next 24 hours (one per
volunteer, as bench/reminders.py seeds them), every volunteer on SMS with their own phone number.
The fake gateway (tests/support/sms_gateway.py: real HTTP on 127.0.0.1, GatewayAPI.com style)
runs in its own process. In one run:

* enqueue: the visit_reminders job, writing one fitted GSM SMS per visit to the outbox;
* rerun: the same job again, which must create no message;
* dispatch: dispatch_outbox until the outbox is empty, each SMS POSTed to the gateway through
  the app's HttpGateway (one keep-alive session per batch, short links minted and stored);
* baseline: a bare ``requests`` loop POSTing as many prebuilt payloads of the same size to the
  same gateway over one keep-alive session;
* SIGKILL: a fresh outbox of the same size, dispatched by a separate process that is killed with
  SIGKILL once the gateway has taken a third of the messages; after its claims run out a second
  dispatcher finishes. Counted: SMS the gateway handed on (must equal VISITS: 0 duplicates), POSTs
  that repeated a reference (the SMS in flight when the process died: a provider without
  deduplication on ``userref`` would have sent those twice), and outbox rows not sent.

Prints a table and writes bench/results/sms.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402
from reminders import database_url, seed  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sms.json"
HEADER = ("phase", "messages", "seconds", "msg/s", "× baseline")
TOKEN = "fake-gateway-token"
# Claims run out quickly in the SIGKILL phase, so the second dispatcher need not wait 5 minutes.
KILL_CLAIM_S = 3


class Gateway:
    """The fake gateway in its own process (so it does not share the GIL with the sender)."""

    def __init__(self) -> None:
        from support.sms_gateway import free_port

        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.counters = context.Array("q", 3, lock=False)  # requests, accepted, resubmitted
        self._ready, self._stop = context.Event(), context.Event()
        self.process = context.Process(
            target=_run_gateway,
            args=(self.port, self._ready, self.counters, self._stop),
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> Gateway:
        self.process.start()
        if not self._ready.wait(30):
            self.process.kill()
            raise RuntimeError("the fake gateway did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()

    def counts(self) -> tuple[int, int, int]:
        time.sleep(0.15)  # the gateway publishes its counters every 50 ms
        return self.counters[0], self.counters[1], self.counters[2]


def _run_gateway(port: int, ready: Any, counters: Any, stop: Any) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.sms_gateway import run_forever

    run_forever(port, ready, counters, stop)


def make_app(url: str, gateway: Gateway, **extra: Any) -> Any:
    from volunteer import create_app

    return create_app(
        {
            "SAMSKAB_ENV": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "SITE_URL": "https://samskab.hedensted.example",
            "SMS_URL": gateway.url,
            "SMS_TOKEN": TOKEN,
            **extra,
        }
    )


def seed_texters(app: Any, visits: int, now: datetime) -> dict[str, int]:
    """bench/reminders.py's visits, every volunteer on SMS with a number of their own."""
    from sqlalchemy import String, cast, literal, update

    from volunteer.extensions import db
    from volunteer.models import User

    info = seed(app, visits, now)
    with app.app_context():
        db.session.execute(
            update(User).values(
                contact_channel="sms",
                phone=literal("+45") + cast(20_000_000 + User.id, String),
            )
        )
        db.session.commit()
    return info


def outbox_counts(app: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from volunteer.extensions import db
    from volunteer.models import OutboxMessage

    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage.channel, OutboxMessage.state, func.count()).group_by(
                OutboxMessage.channel, OutboxMessage.state
            )
        ).all()
        return {f"{channel}:{state}": count for channel, state, count in rows}


def dispatch_until_empty(app: Any) -> tuple[int, int]:
    """As the scheduler would: dispatch_outbox again and again until nothing is due."""
    from volunteer.scheduler import run_job

    runs = sent = 0
    while True:
        summary = run_job(app, "dispatch_outbox")
        runs += 1
        sent += summary["sent"]
        if not summary["claimed"] or summary["connection_errors"]:
            return runs, sent


def baseline_payloads(app: Any, count: int) -> list[dict[str, Any]]:
    """Payloads as the app sends them: a real reminder's text with a short link in it."""
    from sqlalchemy import select

    from volunteer.extensions import db
    from volunteer.models import OutboxMessage

    with app.app_context():
        sample = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert sample is not None and sample.channel == "sms"
        text = sample.body_text.replace(
            "[[link:0]]", "https://samskab.hedensted.example/s/a2b3c4d5e6"
        )
    return [
        {
            "sender": "Samskab",
            "message": text,
            "recipients": [{"msisdn": 4530_000_000 + i}],
            "userref": f"baseline-{i}",
        }
        for i in range(count)
    ]


def requests_loop(url: str, payloads: list[dict[str, Any]]) -> float:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {TOKEN}"
    session.trust_env = False  # as HttpGateway: no environment look-ups per request
    started = time.perf_counter()
    for payload in payloads:
        response = session.post(url, json=payload, timeout=10)
        response.raise_for_status()
        response.json()
    elapsed = time.perf_counter() - started
    session.close()
    return elapsed


def kill_mid_batch(backend: str, visits: int) -> dict[str, Any]:
    """A dispatcher SIGKILLed once a third of the SMS are out; a second one finishes."""
    from volunteer.extensions import db
    from volunteer.scheduler import run_job

    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="samskab-bench-sms-kill-") as workdir:
        url = database_url(backend, Path(workdir))
        with Gateway() as gateway:
            app = make_app(url, gateway, OUTBOX_CLAIM_S=KILL_CLAIM_S)
            seed_texters(app, visits, now)
            run_job(app, "visit_reminders", now)
            env = os.environ | {
                "SAMSKAB_BENCH_SMS_DB": url,
                "SAMSKAB_BENCH_SMS_GATEWAY": gateway.url,
            }
            worker = subprocess.Popen(
                [sys.executable, __file__, "--dispatch-worker"], env=env, cwd=ROOT
            )
            target = visits // 3
            deadline = time.monotonic() + 600
            while gateway.counters[1] < target and worker.poll() is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.002)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            _requests, at_kill, _ = gateway.counts()
            after_kill = outbox_counts(app)
            time.sleep(KILL_CLAIM_S + 0.5)  # the dead dispatcher's claims run out
            runs, sent = dispatch_until_empty(app)
            requests_made, accepted, resubmitted = gateway.counts()
            final = outbox_counts(app)
            with app.app_context():
                db.engine.dispose()
    return {
        "visits": visits,
        "accepted_at_kill": at_kill,
        "outbox_after_kill": after_kill,
        "sent_after_restart": sent,
        "restart_dispatch_runs": runs,
        "gateway_requests": requests_made,
        "handed_on_by_gateway": accepted,
        "duplicates": accepted - visits,
        "resubmitted_references": resubmitted,
        "outbox_final": final,
        "not_sent": visits - final.get("sms:sent", 0),
    }


def dispatch_worker() -> None:
    """The process the SIGKILL phase kills: dispatch_outbox in a loop."""
    from volunteer.scheduler import run_job

    url, gateway_url = os.environ["SAMSKAB_BENCH_SMS_DB"], os.environ["SAMSKAB_BENCH_SMS_GATEWAY"]
    from volunteer import create_app

    app = create_app(
        {
            "SAMSKAB_ENV": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "SITE_URL": "https://samskab.hedensted.example",
            "SMS_URL": gateway_url,
            "SMS_TOKEN": TOKEN,
            "OUTBOX_CLAIM_S": KILL_CLAIM_S,
        }
    )
    while run_job(app, "dispatch_outbox")["claimed"]:
        pass


def run_backend(backend: str, visits: int) -> dict[str, Any]:
    from volunteer.extensions import db
    from volunteer.scheduler import run_job

    now = datetime.now(UTC)
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="samskab-bench-sms-") as workdir:
        url = database_url(backend, Path(workdir))
        with Gateway() as gateway:
            app = make_app(url, gateway)
            started = time.perf_counter()
            info = seed_texters(app, visits, now)
            print(f"[{backend}] seeded {visits} visits in {time.perf_counter() - started:.1f} s")

            started = time.perf_counter()
            created = sum(run_job(app, "visit_reminders", now).values())
            enqueue_s = time.perf_counter() - started
            assert created == visits and outbox_counts(app) == {"sms:pending": visits}

            started = time.perf_counter()
            rerun_created = sum(run_job(app, "visit_reminders", now).values())
            rerun_s = time.perf_counter() - started
            assert outbox_counts(app) == {"sms:pending": visits}

            started = time.perf_counter()
            runs, sent = dispatch_until_empty(app)
            dispatch_s = time.perf_counter() - started
            _requests, accepted, _ = gateway.counts()
            assert sent == visits == accepted, (sent, accepted, visits)
            assert outbox_counts(app) == {"sms:sent": visits}
            with app.app_context():
                from sqlalchemy import func, select

                from volunteer.models import OutboxMessage, ShortLink

                short_links = db.session.scalar(select(func.count()).select_from(ShortLink))
                longest = db.session.scalar(select(func.max(func.length(OutboxMessage.body_text))))

            payloads = baseline_payloads(app, visits)
            baseline_s = requests_loop(gateway.url, payloads)
            with app.app_context():
                db.engine.dispose()
    print(f"[{backend}] SIGKILL mid-batch …", flush=True)
    killed = kill_mid_batch(backend, visits)

    rows["baseline: requests loop, 1 keep-alive session"] = {
        "messages": visits,
        "seconds": baseline_s,
    }
    rows["enqueue: visit_reminders (fit GSM SMS)"] = {"messages": created, "seconds": enqueue_s}
    rows["rerun: visit_reminders (exactly-once)"] = {"messages": rerun_created, "seconds": rerun_s}
    rows["dispatch: dispatch_outbox → gateway"] = {"messages": sent, "seconds": dispatch_s}
    base = visits / baseline_s
    for row in rows.values():
        row["msg_per_s"] = row["messages"] / row["seconds"] if row["messages"] else None
        row["vs_baseline"] = row["msg_per_s"] / base if row["msg_per_s"] else None
    return {
        **info,
        "dispatch_runs": runs,
        "outbox_batch_size": app.config["OUTBOX_BATCH_SIZE"],
        "outbox_max_batches_per_run": app.config["OUTBOX_MAX_BATCHES_PER_RUN"],
        "short_links_stored": short_links,
        "longest_stored_text_chars": longest,
        "rerun_created": rerun_created,
        "rows": rows,
        "sigkill": killed,
    }


def print_table(backend: str, result: dict[str, Any]) -> None:
    print(
        f"\n{backend}: {result['visits']} SMS reminders; dispatch in {result['dispatch_runs']} "
        f"runs of ≤{result['outbox_max_batches_per_run']} batches of "
        f"{result['outbox_batch_size']}; {result['short_links_stored']} short links stored"
    )
    print("{:<46} {:>9} {:>9} {:>9} {:>11}".format(*HEADER))
    for name, r in result["rows"].items():
        rate = f"{r['msg_per_s']:.0f}" if r["msg_per_s"] else "–"
        ratio = f"{r['vs_baseline']:.3f}" if r["vs_baseline"] else "–"
        print(f"{name:<46} {r['messages']:>9} {r['seconds']:>9.2f} {rate:>9} {ratio:>11}")
    k = result["sigkill"]
    print(
        f"SIGKILL after {k['accepted_at_kill']} of {k['visits']} SMS; restart sent "
        f"{k['sent_after_restart']}: gateway handed on {k['handed_on_by_gateway']} "
        f"(duplicates {k['duplicates']}), references resubmitted {k['resubmitted_references']}, "
        f"not sent {k['not_sent']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--dispatch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dispatch_worker:
        dispatch_worker()
        return
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        results[backend] = run_backend(backend, args.visits)
        print_table(backend, results[backend])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(),
                "python": sys.version.split()[0],
                "visits": args.visits,
                "results": results,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"\nwritten {RESULTS.relative_to(ROOT)}")
    failed = [
        b for b, r in results.items() if r["sigkill"]["duplicates"] or r["sigkill"]["not_sent"]
    ]
    if failed:
        sys.exit(f"duplicates or unsent SMS after the SIGKILL on {', '.join(failed)}")


if __name__ == "__main__":
    main()
