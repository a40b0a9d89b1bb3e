"""Why a cart line cannot be ordered: the reasons checkout names, checked over every combination of facts."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shop.storefront.orderable import LineFacts, Reason, line_problems


@st.composite
def facts(draw) -> LineFacts:
    in_stock = draw(st.integers(0, 50))
    return LineFacts(requested=draw(st.integers(1, 60)), sold=draw(st.booleans()),
                     min_order_quantity=draw(st.integers(1, 10)), in_stock=in_stock,
                     fresh_enough=draw(st.integers(0, in_stock)), shelf_life_days=draw(st.none() | st.integers(1, 900)))


def _orderable(f: LineFacts) -> bool:
    """What the order service accepts: a sold pack size, at least the minimum, and enough units that expire
    late enough."""
    enough = f.fresh_enough if f.shelf_life_days else f.in_stock
    return f.sold and f.requested >= f.min_order_quantity and f.requested <= enough


@given(facts())
def test_a_line_has_a_reason_exactly_when_it_cannot_be_ordered(f):
    assert bool(line_problems(f)) == (not _orderable(f))


@given(facts())
def test_shelf_life_is_the_reason_only_when_the_units_are_there_but_expire_too_soon(f):
    reasons = {p.reason for p in line_problems(f)}
    if Reason.SHELF_LIFE in reasons:
        assert f.in_stock >= f.requested > f.fresh_enough and f.shelf_life_days
        assert f"more than {f.shelf_life_days} days" in " ".join(p.message for p in line_problems(f))
    if f.sold and f.requested > f.in_stock:
        assert Reason.SHORT in reasons and Reason.SHELF_LIFE not in reasons


@given(facts())
def test_a_pack_size_no_longer_sold_says_only_that(f):
    if not f.sold:
        assert [p.reason for p in line_problems(f)] == [Reason.NO_LONGER_SOLD]


def test_the_700_day_case_names_the_shelf_life_and_what_is_in_stock():
    (problem,) = line_problems(LineFacts(requested=2, sold=True, min_order_quantity=1, in_stock=10, fresh_enough=0,
                                         shelf_life_days=700))
    assert problem.reason == Reason.SHELF_LIFE
    assert problem.message.startswith("Only 0 of the 10 in stock have more than 700 days of shelf life left")


@given(facts())
def test_a_short_line_whose_units_also_expire_too_soon_says_both_so_that_reducing_the_quantity_is_enough(f):
    """Asked for more than is in stock, and fewer still keep long enough: the message names the units that do, so
    that the buyer does not reduce to what is in stock only to be refused again for the shelf life."""
    messages = " ".join(p.message for p in line_problems(f) if p.reason == Reason.SHORT)
    if f.sold and f.requested > f.in_stock > 0 and f.shelf_life_days and f.fresh_enough < f.in_stock:
        assert (f"Only {f.in_stock} available now, and {f.fresh_enough or 'none'} of them have more than "
                f"{f.shelf_life_days} days of shelf life left") in messages
        assert (f"Order at most {f.fresh_enough}," in messages) == (f.fresh_enough > 0)
    else:
        assert "of them have more than" not in messages


def test_the_3000_day_case_of_a_short_line_names_both():
    (problem,) = line_problems(LineFacts(requested=50, sold=True, min_order_quantity=1, in_stock=45, fresh_enough=0,
                                         shelf_life_days=3000))
    assert problem.message == ("Only 45 available now, and none of them have more than 3000 days of shelf life left: "
                               "you asked for 50. Ask for a shorter minimum shelf life and at most 45.")
