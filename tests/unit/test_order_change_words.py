"""The words an order.changed e-mail and the recall notice use for each change: the count and its noun agree, the
lot and the pack size are named, and a total reads as the shop writes money."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.ordering import changes

quantities = st.integers(min_value=1, max_value=10_000)
skus = st.sampled_from(["LEU-USP-25KG", "LEU-FEED-500KG"])
lots = st.from_regex(r"[A-Z]{2}-[0-9]{4}", fullmatch=True)


@given(quantities, skus, lots, st.sampled_from([changes.allocated, changes.returned]))
def test_a_lot_change_names_the_units_the_pack_size_and_the_lot(quantity, sku, lot, change):
    words = changes.describe(change(sku, lot, quantity))
    assert words.startswith(f"{quantity} unit{'' if quantity == 1 else 's'} of {sku} ")
    assert f"lot {lot}" in words
    assert (" comes " in words) == (quantity == 1 and change is changes.allocated)


@given(quantities, skus)
def test_cancelled_units_say_they_are_not_charged(quantity, sku):
    assert changes.describe(changes.cancelled(sku, quantity)) == (
        f"{changes.units_of(quantity, sku)} cancelled: not delivered, not charged")


@given(st.decimals(min_value=0, max_value=10**7, places=2), st.decimals(min_value=0, max_value=10**7, places=2))
def test_a_total_reads_from_the_old_to_the_new_amount(before, after):
    words = changes.describe(changes.total(before, after, "EUR"))
    assert words == f"Total: {before:,.2f} EUR, now {after:,.2f} EUR"
    assert Decimal(words.split(": ")[1].split(" EUR")[0].replace(",", "")) == before
