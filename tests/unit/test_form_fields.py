"""The forms' whole numbers: ASCII digits with perhaps a sign, read exactly; anything else is no number at all."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import Form

from shop.platform.form_fields import WholeNumberField


class _Form(Form):
    units = WholeNumberField()


def _read(text: str) -> tuple[int | None, list[str]]:
    field = _Form(MultiDict({"units": text})).units
    return field.data, list(field.process_errors)


# Any text, and text of nothing but digits of every script, signs and underscores, which int() would also read.
numberish = st.text(st.characters(categories=["Nd"]) | st.sampled_from("+-_ "), min_size=1, max_size=12)


@given(st.text(max_size=12) | numberish)
def test_a_whole_number_is_ascii_digits_with_perhaps_a_sign(text):
    data, errors = _read(text)
    if data is None:
        assert errors
    else:
        written = text.strip().lstrip("+-")
        assert written.isascii() and written.isdigit() and data == int(text) and not errors


def test_digits_of_other_scripts_and_separators_are_refused_with_the_fields_message():
    for typed in ("١٠", "１０", "1_000", "1,500", "1.5", "1e3", "", "ten"):
        assert _read(typed) == (None, ["Not a valid integer value."]), typed
    assert _read(" 42 ") == (42, []) and _read("-3") == (-3, []) and _read("+5") == (5, [])
