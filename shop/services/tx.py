"""One place that commits: run a unit of work, retrying when the database asks us to."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from ..extensions import db

T = TypeVar("T")
log = logging.getLogger(__name__)

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
    for attempt in range(1, attempts + 1):
        try:
            result = work(*args, **kwargs)
            db.session.commit()
            return result
        except DBAPIError as error:
            db.session.rollback()
            if attempt == attempts or not _retryable(error):
                raise
            log.info("retrying %s after %s (attempt %d)", work.__name__, type(error.orig).__name__, attempt)
            time.sleep(random.uniform(0, 0.02 * attempt))
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
