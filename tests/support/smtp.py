"""A real local SMTP server (aiosmtpd) on a free port, keeping what it accepts."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SMTPSink:
    """An aiosmtpd handler: keeps what it accepts; ``reject`` makes it refuse (e.g. "451 ...")."""

    received: list[EmailMessage] = field(default_factory=list)
    reject_rcpt: str | None = None
    reject_data: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.reject_rcpt:
            return self.reject_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.reject_data:
            return self.reject_data
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received]


def start_smtp(sink: SMTPSink) -> Controller:
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def smtp_config(controller: Controller) -> dict[str, Any]:
    return {"SMTP_HOST": controller.hostname, "SMTP_PORT": controller.port}
