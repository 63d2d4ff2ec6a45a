"""Fixtures for the job tests: a real local SMTP server (aiosmtpd) on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from jobs_support import SMTPSink, smtp_config, start_smtp


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPSink]:
    """An SMTP server that accepts everything; the app is configured to deliver to it."""
    sink = SMTPSink()
    controller = start_smtp(sink)
    app.config.update(smtp_config(controller))
    yield sink
    controller.stop()
