"""What the two-node test needs: real processes (gunicorn, schedulers) in their own process
groups, a small HTTP client that plays the TLS proxy's part, an SMTP sink that can hold a
message in flight, and the seed data."""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import text
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
FAST_SCHEDULER = Path(__file__).with_name("fast_scheduler.py")

PUBLIC_HOST = "samskab.test"  # what the proxy forwards as X-Forwarded-Host
PASSWORD = "multinode-adgangskode"
# The login check is real; a cheap PBKDF2 hash (werkzeug reads the cost from the stored hash)
# keeps 200 logins from costing 200 × 80 ms of scrypt on a 2-core box.
CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
VOLUNTEERS = 200
SIGNUP_SLOTS = (2, 3, 5, 8)  # four needs, 18 places for 200 volunteers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, check: Callable[[], None]):
    """Poll ``condition`` until truthy (returned); ``check`` raises when a process died."""
    deadline = time.monotonic() + timeout
    while True:
        check()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


# --- processes ------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path
    killed: bool = False  # by the test, on purpose

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return f"--- {self.name} (pid {self.pid}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole process group (gunicorn's workers, a scheduler's threads)."""
        self.killed = True
        if self.alive():
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it if the test process dies without cleaning up (Linux
    PR_SET_PDEATHSIG; gunicorn's workers then follow their dead master)."""
    with suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


class Processes:
    """Starts every process in a new session (its own process group) and kills them all."""

    def __init__(self, logs: Path) -> None:
        self.logs, self.procs = logs, []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        log_path = self.logs / f"{name}.log"
        with log_path.open("w") as log:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def check(self, *procs: Proc) -> None:
        for proc in procs or tuple(self.procs):
            if not proc.alive() and not proc.killed:
                raise RuntimeError(
                    f"{proc.name} exited ({proc.popen.returncode})\n" + self.logs_text()
                )

    def logs_text(self) -> str:
        return "\n".join(p.log_tail() for p in self.procs)

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()


def gunicorn_argv(port: int, workers: int = 2, threads: int = 4) -> list[str]:
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "app:app",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
    ]


def scheduler_argv() -> list[str]:
    return [PYTHON, str(FAST_SCHEDULER)]


# --- HTTP, as the reverse proxy forwards it --------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class Browser:
    """One visitor behind the TLS proxy: keeps its cookies (they are Secure, which a cookie jar
    would not send over the loopback's plain HTTP) and sends the proxy's X-Forwarded-* headers
    with its own client address. Redirects are not followed."""

    def __init__(self, client_ip: str) -> None:
        self.client_ip = client_ip
        self.cookies: dict[str, str] = {}

    def request(
        self, port: int, method: str, path: str, form: dict[str, str] | None = None
    ) -> Reply:
        headers = {
            "Host": f"127.0.0.1:{port}",
            "X-Forwarded-For": self.client_ip,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": PUBLIC_HOST,
            "Accept-Language": "da",
            "Connection": "close",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Flask-WTF checks the Referer on HTTPS requests, as a browser sends it.
            headers["Referer"] = f"https://{PUBLIC_HOST}{path}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            expired = "max-age=0" in cookie.lower() or "expires=thu, 01 jan 1970" in cookie.lower()
            if expired or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return Reply(response.status, response.headers, text)

    def get(self, port: int, path: str) -> Reply:
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, form: dict[str, str]) -> Reply:
        return self.request(port, "POST", path, form)

    @staticmethod
    def csrf(reply: Reply) -> str:
        match = CSRF_RE.search(reply.body)
        assert match, f"no CSRF token in the page (status {reply.status})"
        return match.group(1)

    def login(self, page_port: int, post_port: int, email: str, password: str) -> Reply:
        token = self.csrf(self.get(page_port, "/konto/log-ind"))
        return self.post(
            post_port,
            "/konto/log-ind",
            {"csrf_token": token, "email": email, "password": password},
        )


# --- SMTP ------------------------------------------------------------------------------------


@dataclass
class SMTPSink:
    """An aiosmtpd handler that keeps what it accepts. ``hold_after(n)`` makes it hold the reply
    to the (n+1)-th message from then on: that message is in flight (sent, not accepted) until
    ``release()``, which refuses it (451), so it never counts as received."""

    received: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    hold_at: int | None = None
    seen: int = 0

    def hold_after(self, count: int) -> None:
        with self.lock:
            self.hold_at = self.seen + count + 1
            self.held.clear()
            self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.seen += 1
            hold = self.seen == self.hold_at
        if hold:
            self.held.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
            return "451 Not accepted (held by the test, sender killed)"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(message)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.received]


def start_smtp(sink: SMTPSink) -> Controller:
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


