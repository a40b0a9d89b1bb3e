"""Helpers for the event tests: a real local webhook receiver, a worker in this process, and the ids of events."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask

from shop.platform.extensions import db
from shop.platform.queue import task_queue


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))  # when the request arrived

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on a free local port that records every POST and answers the given statuses in turn
    (then 200)."""

    def __init__(self, statuses: list[int] | None = None, *, hold_first: bool = False,
                 answer_after: float = 0.0) -> None:
        self.received: list[Received] = []
        self.statuses = list(statuses or [])
        self.answer_after = answer_after  # seconds each answer takes (a slow receiver)
        # With hold_first, the first request gets no answer until `release` is set (a delivery in flight).
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                receiver.received.append(Received(dict(self.headers.items()), body))
                if len(receiver.received) == 1:
                    receiver.release.wait(15)
                time.sleep(receiver.answer_after)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver says no")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/leucine"

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def run_worker(until: Callable[[], bool], *, workers: int = 2, timeout: float = 15, settle: float = 0.3) -> None:
    """Run a worker (threads of this process) until `until()` holds, then `settle` seconds more (so that a
    duplicate would show), and stop it."""
    db.session.remove()  # SQLite: the test's own transaction must not hold the write lock meanwhile
    consumer = task_queue().worker(workers, periodic=False, keep_signals=True)
    try:
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise AssertionError("the worker did not get there in time")
            time.sleep(0.02)
        time.sleep(settle)
    finally:
        consumer.stop(graceful=True)


def app_with_local_receivers(make_app) -> Iterator[Flask]:
    """The app with its context pushed, whose webhook endpoints may be on this machine (WEBHOOK_ALLOW_INSECURE),
    for a test module's `app` fixture (`yield from app_with_local_receivers(make_app)`)."""
    app = make_app(WEBHOOK_ALLOW_INSECURE=True)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on this machine that answers 200, closed after the test."""
    receiver = Receiver()
    yield receiver
    receiver.close()
