"""Retrying what is sent outward (webhook deliveries, e-mail): one schedule, and failures told without their data."""
from __future__ import annotations

import traceback
from pathlib import Path


def retry_delay(failed_attempts: int, schedule: list[float]) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures in a row, or None: give up. The first
    attempt and one retry per delay of the schedule."""
    return schedule[failed_attempts - 1] if 1 <= failed_attempts <= len(schedule) else None


def describe(exc: BaseException) -> str:
    """A failure as its type, SMTP code and where it was raised (file and line), for a row and a log line. Never
    its message: an SMTP refusal quotes the recipients, a template error may quote what it renders."""
    code = getattr(exc, "smtp_code", None)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{f' {code}' if code else ''}{where}"[:200]
