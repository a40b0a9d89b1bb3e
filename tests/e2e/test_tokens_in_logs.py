"""#22 item 4: the token of a password-reset or invitation link is a password for as long as it lives; no log line
(gunicorn's access log, the shop's own JSON line per request, the development server's log) may hold it."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.support.gunicorn import Server, migrated_sqlite, production_env

pytestmark = pytest.mark.slow

TOKEN = "Tk9-live-secret-token_0123456789abcdefXYZ"
LINKS = [f"/password-reset/{TOKEN}", f"/join/{TOKEN}", f"/staff/reset/{TOKEN}", f"/join/{TOKEN}?from=mail"]


def _get(url: str, referer: str) -> int:
    request = urllib.request.Request(url, headers={"Referer": referer})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorns_access_log_and_the_shops_request_log_never_hold_a_link_token(tmp_path):
    env = production_env(DATABASE_URL=migrated_sqlite(tmp_path), LOG_LEVEL="INFO")
    server = Server(env, tmp_path / "gunicorn.log", workers=1,
                    options=("--access-logfile", "-", "--access-logformat", '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s'))
    try:
        server.wait_ready()
        statuses = [_get(server.url + link, referer=server.url + link) for link in LINKS]
    finally:
        server.stop()
    log = server.output()
    assert all(status < 500 for status in statuses), statuses
    assert TOKEN not in log
    assert '"GET /join/[redacted] HTTP/1.1"' in log  # gunicorn's line, its path and Referer redacted
    assert '"path": "/staff/reset/[redacted]"' in log  # the shop's own line per request
