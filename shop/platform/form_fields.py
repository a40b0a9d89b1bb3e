"""WTForms fields shared by the storefront's and the staff's forms."""
from __future__ import annotations

import re

from wtforms import IntegerField

# What people write for a whole number: ASCII digits, perhaps a sign (spaces around are trimmed).
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def whole_number(text: str | None) -> int | None:
    """`text` as a whole number when it is written in ASCII digits (perhaps a sign), else None."""
    text = (text or "").strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


class WholeNumberField(IntegerField):
    """An IntegerField that reads only ASCII digits: Python's int() would also read Arabic-Indic or full-width
    digits ("١٠", "１０") and underscores ("1_000") as a number, which is a guess at what was meant; the field's
    message for anything else is IntegerField's own (or its `invalid_value_message`)."""

    def process_formdata(self, valuelist):
        if valuelist and not _WHOLE_NUMBER.fullmatch(str(valuelist[0]).strip()):
            self.data = None
            raise ValueError(self.invalid_value_message or self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)
