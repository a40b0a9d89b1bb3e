"""Finding 2: the country list is sorted as people read it (accents and letters such as Å folded), not by code
point."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shop.platform.countries import collation_key, country_choices
from tests.support.factories import make_lot
from tests.support.storefront import sign_in


def _option_names(html: str) -> list[str]:
    return [name for code, name in re.findall(r'<option value="([A-Z]{2})">([^<]+) \(\1\)</option>', html)]


def test_checkout_country_list_files_accented_names_where_people_look_for_them(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    sign_in(client)
    client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "1"})
    names = [n.replace("&#39;", "'") for n in _option_names(client.get("/checkout").text)]
    assert len(names) > 240
    position = names.index
    assert position("Afghanistan") < position("Åland Islands") < position("Albania")
    assert position("Costa Rica") < position("Côte d'Ivoire") < position("Croatia") < position("Czechia")
    assert position("Qatar") < position("Réunion") < position("Romania") < position("Rwanda")
    assert position("Tunisia") < position("Türkiye") < position("Turkmenistan") < position("Tuvalu")
    assert names[-1] != "Åland Islands"


def test_country_choices_start_with_the_empty_choice_and_hold_every_code_once():
    choices = country_choices()
    assert choices[0].value == ""
    codes = [c.value for c in choices[1:]]
    assert len(codes) == len(set(codes)) and "DE" in codes and "CI" in codes


_ACCENTED = str.maketrans("aeiouc", "åéîöüç")
_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10)


@given(_words, _words)
def test_an_accent_never_moves_a_name_past_a_differently_spelt_one(x, y):
    """Folding: 'é' sorts with 'e' first, so an accented name stays where its plain spelling would be."""
    if x != y:
        plain = collation_key(x) < collation_key(y)
        assert (collation_key(x.translate(_ACCENTED)) < collation_key(y)) == plain
        assert (collation_key(x.translate(_ACCENTED).upper()) < collation_key(y)) == plain
