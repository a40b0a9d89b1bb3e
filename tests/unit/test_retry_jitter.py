"""Retry times with jitter: each retry comes within 15 % of its scheduled delay, drawn at random by the caller,
never before the window of an earlier retry, and the schedule still ends where it ended."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shop.platform.retry import JITTER, jitter_bounds, jittered_delay, retry_delay

schedules = st.lists(st.floats(0, 604_800), min_size=1, max_size=10)
draws = st.floats(0, 1)


@given(schedules, st.data())
def test_each_retry_is_within_fifteen_percent_of_its_scheduled_delay(schedule, data):
    for failed, delay in enumerate(schedule, start=1):
        got = jittered_delay(failed, schedule, data.draw(draws))
        low, high = jitter_bounds(failed, schedule)
        assert low <= got <= high
        if delay == max(schedule[:failed]):  # a schedule that never shortens: exactly ±15 % around the delay
            assert delay * (1 - JITTER) - 1e-6 <= got <= delay * (1 + JITTER) + 1e-6
        else:  # a shorter step after a longer one waits at least for the longer one's earliest time
            assert got <= max(low, delay * (1 + JITTER)) + 1e-6


@given(schedules, st.data())
def test_a_retry_never_comes_before_the_earliest_time_of_an_earlier_step(schedule, data):
    lows = [jitter_bounds(failed, schedule)[0] for failed in range(1, len(schedule) + 1)]
    assert lows == sorted(lows)
    for failed in range(2, len(schedule) + 1):
        assert jittered_delay(failed, schedule, data.draw(draws)) >= lows[failed - 2]


@given(schedules, draws)
def test_the_schedule_gives_up_where_it_did_without_jitter(schedule, draw):
    assert jittered_delay(0, schedule, draw) is None
    assert jittered_delay(len(schedule) + 1, schedule, draw) is None
    assert all((jittered_delay(n, schedule, draw) is None) == (retry_delay(n, schedule) is None)
               for n in range(len(schedule) + 2))


@given(schedules)
def test_the_draw_spans_the_window_from_its_earliest_to_its_latest(schedule):
    for failed in range(1, len(schedule) + 1):
        assert (jittered_delay(failed, schedule, 0), jittered_delay(failed, schedule, 1)) == \
            jitter_bounds(failed, schedule)
        assert jittered_delay(failed, schedule, -3) == jittered_delay(failed, schedule, 0)  # clamped
