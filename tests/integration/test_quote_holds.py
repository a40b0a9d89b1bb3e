"""Units held for a quote are allocated stock: gone for every other buyer (API, product page, orders, other holds),
given back when the quote ends, drawn by the order that accepts it, moved to other lots by a recall."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shop import sales
from shop.accounts.models import StaffUser
from shop.inventory.lots import check_ledger
from shop.inventory.models import Stock
from shop.ordering.models import Order
from shop.platform.errors import InsufficientStock
from shop.platform.extensions import db
from shop.sales.models import HoldStatus, StockHold
from tests.support.api import ADDRESS, available
from tests.support.factories import make_customer, make_lot, make_product, make_staff, signed_recall
from tests.support.mail import drain, outbox_mail

DRUM = "LEU-USP-25KG"


@pytest.fixture
def seller(app):
    return make_staff("sales")


def held_quote(buyer, seller, quantity: int, *, days: int = 14, **asked) -> str:
    number = sales.request_quote(sales.RequestQuote(buyer, [{"sku": DRUM, "quantity": quantity}], **asked)).quote[
        "number"]
    sales.answer_quote(number, {0: "1000"}, date.today() + timedelta(days=days), "", True, seller)
    db.session.commit()
    return number


def held_lots(number: str) -> dict[str, int]:
    quote = sales.get_quote(number)
    lots: dict[str, int] = {}
    for h in quote.lines[0].holds:
        if h.status == HoldStatus.HELD:
            lots[h.stock.batch.lot_number] = lots.get(h.stock.batch.lot_number, 0) + h.quantity
    return lots


def test_a_hold_takes_units_fefo_and_lowers_availability_everywhere(stocked, api, seller):
    assert available(api, DRUM) == 16
    number = held_quote(api.customer, seller, 8)
    assert held_lots(number) == {"L-SOON": 6, "L-LATE": 2}
    assert sales.quote(sales.get_quote(number))["lines"][0]["held_quantity"] == 8
    assert available(api, DRUM) == 8
    drums = api.client.get("/products/l-leucine-usp").text  # the storefront's product page, signed out
    assert "8 in stock" in drums and "16 in stock" not in drums
    refused = api.order([{"sku": DRUM, "quantity": 9}])
    assert refused.status_code == 409 and refused.get_json()["short_lines"][0]["available"] == 8
    other = held_quote(make_customer("b@rival.example", "Rival Labs"), seller, 10)
    assert sales.quote(sales.get_quote(other))["lines"][0]["held_quantity"] == 8  # as many as there are
    assert available(api, DRUM) == 0
    assert check_ledger() == []


def test_a_hold_respects_the_quotes_shelf_life(stocked, api, seller):
    number = held_quote(api.customer, seller, 8, min_remaining_shelf_life_days=300)
    assert held_lots(number) == {"L-LATE": 8}


def test_ending_a_quote_gives_its_units_back(stocked, api, seller):
    declined, withdrawn, expired = (held_quote(api.customer, seller, 5, days=d) for d in (5, 5, 0))
    assert available(api, DRUM) == 1
    sales.decline_quote(declined, api.customer)
    sales.withdraw_quote(withdrawn, seller)
    db.session.commit()
    assert available(api, DRUM) == 11
    assert sales.expire_quotes(date.today() + timedelta(days=1)) == [expired]
    assert available(api, DRUM) == 16
    assert all(h.status == HoldStatus.RELEASED and h.released_at is not None
               for h in db.session.scalars(select(StockHold)))
    assert check_ledger() == []


def test_the_accepted_order_draws_exactly_the_held_lots_at_the_quoted_price(stocked, api, seller):
    number = held_quote(api.customer, seller, 3, min_remaining_shelf_life_days=300)  # the later lot, not FEFO's
    assert held_lots(number) == {"L-LATE": 3}
    placed = sales.accept_quote(number, api.customer, ADDRESS, idempotency_key="take-it")
    line = placed.order["lines"][0]
    assert line["unit_price"] == "1000.00"
    assert [(a["lot_number"], a["quantity"]) for a in line["allocations"]] == [("L-LATE", 3)]
    assert available(api, DRUM) == 13  # the held units became the order's, nothing more
    assert all(h.status == HoldStatus.ORDERED for h in db.session.scalars(select(StockHold)))
    again = sales.accept_quote(number, api.customer, ADDRESS, idempotency_key="take-it")
    assert again.replayed and again.number == placed.number
    assert len(db.session.scalars(select(Order)).all()) == 1
    assert check_ledger() == []


def test_an_acceptance_short_of_unheld_units_is_refused_and_keeps_the_hold(stocked, api, seller):
    number = sales.request_quote(sales.RequestQuote(api.customer, [{"sku": DRUM, "quantity": 5}])).quote["number"]
    sales.answer_quote(number, {0: "1000"}, date.today(), "", False, seller)
    db.session.commit()
    assert api.order([{"sku": DRUM, "quantity": 14}]).status_code == 201
    with pytest.raises(InsufficientStock):
        sales.accept_quote(number, api.customer, ADDRESS)
    assert sales.get_quote(number).status == "answered"


def test_a_recall_that_other_lots_cannot_cover_tells_sales(stocked, api, seller):
    covered = held_quote(api.customer, seller, 4)
    short = held_quote(api.customer, seller, 12)
    assert held_lots(covered) == {"L-SOON": 4} and held_lots(short) == {"L-SOON": 2, "L-LATE": 10}
    summary = signed_recall("L-SOON", "Assay out of specification")
    db.session.commit()
    # Every other unit is held already: neither quote gets its recalled units back, and sales are told.
    assert summary.quotes_short == [covered, short]
    assert held_lots(covered) == {} and held_lots(short) == {"L-LATE": 10}
    assert "LEU-USP-25KG holds 4 unit(s) fewer" in sales.get_quote(covered).attention_note
    assert "Lot L-SOON recalled" in sales.get_quote(short).attention_note
    assert available(api, DRUM) == 0
    assert check_ledger() == []
    drain()
    told = [m for m in outbox_mail() if "fewer units held" in m.subject]
    assert [m.subject for m in told] == [f"Quote {covered}: fewer units held", f"Quote {short}: fewer units held"]
    assert "LEU-USP-25KG: 0 units held of 4 units" in told[0].body
    assert "LEU-USP-25KG: 10 units held of 12 units" in told[1].body and "L-SOON was recalled" in told[1].body


def test_a_recall_re_holds_in_full_when_other_lots_have_the_units(stocked, api, seller):
    number = held_quote(api.customer, seller, 5)
    signed_recall("L-SOON", "Assay out of specification")
    db.session.commit()
    assert held_lots(number) == {"L-LATE": 5} and sales.get_quote(number).attention_note == ""
    assert check_ledger() == []


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_two_quotes_cannot_hold_the_same_last_units(make_app, backend):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 8, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        make_lot(make_product(), "LAST", {DRUM: 5}, expires_in_days=600)
        buyer = make_customer()
        seller = make_staff("sales")
        numbers = [sales.request_quote(sales.RequestQuote(buyer, [{"sku": DRUM, "quantity": 5}])).quote["number"]
                   for _ in range(6)]
        staff_id = seller.id
        db.session.remove()
    barrier = threading.Barrier(len(numbers), timeout=30)

    def answer(number: str) -> int:
        with app.app_context():
            staff = db.session.get(StaffUser, staff_id)
            db.session.commit()  # no transaction open while waiting: SQLite's one writer is taken by answering
            barrier.wait()
            quote = sales.answer_quote(number, {0: "900"}, date.today() + timedelta(days=7), "", True, staff)
            held = quote.lines[0].held_quantity
            db.session.commit()
            db.session.remove()
            return held

    with ThreadPoolExecutor(max_workers=len(numbers)) as pool:
        held = list(pool.map(answer, numbers))
    assert sorted(held) == [0, 0, 0, 0, 0, 5]
    with app.app_context():
        stock = db.session.scalar(select(Stock))
        assert (stock.on_hand, stock.allocated) == (5, 5)
        assert check_ledger() == []
