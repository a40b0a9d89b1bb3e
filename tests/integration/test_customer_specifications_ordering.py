"""Placing an order for a company with a specification, a line pinned to a lot, and single_lot: on SQLite and
PostgreSQL (the fixtures are parametrized by database)."""
from __future__ import annotations

import pytest

from shop import ordering
from shop.ordering import shortages
from shop.platform.errors import InsufficientStock, InvalidInput
from shop.platform.extensions import db
from shop.quality import recall
from shop.specifications import service
from tests.support.factories import good_results, make_lot, recall_leaving_short, releaser, signed
from tests.support.sql import count_statements
from tests.support.staff import ADDRESS

DRUM = "LEU-USP-25KG"


def _assay(product) -> str:
    return next(name for name in good_results(product) if name.lower().startswith("assay"))


def _lot(product, number, units, days, assay_value=None):
    results = good_results(product)
    if assay_value is not None:
        results[_assay(product)] = assay_value
    return make_lot(product, number, {DRUM: units}, expires_in_days=days, results=results)


def _limit(customer, product, minimum="99.0"):
    service.put_specification(customer.company_id, product.slug, [{"test": _assay(product), "min": minimum}], "Ada")
    db.session.commit()


def _drawn(order):
    return [(a.stock.batch.lot_number, a.quantity) for line in order.lines for a in line.allocations]


def _place(customer, quantity, lot_number=None, single_lot=False):
    line = {"sku": DRUM, "quantity": quantity, **({"lot_number": lot_number} if lot_number else {})}
    order = ordering.place_order(customer, [line], ADDRESS, single_lot=single_lot)
    db.session.commit()
    return order


def test_a_company_spec_excludes_a_lot_the_public_spec_allows_fefo_among_conforming(app, product, customer):
    _lot(product, "L-LOOSE", 10, 200, "98.7")  # earliest, within the grade, outside the company's spec
    _lot(product, "L-TIGHT-1", 3, 300, "99.5")
    _lot(product, "L-TIGHT-2", 10, 400, "99.6")
    _limit(customer, product)
    assert _drawn(_place(customer, 5)) == [("L-TIGHT-1", 3), ("L-TIGHT-2", 2)]


def test_a_shortfall_says_how_many_units_lie_outside_the_specification(app, product, customer):
    _lot(product, "L-LOOSE", 40, 200, "98.7")
    _lot(product, "L-TIGHT", 5, 300, "99.5")
    _limit(customer, product)
    with pytest.raises(InsufficientStock) as short:
        _place(customer, 10)
    line = short.value.details()["short_lines"][0]
    assert (line["requested"], line["available"], line["outside_your_specification"]) == (10, 5, 40)
    assert "40 more in lots that do not meet your specification" in short.value.message


def test_a_company_without_a_specification_is_not_told_about_one(app, product, customer):
    _lot(product, "L-1", 3, 300)
    with pytest.raises(InsufficientStock) as short:
        _place(customer, 10)
    assert "outside_your_specification" not in short.value.details()["short_lines"][0]


def test_a_pinned_lot_is_used_in_any_letter_case_and_echoed(app, product, customer):
    _lot(product, "L-EARLY", 10, 200)
    _lot(product, "L-Late", 10, 400)
    order = _place(customer, 4, lot_number="l-LATE")
    assert _drawn(order) == [("L-Late", 4)]
    shown = ordering.views.order(order)
    assert shown["lines"][0]["lot_number"] == "L-Late" and shown["single_lot"] is False


@pytest.mark.parametrize("status", ["quarantine", "rejected", "recalled"])
def test_a_pinned_lot_that_is_not_sellable_is_422(app, product, customer, status):
    _lot(product, "L-OK", 10, 300)
    make_lot(product, "L-BAD", {DRUM: 10}, status=status)
    with pytest.raises(InvalidInput) as refused:
        _place(customer, 1, lot_number="L-BAD")
    assert list(refused.value.errors) == ["lines.0.lot_number"]


def test_an_unknown_or_expired_pinned_lot_is_422(app, product, customer):
    make_lot(product, "L-OLD", {DRUM: 10}, expires_in_days=-1)
    for lot in ("L-NONE", "L-OLD"):
        with pytest.raises(InvalidInput) as refused:
            _place(customer, 1, lot_number=lot)
        assert list(refused.value.errors) == ["lines.0.lot_number"]
        db.session.rollback()


