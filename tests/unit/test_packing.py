"""Packing-slip weights: per line and in total, checked over any mix of pack sizes."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.ordering.packing import shipment

kg = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3)
lines = st.lists(st.tuples(st.text("ABCDEFGHIJ-", min_size=1, max_size=8), kg, st.none() | kg,
                           st.integers(0, 500)), max_size=8)


@given(lines)
def test_totals_are_the_sums_of_the_lines_and_gross_is_never_below_net(rows):
    packed = shipment(rows)
    assert packed.packages == sum(n for *_, n in rows)
    assert packed.net_kg == sum((size * n for _, size, _, n in rows), Decimal(0))
    if packed.gross_kg is not None:
        assert packed.gross_kg == sum(((size + tare) * n for _, size, tare, n in rows), Decimal(0))
        assert packed.gross_kg >= packed.net_kg


@given(lines)
def test_an_unweighed_pack_leaves_the_gross_total_unknown_and_named(rows):
    packed = shipment(rows)
    unweighed = [sku for sku, _, tare, _ in rows if tare is None]
    assert (packed.gross_kg is None) == bool(unweighed)
    assert packed.unweighed == unweighed


def test_four_drums_and_ten_bags():
    packed = shipment([("LEU-USP-25KG", Decimal("25"), Decimal("1.9"), 4),
                       ("LEU-USP-1KG", Decimal("1"), Decimal("0.15"), 10)])
    assert (packed.packages, packed.net_kg, packed.gross_kg) == (14, Decimal("110"), Decimal("119.100"))
