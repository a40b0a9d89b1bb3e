"""No input produces a 500 or a traceback: every route of the URL map, as the signed-in admin on /staff, the
signed-in customer on the pages and the API key on /api/v1, given hostile values in every path argument, every
query (GET) and form (POST) key it reads, each leaf of the API's JSON bodies and the Idempotency-Key (the walk:
tests/support/sweep.py). The values are the two security probes' (#11, #22): out-of-range numbers, far dates,
damaged and deeply nested cursors, blanks, NUL, CR/LF, right-to-left text, SQL and HTML, a 6to4 URL. Nothing may be
logged with a traceback either: an error the shop answered well still means a bug behind it."""
from __future__ import annotations

import base64
import logging

import pytest

from tests.support.sweep import cursor_of, walk

FAR = "9999-12-31T23:59:59+00:00"
FIRST_PROBE = [
    "99999999999999999999999999",  # beyond 64 bits
    "2147483648", "-2147483649",  # just beyond a 32-bit column
    "9999-12-31", "0001-01-01",
    "x" * 5000,
    "true", "1e999",
    # cursors of the API's lists, the staff lists and My orders, holding ids and dates no column can
    cursor_of("orders", FAR, 2**70), cursor_of("products", 2**70, True), cursor_of(FAR, 2**70), cursor_of(FAR, True),
    f"{FAR}_{'9' * 30}",
]
SECOND_PROBE = [
    base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("="),  # a cursor nested deeper than JSON decoding recurses
    "[" * 1500,
    " ",  # blank once stripped: ?status=%20
    "a\x00b",  # NUL, which no PostgreSQL text column holds
    "é" * 3000,  # long, and twice as many bytes in UTF-8
    "1,500", "-1",
    "\u202eL-REL\u202c",  # right-to-left override
    "ok\r\nSet-Cookie: x=1",  # CR/LF: header and e-mail subject injection
    "' OR '1'='1",
    "<script>alert(1)</script>",
    "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
]
# A JSON value in place of a field of the API's bodies: numbers the parser must bound, the same as strings, text
# no column stores, nesting deeper than the API's bound.
BAD_JSON = ["1" + "0" * 4300, "1e999", "-1e999", "2147483648", "-1", "1.5", "true", "null", "{}",
            '"' + "x" * 5000 + '"', '" "', '"a\\u0000b"', '"\\ud800"', '"ok\\r\\nBcc: x@example.com"',
            '"https://[2002:7f00:1::1]/hook"', "[" * 50 + "]" * 50, '{"a": ' * 50 + "1" + "}" * 50,
            "[" * 1500 + "]" * 1500]


# The two databases are two files (the PostgreSQL one: test_hostile_sweep_postgresql.py), so that the suite's
# processes, which take a file each (--dist loadfile), walk them side by side: each walk takes minutes, and being
# marked slow, starts first.
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_no_route_answers_500_or_logs_a_traceback_for_hostile_input(sweep_world, caplog):
    assert_no_500_or_traceback(sweep_world, caplog)


def assert_no_500_or_traceback(sweep_world, caplog) -> None:
    failures: list[str] = []
    sent = 0

    def check(response, what: str) -> None:
        nonlocal sent
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {what}")
        for record in caplog.records:
            if record.exc_info or "Traceback" in record.getMessage():
                failures.append(f"logged {record.levelname} {record.getMessage()[:200]!r} for {what}")
        caplog.clear()

    caplog.set_level(logging.WARNING)
    walk(sweep_world, FIRST_PROBE + SECOND_PROBE, BAD_JSON, check)
    assert sent > 5000
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:60])
