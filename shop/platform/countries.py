"""Country codes for address forms: the one check of an ISO 3166-1 code, the name people read for it, and the
choices in the order people look for them.

Sorted with the Unicode Collation Algorithm (pyuca, with the Unicode default table), so that accents and
letters such as Å fold into their base letter: Åland Islands follows Afghanistan, Côte d'Ivoire comes
before Croatia, Türkiye before Turkmenistan, where a code-point sort would put them after Z or after Tuvalu.
"""
from __future__ import annotations

from functools import lru_cache

import pycountry
from pyuca import Collator
from wtforms.fields.choices import SelectChoice

COUNTRY_CODE_MESSAGE = "Use a two-letter ISO 3166-1 country code, such as DE or US."


def is_country_code(text: str) -> bool:
    """Whether `text` is an ISO 3166-1 alpha-2 code (either case): the one check of every address's country."""
    return len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()) is not None


def country_name(code: str) -> str:
    """The name an address shows for a code ('SE' -> 'Sweden', 'TW' -> 'Taiwan'); text that is no code as it is."""
    country = pycountry.countries.get(alpha_2=code.upper()) if is_country_code(code) else None
    return getattr(country, "common_name", country.name) if country else code


@lru_cache(maxsize=1)
def _collator() -> Collator:
    # Reading the collation table takes about half a second: once per process, and only when a form needs it.
    return Collator()


def collation_key(text: str) -> tuple[int, ...]:
    """A sort key that orders text as an English reader expects (case and accents second)."""
    return _collator().sort_key(text)


@lru_cache(maxsize=1)
def country_choices() -> tuple[SelectChoice, ...]:
    """ISO 3166-1 alpha-2 codes by country name, after an empty 'choose' entry."""
    countries = sorted(pycountry.countries, key=lambda c: collation_key(c.name))
    return (SelectChoice("", "Choose a country…"),
            *(SelectChoice(c.alpha_2, f"{c.name} ({c.alpha_2})") for c in countries))
