"""Helpers for the e-mail tests: a real SMTP server, a closed local port (a server that is not there), what the
locmem backend kept, and the workers' part: queued tasks run, lost, and the periodic jobs of every minute."""
from __future__ import annotations

import logging
import socket
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from flask import current_app

from shop.platform.extensions import db
from shop.platform.queue import task_queue

# A minute at which only the every-minute jobs are due (the sweeps), none of the hourly or daily ones.
EVERY_MINUTE = datetime(2026, 1, 1, 0, 1)

# aiosmtpd logs a line for each connection from its own thread, and may do so after pytest has closed the test's
# captured stderr ("--- Logging error --- ValueError: I/O operation on closed file" in the CI output); the tests read
# what the server received, not its chatter, so only its warnings and errors are kept.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    """A local port that nothing listens on (until a test starts a server there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """A real SMTP server (aiosmtpd) on `port`, keeping what it accepts; while `refusing`, it answers DATA with
    451 (try again later), as a server that is busy or greylisting does."""

    def __init__(self, port: int, *, refusing: bool = False) -> None:
        self.port = port
        self.refusing = refusing
        self.messages: list[tuple[list[str], str]] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refusing:
            return "451 4.3.0 Try again later"
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives, stopped after the test."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


def outbox_mail() -> list:
    """The messages sent through Flask-Mailman's locmem backend (the tests' default)."""
    return getattr(current_app.extensions["mailman"], "outbox", None) or []


def run_periodic_jobs() -> int:
    """What a worker's scheduler does once a minute: run every periodic job due (the sweeps); how many ran."""
    db.session.commit()
    huey = task_queue().huey
    due = huey.read_periodic(EVERY_MINUTE)
    for job in due:
        huey.execute(job)
    return len(due)


def drain() -> None:
    """What the workers would do: every queued task, and every task those queue, in turn."""
    db.session.commit()
    task_queue().run_pending()
    db.session.expire_all()  # the tasks changed rows this session holds


def lose_queued_tasks() -> int:
    """Take every queued task off the queue and run none (a worker killed right after taking them)."""
    db.session.commit()
    huey, lost = task_queue().huey, 0
    while huey.dequeue() is not None:
        lost += 1
    return lost
