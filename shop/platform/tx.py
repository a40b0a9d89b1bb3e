"""One place that commits: run a unit of work, retrying when the database asks us to."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from shop.platform.extensions import db

T = TypeVar("T")
log = logging.getLogger(__name__)

_attempt: ContextVar[int] = ContextVar("transaction_attempt", default=1)


class RetryTransaction(Exception):
    """Raised by a unit of work that lost an optimistic race: roll back and run it again."""


def attempt() -> int:
    """Which try of the current unit of work this is (1 for the first)."""
    return _attempt.get()


# SQLSTATEs that mean "try the whole transaction again": serialization failure, deadlock, lock timeout.
_RETRY_SQLSTATES = {"40001", "40P01", "55P03"}


def _retryable(error: DBAPIError) -> bool:
    orig = error.orig
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    text = str(orig).lower()
    if "database is locked" in text or "database table is locked" in text:
        return True
    # A random order number that happened to exist already: draw another.
    return isinstance(error, IntegrityError) and ("order.number" in text or "uq_order_number" in text)


def run_in_transaction(work: Callable[..., T], *args, attempts: int = 8, **kwargs) -> T:
    """Call work(*args, **kwargs) and commit; on a retryable database error roll back and call again."""
    for number in range(1, attempts + 1):
        token = _attempt.set(number)
        try:
            result = work(*args, **kwargs)
            db.session.commit()
            return result
        except (DBAPIError, RetryTransaction) as error:
            db.session.rollback()
            retry = isinstance(error, RetryTransaction) or _retryable(error)
            if number == attempts or not retry:
                raise
            log.info("retrying %s after %s %s (attempt %d)", work.__name__, type(error).__name__,
                     getattr(getattr(error, "orig", None), "sqlstate", "") or "", number)
            time.sleep(random.uniform(0, 0.005 * number))
        except BaseException:
            db.session.rollback()
            raise
        finally:
            _attempt.reset(token)
    raise AssertionError("unreachable")
