"""Fault injection for the fault tests: a TCP proxy that can play "the database server stopped"
and a misbehaving SMTP server (accepts and hangs, or drops the line)."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from sqlalchemy.engine import make_url

# The 503 page's Danish title and text (volunteer/errors.py, templates/errors/error.html).
BUSY = "Samskab har travlt lige nu"
TRY_AGAIN = "Prøv igen om lidt"


def assert_busy_page(response) -> None:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[-1500:]
    assert BUSY in html and TRY_AGAIN in html
    assert response.headers["Retry-After"].isdigit()
    assert "Traceback" not in html and "sqlalchemy" not in html.lower()


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed server's kernel answers."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _cut(sock: socket.socket) -> None:
    """End a live socket now; ``shutdown`` also wakes a thread blocked in ``recv`` on it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    _reset(sock)


def _close_listener(listener: socket.socket) -> None:
    """Close a listening socket and wake the thread blocked in ``accept`` on it."""
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


class DatabaseProxy:
    """A TCP proxy in front of a PostgreSQL server, with a switch.

    ``stop()`` is the server going down: every live connection (including the idle ones in the
    app's pool) is cut at once, and new connections are accepted and reset straight away, so
    the client fails fast as against a stopped server ("server closed the connection
    unexpectedly"). ``start()`` lets new connections through again. ``kill_connections()`` cuts
    the live connections but keeps accepting (a network blip, a backend killed by an admin).
    The listening port never changes, so the app's URL stays valid.
    """

    def __init__(self, upstream_url: str) -> None:
        url = make_url(upstream_url)
        self.upstream = (url.host or "127.0.0.1", url.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        self._up = True
        self._closed = False
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self.connections = 0  # upstream connections made through the proxy
        self.refused = 0  # connections reset while stopped
        self._thread = threading.Thread(target=self._accept, name="db-proxy", daemon=True)
        self._thread.start()

    # The switch

    def stop(self) -> None:
        with self._lock:
            self._up = False
        self.kill_connections()

    def start(self) -> None:
        with self._lock:
            self._up = True

    def kill_connections(self) -> None:
        with self._lock:
            live, self._live = self._live, set()
        for sock in live:
            _cut(sock)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.stop()
        _close_listener(self.listener)
        self._thread.join(timeout=5)

    # The plumbing

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                up, closed = self._up, self._closed
            if closed:
                _reset(client)
                return
            if not up:
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if not self._up:  # stopped while connecting
                    _reset(client)
                    _reset(upstream)
                    continue
                self._live.update((client, upstream))
                self.connections += 1
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, target), name="db-proxy-pump", daemon=True
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        with self._lock:
            mine = source in self._live
            self._live.discard(source)
            self._live.discard(target)
        if mine:  # one side ended on its own: end the other (kill_connections did it otherwise)
            _cut(source)
            _cut(target)


class BadSMTPServer:
    """An SMTP server that misbehaves, on a port of its own.

    ``hang``: accepts the connection and never says a word (a stuck server or firewall).
    ``drop``: accepts and closes at once. ``drop_on_mail``: greets, answers EHLO, then hangs up
    when the first message starts (MAIL FROM) — the line breaks during delivery.
    """

    def __init__(self, mode: str, port: int = 0) -> None:
        assert mode in ("hang", "drop", "drop_on_mail")
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, name="bad-smtp", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "drop":
                _reset(conn)
            elif self.mode == "hang":
                self._open.append(conn)  # held open, silent, until close()
            else:
                threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        reply = conn.sendall
        try:
            reply(b"220 bad-smtp ready\r\n")
            for line in conn.makefile("rb"):
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    reply(b"250 bad-smtp\r\n")
                elif verb == b"QUIT":
                    reply(b"221 bye\r\n")
                    break
                else:  # MAIL FROM (or anything else): the line goes dead
                    break
        except OSError:
            pass
        _cut(conn)

    def close(self) -> None:
        _close_listener(self.listener)
        for conn in self._open:
            _cut(conn)
        self._thread.join(timeout=5)
