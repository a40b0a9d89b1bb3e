"""Counts, masses and amounts in words, the same on pages, in e-mails, documents and the notes an order keeps.

No Flask here (templating registers these as filters and adds the request-bound parts), so every area may use them.
"""
from __future__ import annotations

from decimal import Decimal


def units(count: int) -> str:
    """A number of units in words: '1 unit', '3 units' (the noun agrees with the count)."""
    return f"{count} unit" if count == 1 else f"{count} units"


def kg(value: Decimal | int | None) -> str:
    """Format a mass in kg without useless trailing zeros: '25 kg', '0.5 kg'."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():,f} kg"


def money(value: Decimal | None, currency: str) -> str:
    """Format an amount with thousands separators and two decimals: '1,234.50 EUR'."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f} {currency}"


def payment_terms(terms: str) -> str:
    """Payment terms as a buyer reads them: 'prepaid' -> 'Prepaid', 'net_30' -> 'Net 30 days'."""
    return f"Net {terms.removeprefix('net_')} days" if terms.startswith("net_") else terms.capitalize()
