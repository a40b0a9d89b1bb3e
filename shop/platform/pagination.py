"""Keyset cursors: one codec for the API's and the staff pages' lists."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from shop.platform.bounds import is_plain_date, is_row_id
from shop.platform.errors import InvalidInput

MAX_PAGE = 200

# --- Cursors --------------------------------------------------------------------------------------


def encode_cursor(at: datetime, row_id: int) -> str:
    """An opaque keyset cursor for (timestamp, id), safe in a URL."""
    raw = json.dumps([at.astimezone(UTC).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Read a cursor made by encode_cursor; a tampered or stale one is InvalidInput, never a crash."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(at)
        if not is_row_id(row_id) or parsed.tzinfo is None or not is_plain_date(parsed.date()):
            raise ValueError
        return parsed, row_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput({"cursor": ["This page link is no longer valid; start from the first page."]}) from None


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def _page(rows: list, limit: int, key) -> Page:
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(*key(rows[-1])))
    return Page(rows, None)
