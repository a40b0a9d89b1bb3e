"""No input produces a 500 or a traceback: every route of the URL map, as the signed-in admin on /staff, the
signed-in customer on the pages and the API key on /api/v1, given hostile values in every path argument, every
query (GET) and form (POST) key it reads, each leaf of the API's JSON bodies and the Idempotency-Key (the walk and
the values: tests/support/sweep.py). The values are the two security probes' (#11, #22): out-of-range numbers, far
dates, damaged and deeply nested cursors, blanks, NUL, CR/LF, right-to-left text, SQL and HTML, a 6to4 URL. Nothing
may be logged with a traceback either: an error the shop answered well still means a bug behind it.

On SQLite here and on PostgreSQL in test_hostile_sweep_postgresql.py: a file each, so that the suite's workers walk
both at once (each walk takes a minute or two)."""
from __future__ import annotations

import pytest

from tests.support.sweep import assert_no_route_fails

pytestmark = pytest.mark.long


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_no_route_answers_500_or_logs_a_traceback_for_hostile_input(sweep_world, caplog):
    assert_no_route_fails(sweep_world, caplog)
