"""The hostile-input walk of test_hostile_sweep.py on PostgreSQL, whose text columns refuse what SQLite's take (NUL)
and whose integers have bounds SQLite's do not: a file of its own, so that it runs beside the SQLite walk."""
from __future__ import annotations

import pytest

from tests.support.sweep import assert_no_route_fails

pytestmark = pytest.mark.long


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_no_route_answers_500_or_logs_a_traceback_for_hostile_input_on_postgresql(sweep_world, caplog):
    assert_no_route_fails(sweep_world, caplog)
