"""The pure rules of complaints: how a number is written, what a filing must say, and which status may follow
which (one table)."""
from __future__ import annotations

import re
from collections.abc import Collection

from shop.complaints.models import ComplaintCategory, ComplaintStatus

NUMBER_PREFIX = "C"
SERIAL_DIGITS = 5
MAX_DESCRIPTION = 4000  # characters: a page of text, enough for what went wrong and where
MAX_CAPA_FIELD = 4000  # each of root cause, corrective action, preventive action and resolution
MAX_ATTACHMENTS = 3
_NUMBER = re.compile(rf"^{NUMBER_PREFIX}-(\d{{4}})-(\d{{{SERIAL_DIGITS},}})$", re.IGNORECASE)

CATEGORIES = tuple(c.value for c in ComplaintCategory)
CAPA_WORDS = {"root_cause": "root cause", "corrective_action": "corrective action",
              "preventive_action": "preventive action", "resolution": "resolution"}

# The only moves a complaint makes: the investigation starts, then the quality unit closes it, signed. A closed
# complaint stays closed (a new problem is a new complaint).
TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.OPEN: frozenset({ComplaintStatus.INVESTIGATING}),
    ComplaintStatus.INVESTIGATING: frozenset({ComplaintStatus.CLOSED}),
    ComplaintStatus.CLOSED: frozenset(),
}


def format_number(year: int, serial: int) -> str:
    """A complaint's number as people read and quote it: 'C-2026-00012' (the year's serial, at least 5 digits)."""
    if not 1000 <= year <= 9999 or serial < 1:
        raise ValueError(f"no complaint number for year {year}, serial {serial}")
    return f"{NUMBER_PREFIX}-{year}-{serial:0{SERIAL_DIGITS}d}"


def parse_number(text: str) -> tuple[int, int] | None:
    """The (year, serial) of a complaint number typed in any letter case; None for anything else."""
    found = _NUMBER.match(text.strip()) if isinstance(text, str) else None
    return (int(found[1]), int(found[2])) if found else None


def may_move(current: ComplaintStatus, target: ComplaintStatus) -> bool:
    """Whether a complaint in `current` may move to `target` (TRANSITIONS)."""
    return target in TRANSITIONS[current]


def filing_errors(category: object, description: object) -> dict[str, list[str]]:
    """What is wrong with a complaint's category and description, by field; empty when nothing is."""
    errors: dict[str, list[str]] = {}
    if category not in CATEGORIES:
        errors["category"] = [f"Choose one of {', '.join(CATEGORIES)}."]
    if not isinstance(description, str) or not description.strip():
        errors["description"] = ["Describe the problem: what you found, and where."]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"At most {MAX_DESCRIPTION} characters (this has {len(description)})."]
    return errors


def chosen_lots(drawn: Collection[str], lot_number: str | None) -> tuple[list[str], str | None]:
    """The lots a complaint is about: every lot the line drew, or only `lot_number` (any letter case, spelt as the
    lot spells it) when it is one of them; and why not, when it is not."""
    lots = sorted(set(drawn))
    if lot_number is None or lot_number == "":
        return lots, None
    match = [lot for lot in lots if lot.lower() == str(lot_number).strip().lower()]
    if not match:
        said = ", ".join(lots) if lots else "none yet"
        return [], f"The line drew no lot '{lot_number}' (its lots: {said})."
    return match, None


def capa_errors(fields: dict[str, object], *, required: Collection[str]) -> dict[str, list[str]]:
    """What is wrong with investigation or closing texts by field: too long, or missing where `required`."""
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        text = value.strip() if isinstance(value, str) else ""
        if name in required and not text:
            errors[name] = [f"The {CAPA_WORDS.get(name, name)} is required to close the complaint: save it first."
                            if name != "resolution" else "Write the resolution the buyer reads."]
        elif len(text) > MAX_CAPA_FIELD:
            errors[name] = [f"At most {MAX_CAPA_FIELD} characters (this has {len(text)})."]
    return errors