def test_a_pinned_lot_short_or_outside_the_spec_or_short_dated_is_409_saying_why(app, product, customer):
    _lot(product, "L-SMALL", 2, 300, "99.5")
    _lot(product, "L-LOOSE", 50, 400, "98.7")
    _lot(product, "L-SOON", 50, 30, "99.5")
    _lot(product, "L-BIG", 50, 500, "99.5")
    _limit(customer, product)
    for lot, why in (("L-SMALL", "has 2 units"), ("L-LOOSE", "does not meet your specification"),
                     ("L-SOON", "minimum remaining shelf life")):
        with pytest.raises(InsufficientStock) as short:
            _place(customer, 5, lot_number=lot)
        line = short.value.details()["short_lines"][0]
        assert line["lot_number"] == lot and why in line["reason"], line
        db.session.rollback()


def test_single_lot_never_splits_a_line_and_takes_the_earliest_that_fills_it(app, product, customer):
    _lot(product, "L-1", 3, 200)
    _lot(product, "L-2", 8, 300)
    _lot(product, "L-3", 20, 400)
    order = _place(customer, 6, single_lot=True)
    assert _drawn(order) == [("L-2", 6)]
    assert order.single_lot is True and ordering.views.order(order)["single_lot"] is True
    with pytest.raises(InsufficientStock):
        _place(customer, 21, single_lot=True)


def test_a_recall_never_re_covers_from_outside_the_spec_or_another_lot_than_the_pinned(app, product, customer):
    _lot(product, "L-A", 10, 300, "99.5")
    _lot(product, "L-LOOSE", 50, 200, "98.7")
    _lot(product, "L-B", 10, 400, "99.5")
    _limit(customer, product)
    covered = _place(customer, 4)
    pinned = _place(customer, 3, lot_number="L-A")
    assert _drawn(covered) == [("L-A", 4)]
    recall.recall_lot("L-A", "contamination", signed(releaser(), "recall", "L-A"), "Recalled.")
    db.session.commit()
    db.session.refresh(covered)
    db.session.refresh(pinned)
    assert [(lot, n) for lot, n in _drawn(covered) if lot != "L-A"] == [("L-B", 4)]
    assert [lot for lot, _ in _drawn(pinned) if lot != "L-A"] == []
    assert pinned.needs_attention


def test_fulfilment_cannot_allocate_by_hand_what_the_buyers_rules_forbid(app, product, customer):
    _lot(product, "L-A", 10, 300, "99.5")
    _lot(product, "L-LOOSE", 50, 200, "98.7")
    _limit(customer, product)
    covered = _place(customer, 6)
    pinned = _place(customer, 4, lot_number="l-a")
    recall_leaving_short("L-A", "contamination")
    _lot(product, "L-B", 10, 400, "99.5")  # conforming, but not the lot the pinned line asked for
    db.session.commit()
    db.session.refresh(covered)
    db.session.refresh(pinned)
    assert [lot.lot_number for lot in shortages.hand_lots(covered)[0]] == ["L-B"]  # never the loose lot
    assert shortages.hand_lots(pinned)[0] == []
    with pytest.raises(InvalidInput) as outside:
        shortages.allocate_by_hand(covered.number, 0, "L-LOOSE", 1)
    assert "does not meet Acme Nutrition's specification" in outside.value.errors["lot_number"][0]
    db.session.rollback()
    with pytest.raises(InvalidInput) as not_pinned:
        shortages.allocate_by_hand(pinned.number, 0, "L-B", 1)
    assert not_pinned.value.errors["lot_number"] == ["The buyer ordered LEU-USP-25KG from lot L-A only."]
    db.session.rollback()
    shortages.allocate_by_hand(covered.number, 0, "L-B", 2)
    db.session.commit()
    db.session.refresh(covered)
    assert ("L-B", 2) in _drawn(covered)


def test_placing_costs_the_same_statements_with_few_or_many_lots_and_one_more_with_a_spec(app, product, customer):
    _lot(product, "L-0", 5, 300)

    def cost():
        with count_statements() as seen:
            _place(customer, 1)
        return len(seen)

    bare_one = cost()
    for i in range(1, 8):
        _lot(product, f"L-{i}", 5, 300 + i)
    assert cost() == bare_one
    _limit(customer, product)
    with_spec = cost()
    for i in range(8, 15):
        _lot(product, f"L-{i}", 5, 300 + i)
    assert cost() == with_spec == bare_one + 1
