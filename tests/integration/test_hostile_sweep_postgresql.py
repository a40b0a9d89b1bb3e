"""The hostile-input walk of test_hostile_sweep.py on PostgreSQL: a file of its own, so that it runs beside the
SQLite walk in another of the suite's processes."""
import pytest

from tests.integration.test_hostile_sweep import assert_no_500_or_traceback


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_no_route_answers_500_or_logs_a_traceback_for_hostile_input_on_postgresql(sweep_world, caplog):
    assert_no_500_or_traceback(sweep_world, caplog)