@dataclass
class Cluster:
    app: Flask
    ports: list[int]  # the two web nodes
    procs: Processes
    schedulers: list[Proc]
    sink: SMTPSink
    ids: dict[str, Any]
    redis: Any
    ip_prefix: str  # every client address of this run starts with it
    secret_key: str
    notes: dict[str, Any] = field(default_factory=dict)

    def client_ip(self, n: int) -> str:
        return f"{self.ip_prefix}{n:x}"

    def check(self) -> None:
        self.procs.check()

    def heartbeats(self) -> dict[str, bool]:
        """scheduler instance ("host:pid") → active."""
        from volunteer.extensions import db

        rows = db.session.execute(text("SELECT instance, active FROM scheduler_heartbeats")).all()
        db.session.rollback()
        return {instance: bool(active) for instance, active in rows}

    def scalar(self, sql: str, **params: Any) -> Any:
        from volunteer.extensions import db

        value = db.session.execute(text(sql), params).scalar()
        db.session.rollback()
        return value

    def rows(self, sql: str, **params: Any) -> list[Any]:
        from volunteer.extensions import db

        rows = db.session.execute(text(sql), params).all()
        db.session.rollback()
        return list(rows)


def instance(proc: Proc) -> str:
    import socket

    return f"{socket.gethostname()}:{proc.pid}"


# --- seed data -------------------------------------------------------------------------------


def first_slot(now: datetime) -> tuple[date, dtime, dtime]:
    """A local date and half-hour window starting 2–4 hours from ``now``, within one day (so it
    is due for the 24-hour reminder and a weekly window can describe it)."""
    from volunteer.clock import to_local

    start = to_local(now + timedelta(hours=2)).replace(second=0, microsecond=0)
    if start.hour >= 23:
        start = (start + timedelta(days=1)).replace(hour=0, minute=30)
    end = start + timedelta(minutes=30)
    return start.date(), start.time(), end.time()


def seed(volunteers: int, signup_slots: tuple[int, ...], now: datetime) -> dict[str, Any]:
    """An organisation, volunteers who may take every need (same town, free all week), the
    sign-up needs (weekly, first date within 24 hours, three dates) and a need for the reminder
    test. Runs in the caller's app context. Returns the ids."""
    from sqlalchemy import select

    from volunteer import geo
    from volunteer.clock import local_to_utc
    from volunteer.extensions import db
    from volunteer.models import (
        ActivityType,
        Need,
        NeedStatus,
        Occurrence,
        Organisation,
        Role,
        Schedule,
        User,
        VolunteerProfile,
    )
    from volunteer.volunteers.models import AvailabilityWindow

    place = geo.lookup("7130")
    assert place is not None
    org = Organisation(name="Multinode Forening", kind="association")
    activity = ActivityType(code="spisevenner", name_da="Spisevenner", name_en="Meal friends")
    db.session.add_all([org, activity])
    day, start, end = first_slot(now)

    def need(title: str, slots: int) -> Need:
        n = Need(
            organisation=org,
            activity_type=activity,
            title=title,
            postcode=place.code,
            town=place.town,
            lat=place.lat,
            lon=place.lon,
            schedule=Schedule.WEEKLY,
            weekday=day.weekday(),
            start_time=start,
            end_time=end,
            first_date=day,
            slots=slots,
            status=NeedStatus.OPEN,
            next_starts_at=local_to_utc(day, start),
        )
        for week in range(3):
            on = day + timedelta(days=7 * week)
            n.occurrences.append(
                Occurrence(starts_at=local_to_utc(on, start), ends_at=local_to_utc(on, end))
            )
        db.session.add(n)
        return n

    signup_needs = [need(f"Spiseven {i + 1}", slots) for i, slots in enumerate(signup_slots)]
    reminder_need = need("Besøgsven (påmindelser)", 1000)
    users = []
    for i in range(volunteers):
        user = User(
            email=f"frivillig{i}@multinode.example.org",
            name=f"Frivillig Nummer{i}",
            role=Role.VOLUNTEER,
            password_hash=CHEAP_HASH,
            email_confirmed_at=utcnow(),  # confirmed: a yes is refused before that
        )
        user.profile = VolunteerProfile(
            postcode=place.code,
            town=place.town,
            lat=place.lat,
            lon=place.lon,
            max_km=20,
            weekly_capacity=3,
            availability=[
                AvailabilityWindow(weekday=w, start_time=dtime(0), end_time=dtime(23, 59))
                for w in range(7)
            ],
        )
        users.append(user)
    db.session.add_all(users)
    db.session.commit()
    first_start = local_to_utc(day, start)
    reminder_occurrence = db.session.scalar(
        select(Occurrence.id).where(
            Occurrence.need_id == reminder_need.id, Occurrence.starts_at == first_start
        )
    )
    return {
        "signup_needs": [n.id for n in signup_needs],
        "reminder_need": reminder_need.id,
        "reminder_occurrence": reminder_occurrence,
        "users": [(u.id, u.email) for u in users],
        "first_start": first_start,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)
