"""#22 item 6: a full disk under PROMETHEUS_MULTIPROC_DIR costs the metrics, not the shop. prometheus_client's
multiprocess mode writes its counts through memory-mapped files, and a mapped page that the disk cannot hold kills
the worker (SIGBUS): gunicorn restarted workers that died on their first request, and no request was answered."""
from __future__ import annotations

import errno
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.gunicorn import Server, migrated_sqlite, production_env

pytestmark = pytest.mark.slow


@pytest.fixture
def full_disk(tmp_path) -> Path:
    """A 1 MB tmpfs mounted for this test, filled to the last byte (needs root; skipped where mounting is refused)."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with (folder / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_full_metrics_disk_leaves_the_shop_answering_and_metrics_say_they_are_unavailable(tmp_path, full_disk):
    env = production_env(DATABASE_URL=migrated_sqlite(tmp_path), PROMETHEUS_MULTIPROC_DIR=str(full_disk))
    server = Server(env, tmp_path / "gunicorn.log", workers=2)
    try:
        server.wait_ready(timeout=30)
        answers = [_get(server.url + path)[0] for path in ("/", "/healthz", "/readyz", "/sign-in") * 5]
        metrics = _get(server.url + "/metrics")
    finally:
        server.stop()
    assert set(answers) == {200}, answers
    assert metrics[0] == 503 and "metrics are unavailable" in metrics[1]
    log = server.output()
    assert "SIGBUS" not in log and "PROMETHEUS_MULTIPROC_DIR" in log  # the warning names the setting
