"""A redis-server of the test's own, on a free port, that the test can hang (SIGSTOP) and wake (SIGCONT): never
the shared one. Skipped when redis-server is not installed, unless SHOP_REQUIRE_REDIS=1 (CI) makes that a failure."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from tests.support.mail import free_port


class RedisServer:
    def __init__(self, folder) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(folder)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise AssertionError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.05)
        client.close()

    def hang(self) -> None:
        """Freeze the server: connections are accepted by the kernel, nothing is ever answered."""
        self.proc.send_signal(signal.SIGSTOP)

    def wake(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.wake()
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if os.environ.get("SHOP_REQUIRE_REDIS") == "1":
            pytest.fail("SHOP_REQUIRE_REDIS=1 but redis-server is not installed")
        pytest.skip("needs redis-server (a server of the test's own, to hang)")
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def timed(call: Callable[[], Any], give_up_after: float = 10) -> tuple[Any, float]:
    """`call()`'s result and how many seconds it took; fails (rather than hang the suite) when it takes longer than
    `give_up_after` (the call goes on in its thread until the server it waits for is woken)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.perf_counter()
        outcome["result"] = call()
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(give_up_after)
    assert "seconds" in outcome, f"still waiting after {give_up_after} s"
    return outcome["result"], outcome["seconds"]
