"""Names people type (a company's, a member's, a key's, a price list's, an endpoint's description): one plain line.

A name lands in e-mail subjects and first lines, PDF documents, CSV exports and logs: a line break or another
control character there splits a header, forges a line or hides text, so every name field refuses them, with one
message, before anything is stored.
"""
from __future__ import annotations

import unicodedata

NOT_ONE_LINE = "One line of plain text, please: no line breaks, tabs or other control characters."
# Direction overrides and isolates (Cf) reorder what a reader sees; other format characters (a soft hyphen, the
# joiner inside an emoji) are harmless and stay allowed.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# C0 and C1 controls (CR, LF, tab, NEL...), and the Unicode line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def is_plain_line(text: str) -> bool:
    """Whether `text` holds no control character, line or paragraph separator, or direction override."""
    return not any(unicodedata.category(ch) in _CONTROL_CATEGORIES or ch in _BIDI_CONTROLS for ch in text)


def one_line(text: str) -> str:
    """`text` with every character `is_plain_line` refuses turned into a space: for a name stored before names
    were checked, where it meets a mail header or a first line."""
    return "".join(" " if not is_plain_line(ch) else ch for ch in text)


def name_problem(text: str, limit: int) -> str | None:
    """What is wrong with a (trimmed) name: longer than `limit`, or not one plain line; None when nothing is."""
    if len(text) > limit:
        return f"At most {limit} characters."
    if not is_plain_line(text):
        return NOT_ONE_LINE
    return None


def checked_name(raw: object, field: str, limit: int, errors: dict[str, list[str]], *,
                 required: str | None = None) -> str:
    """`raw` trimmed; what is wrong with it goes into `errors[field]`: empty when `required` (that message), not
    text, too long, or not one plain line."""
    if raw is not None and not isinstance(raw, str):
        errors[field] = ["Must be text."]
        return ""
    text = (raw or "").strip()
    problem = required if required and not text else name_problem(text, limit)
    if problem:
        errors[field] = [problem]
    return text
