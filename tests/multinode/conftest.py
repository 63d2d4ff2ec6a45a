"""The two-node cluster on loopback: two gunicorn web nodes and two schedulers on one
PostgreSQL database (a fresh schema of its own) with the rate-limit counters in Redis, in the
production shape (SAMSKAB_ENV=production, one shared secret key, behind one TLS proxy hop).

Needs SAMSKAB_TEST_DATABASE_URL and SAMSKAB_TEST_REDIS_URL (CI sets both). Without them the
tests are skipped with the reason, unless SAMSKAB_REQUIRE_E2E=1 (CI) or
SAMSKAB_REQUIRE_MULTINODE=1 is set: then a missing PostgreSQL or Redis is a failure.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import pytest
from multinode_support import (
    SIGNUP_SLOTS,
    VOLUNTEERS,
    Cluster,
    Processes,
    SMTPSink,
    free_port,
    gunicorn_argv,
    instance,
    scheduler_argv,
    seed,
    start_smtp,
    utcnow,
    wait_for,
)
from sqlalchemy import text

from support import drop_pg_schema, ensure_pg_schema, pg_url_with_schema
from volunteer import create_app
from volunteer.extensions import db

PG_URL = os.environ.get("SAMSKAB_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("SAMSKAB_TEST_REDIS_URL")
REQUIRED = "1" in (
    os.environ.get("SAMSKAB_REQUIRE_E2E"),
    os.environ.get("SAMSKAB_REQUIRE_MULTINODE"),
)

SECRET_KEY = "multinode-" + secrets.token_urlsafe(32)  # shared by every node
START_TIMEOUT_S = 45
STANDBY_POLL_S = 1


def _missing() -> str | None:
    if not PG_URL:
        return "set SAMSKAB_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)"
    if not REDIS_URL:
        return "set SAMSKAB_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
    try:
        from sqlalchemy import create_engine

        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at SAMSKAB_TEST_DATABASE_URL is not reachable: {exc}"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        return f"Redis at SAMSKAB_TEST_REDIS_URL is not reachable: {exc}"
    return None


@pytest.fixture(scope="module")
def requirements() -> None:
    reason = _missing()
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(
            f"two-node tests required (SAMSKAB_REQUIRE_E2E/SAMSKAB_REQUIRE_MULTINODE=1): {reason}",
            pytrace=False,
        )
    pytest.skip(f"two-node tests skipped: {reason}")


@pytest.fixture(scope="module")
def cluster(requirements: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import redis

    assert PG_URL and REDIS_URL
    started = time.monotonic()
    logs = tmp_path_factory.mktemp("multinode")
    schema = f"samskab_multinode_{os.getpid()}"
    ensure_pg_schema(PG_URL, schema, fresh=True)
    url = pg_url_with_schema(PG_URL, schema)
    app = create_app(
        {"SAMSKAB_ENV": "testing", "SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url}
    )
    context = app.app_context()
    context.push()
    procs = Processes(logs)
    sink = SMTPSink()
    controller = None
    store = redis.Redis.from_url(REDIS_URL)
    # IPv6 documentation addresses, random per run: this run's rate-limit counters are its own.
    ip_prefix = f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::"
    try:
        db.create_all()
        ids = seed(VOLUNTEERS, SIGNUP_SLOTS, utcnow())
        controller = start_smtp(sink)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSKAB_")}
        env.update(
            SAMSKAB_ENV="production",
            SAMSKAB_SECRET_KEY=SECRET_KEY,
            SAMSKAB_DATABASE_URL=url,
            SAMSKAB_RATELIMIT_STORAGE_URI=REDIS_URL,
            SAMSKAB_PROXY_HOPS="1",
            SAMSKAB_SITE_URL="https://samskab.test",
            SAMSKAB_SMTP_HOST=controller.hostname,
            SAMSKAB_SMTP_PORT=str(controller.port),
            SAMSKAB_SCHEDULER_STANDBY_POLL_S=str(STANDBY_POLL_S),
            PYTHONUNBUFFERED="1",
        )
        ports = [free_port(), free_port()]
        nodes = [
            procs.start(f"web-{name}", gunicorn_argv(port), env)
            for name, port in zip("ab", ports, strict=True)
        ]
        first = procs.start("scheduler-1", scheduler_argv(), env)
        cluster = Cluster(app, ports, procs, [first], sink, ids, store, ip_prefix, SECRET_KEY)
        wait_for(
            lambda: cluster.heartbeats().get(instance(first)) is True,
            START_TIMEOUT_S,
            "the first scheduler becomes active",
            cluster.check,
        )
        second = procs.start("scheduler-2", scheduler_argv(), env)
        cluster.schedulers.append(second)
        wait_for(
            lambda: cluster.heartbeats().get(instance(second)) is False,
            START_TIMEOUT_S,
            "the second scheduler stands by",
            cluster.check,
        )
        for node, port in zip(nodes, ports, strict=True):
            wait_for(lambda p=port: _healthy(p), START_TIMEOUT_S, node.name, cluster.check)
        cluster.notes["startup_s"] = round(time.monotonic() - started, 1)
        yield cluster
    except BaseException:
        print(procs.logs_text())
        raise
    finally:
        procs.close()
        if controller is not None:
            controller.stop()
        for key in store.scan_iter(match=f"*{ip_prefix}*", count=1000):
            store.delete(key)
        store.close()
        db.session.remove()
        db.engine.dispose()
        context.pop()
        drop_pg_schema(PG_URL, schema)


def _healthy(port: int) -> bool:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()
