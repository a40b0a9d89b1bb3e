"""A small closed-loop HTTP/1.1 load generator: non-blocking sockets and one selector, standard library only.

`connections` clients each send one request, read the whole answer, and send the next, for
`duration` seconds. Every request opens a new TCP connection with `Connection: close`: gunicorn's
sync workers close after each answer anyway, so both apps see exactly the same traffic pattern.
The same code, connections and duration drive the shop and the bare reference, so whatever the
generator costs in CPU, it costs both sides alike per request. It is a plain selector loop rather
than asyncio streams because it costs about half the CPU per request (~130 us instead of ~290 us
on the bench machine), CPU that the apps under test would otherwise lose.
"""
from __future__ import annotations

import errno
import os
import selectors
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# (method, path, extra headers, body) for the n-th request of the run
RequestFactory = Callable[[int], tuple[str, str, dict[str, str], bytes]]


@dataclass
class LoadResult:
    label: str
    duration: float
    ok_status: int
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    late: Counter = field(default_factory=Counter)  # statuses of answers that came after the bell (not counted)
    sample_failure: str = ""
    cpu: float = 0.0  # CPU seconds the generator itself used
    cpu_used: dict[str, float] = field(default_factory=dict)  # filled in by the caller: the server's CPU

    @property
    def ok(self) -> int:
        return self.statuses.get(self.ok_status, 0)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def rate(self) -> float:
        """Successful requests (the expected status only) per second."""
        return self.ok / self.duration if self.duration > 0 else 0.0

    @property
    def failures(self) -> dict[str, int]:
        out = {str(code): n for code, n in sorted(self.statuses.items()) if code != self.ok_status}
        out.update(self.errors)
        return out

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]


def _encode(host: str, port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             "User-Agent: leucine-bench/1"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _parse(data: bytes) -> tuple[int, bytes]:
    if not data.startswith(b"HTTP/1."):
        raise ValueError("no HTTP status line")
    _, _, body = data.partition(b"\r\n\r\n")
    return int(data[9:12]), body


class _Conn:
    __slots__ = ("sock", "out", "chunks", "t0")

    def __init__(self, addr: tuple[str, int], raw: bytes) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.out = memoryview(raw)
        self.chunks: list[bytes] = []
        self.t0 = time.perf_counter()
        err = self.sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            self.sock.close()
            raise ConnectionRefusedError(err, os.strerror(err))


def run_load(label: str, host: str, port: int, make_request: RequestFactory, *, connections: int,
             duration: float, ok_status: int = 200, timeout: float = 30.0) -> LoadResult:
    """Drive `connections` concurrent clients for `duration` seconds; count answers by status.

    Answers that arrive after the bell are neither counted nor timed (their statuses go to `late`).
    """
    result = LoadResult(label=label, duration=duration, ok_status=ok_status)
    addr = (host, port)
    sel = selectors.DefaultSelector()
    n = 0
    cpu0 = time.process_time()
    start = time.perf_counter()
    deadline = start + duration

    def open_next() -> None:
        nonlocal n
        while time.perf_counter() < deadline:
            method, path, headers, body = make_request(n)
            n += 1
            try:
                conn = _Conn(addr, _encode(host, port, method, path, headers, body))
            except OSError as exc:
                result.errors[type(exc).__name__] += 1
                time.sleep(0.01)  # do not spin on a refused port
                continue
            sel.register(conn.sock, selectors.EVENT_WRITE, conn)
            return

    def finish(conn: _Conn, error: str | None) -> None:
        sel.unregister(conn.sock)
        conn.sock.close()
        t1 = time.perf_counter()
        if error is None:
            try:
                status, payload = _parse(b"".join(conn.chunks))
            except ValueError:
                error = "ValueError"
        if error is not None:
            if t1 <= deadline:
                result.errors[error] += 1
        elif t1 > deadline:
            result.late[status] += 1
        else:
            result.statuses[status] += 1
            if status == ok_status:
                result.latencies.append(t1 - conn.t0)
            elif not result.sample_failure:
                result.sample_failure = f"{status}: {payload[:300].decode('utf-8', 'replace')}"
        open_next()

    try:
        for _ in range(connections):
            open_next()
        while sel.get_map():
            for key, events in sel.select(0.25):
                conn: _Conn = key.data
                try:
                    if events & selectors.EVENT_WRITE:
                        err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            raise ConnectionError(err, os.strerror(err))
                        sent = conn.sock.send(conn.out)
                        conn.out = conn.out[sent:]
                        if not conn.out:
                            sel.modify(conn.sock, selectors.EVENT_READ, conn)
                    else:
                        data = conn.sock.recv(65536)
                        if data:
                            conn.chunks.append(data)
                        else:
                            finish(conn, None)  # the server closed: the answer is complete
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    finish(conn, type(exc).__name__)
            now = time.perf_counter()
            for key in list(sel.get_map().values()):
                if now - key.data.t0 > timeout:
                    finish(key.data, "timeout")
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    result.duration = min(time.perf_counter(), deadline) - start
    result.cpu = time.process_time() - cpu0
    return result


def request_once(host: str, port: int, method: str, path: str, headers: dict[str, str] | None = None,
                 body: bytes = b"", timeout: float = 5.0) -> tuple[int, bytes]:
    """One request on a blocking socket, for readiness probes and smoke checks."""
    raw = _encode(host, port, method, path, headers or {}, body)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return _parse(b"".join(chunks))
