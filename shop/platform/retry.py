"""Retrying what is sent outward (webhook deliveries, e-mail): one schedule, and failures told without their data."""
from __future__ import annotations

import traceback
from pathlib import Path


def retry_delay(failed_attempts: int, schedule: list[float]) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures in a row, or None: give up. The first
    attempt and one retry per delay of the schedule."""
    return schedule[failed_attempts - 1] if 1 <= failed_attempts <= len(schedule) else None


JITTER = 0.15  # each retry comes up to 15 % earlier or later than its schedule says


def jitter_bounds(failed_attempts: int, schedule: list[float], spread: float = JITTER) -> tuple[float, float] | None:
    """The earliest and latest seconds until the next attempt after `failed_attempts` failures, or None: give up.
    Around the scheduled delay by `spread` either way, but never before the earliest of an earlier step: a
    schedule that shortens does not bring a later retry before an earlier one's window."""
    delay = retry_delay(failed_attempts, schedule)
    if delay is None:
        return None
    low = (1 - spread) * max(schedule[:failed_attempts])
    return low, max(low, (1 + spread) * delay)


def jittered_delay(failed_attempts: int, schedule: list[float], draw: float, spread: float = JITTER) -> float | None:
    """Seconds until the next attempt, spread within `jitter_bounds` by `draw` (0 the earliest, 1 the latest;
    the caller draws it at random, so that receivers back from an outage are not hit by every retry at once),
    or None: give up."""
    bounds = jitter_bounds(failed_attempts, schedule, spread)
    if bounds is None:
        return None
    low, high = bounds
    return low + (high - low) * min(max(draw, 0.0), 1.0)


def describe(exc: BaseException) -> str:
    """A failure as its type, SMTP code and where it was raised (file and line), for a row and a log line. Never
    its message: an SMTP refusal quotes the recipients, a template error may quote what it renders."""
    code = getattr(exc, "smtp_code", None)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{f' {code}' if code else ''}{where}"[:200]
