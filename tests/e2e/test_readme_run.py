"""Finding 9: the README's `make run` section names what a newcomer may want to set, and `make run` honours it."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.support.mail import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]


def _make_run_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("make run")
    following = re.search(r"^#{2,3} ", readme[start:], re.M)
    return readme[start:start + following.start()] if following else readme[start:]


def test_readme_says_how_to_choose_port_database_and_seller_for_make_run():
    section = _make_run_section()
    for setting in ("PORT=", "HOST=", "DATABASE_URL", "SELLER_LEGAL_NAME", "LEGAL_TEXTS_DIR"):
        assert setting in section, setting


def test_readme_webhooks_section_says_how_to_try_a_local_receiver():
    readme = (ROOT / "README.md").read_text()
    webhooks = readme[readme.index("- **Webhooks**"):readme.index("### Staff pages")]
    assert "WEBHOOK_ALLOW_INSECURE=1" in webhooks and "make run" in webhooks


def test_make_run_serves_on_the_port_given():
    dry_run = subprocess.run(["make", "-n", "run", "PORT=5151", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert "--port 5151" in dry_run and "--host 0.0.0.0" in dry_run


def test_make_run_keeps_a_public_base_url_that_is_set():
    serve = next(line for line in subprocess.run(["make", "-n", "run", "PORT=5151"], cwd=ROOT, capture_output=True,
                                                 text=True, check=True).stdout.splitlines() if " shop serve " in line)
    settings = serve[:serve.index(" .venv/bin/flask ")]
    for public, expected in (("https://shop.example.com", "https://shop.example.com"), ("", "http://127.0.0.1:5151")):
        env = {**os.environ, "PUBLIC_BASE_URL": public}
        seen = subprocess.run(f"{settings} printenv PUBLIC_BASE_URL", shell=True, env=env, capture_output=True,
                              text=True, check=True).stdout.strip()
        assert seen == expected


def _wait_until_listening(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


def test_make_run_on_another_port_puts_problem_types_and_mail_links_on_that_port(tmp_path):
    """`make run PORT=…` without PUBLIC_BASE_URL: the commands make would run, on a fresh SQLite file, answer
    problems whose `type` and send e-mails whose links point at the port served, not at 5000."""
    port, smtp_port = free_port(), free_port()
    plan = subprocess.run(["make", "-n", "run", f"PORT={port}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.splitlines()
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'shop.sqlite3'}", TASK_QUEUE_FILE=str(tmp_path / "tasks.sqlite3"),
               MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port), MAIL_USE_TLS="0",
               MAIL_USE_SSL="0")
    for step in (" db upgrade", " shop seed-demo-if-empty"):
        subprocess.run(next(line for line in plan if line.endswith(step)), shell=True, cwd=ROOT, env=env,
                       check=True, capture_output=True)
    smtp = SmtpServer(smtp_port)
    server = subprocess.Popen(next(line for line in plan if " shop serve " in line), shell=True, cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(port, server)
        problem = requests.get(f"{base}/api/v1/orders", timeout=10)
        assert problem.status_code == 401
        assert problem.json()["type"].startswith(f"{base}/problems/")

        browser = requests.Session()
        form = browser.get(f"{base}/password-reset", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        browser.post(f"{base}/password-reset", data={"csrf_token": token, "email": "buyer@nutrition.example"},
                     timeout=10).raise_for_status()
        # The demo's own history (invoices of orders it shipped) is mailed too: look for the reset among them.
        deadline = time.monotonic() + 30
        while not (resets := [m for _, m in smtp.messages if "/password-reset/" in m]) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert resets, "no reset e-mail was sent"
        links = re.findall(r"https?://[^\s\"<>]+/password-reset/[^\s\"<>]+", resets[0])
        assert links and all(link.startswith(f"{base}/password-reset/") for link in links), links
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        smtp.stop()
