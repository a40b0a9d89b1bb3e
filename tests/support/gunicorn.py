"""A real gunicorn serving wsgi:app from the repository, as production runs it (reading gunicorn.conf.py), on a
free port, in a process group of its own that the test stops; its output goes to a log file the test can read."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from flask_migrate import upgrade

from shop import create_app
from shop.platform.extensions import db
from tests.conftest import _test_config
from tests.support.mail import free_port

ROOT = Path(__file__).resolve().parents[2]


def migrated_sqlite(folder: Path, *setup) -> str:
    """The URL of a fresh SQLite database in `folder` at the latest migration, after running each of `setup`
    (e.g. make_customer) in an app context."""
    url = f"sqlite:///{folder / 'shop.sqlite3'}"
    app = create_app(_test_config(url))
    with app.app_context():
        upgrade()
        for step in setup:
            step()
        db.session.remove()
        db.engine.dispose()
    return url


def production_env(**settings: str) -> dict[str, str]:
    """This process's environment without the shop's own settings, plus `settings`: a production server that
    sends no e-mail (MAIL_BACKEND=dummy) unless `settings` say otherwise."""
    kept = {k: v for k, v in os.environ.items()
            if not k.startswith(("RATELIMIT_", "PROMETHEUS_", "MAIL_", "METRICS_")) and k not in ("SHOP_ENV",
                                                                                             "REDIS_URL")}
    return {**kept, "SECRET_KEY": "shared-test-secret", "MAIL_BACKEND": "dummy", **settings}


class Server:
    """One gunicorn (`workers` sync workers) started with `env` and any further command-line `options`."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2, options: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             *options, "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"gunicorn on {self.url} did not get ready in {timeout} s; see {self.log.name}")

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # this test's own gunicorn: its master and workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()
