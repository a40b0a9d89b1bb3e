"""One stock ledger: every way stock moves (receipt, placing, cancelling, shipping, a refill after a recall,
filling a short order, an adjustment, scrap) leaves every stock row equal to the sum of its movements."""
from __future__ import annotations

from sqlalchemy import select

from shop import ordering
from shop.inventory import lots as inventory
from shop.inventory.models import MovementKind, Stock, StockMovement
from shop.ordering import shortages
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.factories import make_lot, recall_leaving_short

DRUM, BAG = "LEU-USP-25KG", "LEU-USP-1KG"


def _place(customer, *lines: tuple[str, int]) -> str:
    """Place an order as the API does (PostgreSQL's one-statement write, else the plain path); its number."""
    command = ordering.PlaceOrder(customer, [{"sku": sku, "quantity": n} for sku, n in lines], ADDRESS)
    return ordering.place(command).number


def _drawn(number: str) -> list[tuple[str, int, str]]:
    db.session.expire_all()
    order = ordering.get_order(number)
    return [(a.stock.batch.lot_number, a.quantity, a.status.value) for line in order.lines for a in line.allocations]


def _levels(lot_number: str, sku: str) -> tuple[int, int]:
    stock = db.session.scalar(select(Stock).join(Stock.batch).join(Stock.variant)
                              .where(inventory.lot_number_is(lot_number), Stock.variant.has(sku=sku)))
    return stock.on_hand, stock.allocated


def test_every_way_stock_moves_keeps_stock_equal_to_its_movements(app, backend, runner, product, customer):
    make_lot(product, "A", {DRUM: 6}, expires_in_days=300)
    make_lot(product, "B", {DRUM: 10, BAG: 5}, expires_in_days=900)

    held = _place(customer, (DRUM, 4))
    cancelled = _place(customer, (DRUM, 2), (BAG, 1))
    run_in_transaction(ordering.cancel_order, cancelled, reason="changed our mind")
    shipped = _place(customer, (DRUM, 2))
    run_in_transaction(ordering.confirm_order, shipped)
    run_in_transaction(ship_paid, shipped, "DHL-1")
    assert _drawn(held) == [("A", 4, "allocated")]

    recall_leaving_short("A", "Foreign particles")  # the held drums move to lot B; the shipped ones stay shipped
    db.session.commit()
    assert _drawn(held) == [("A", 4, "returned_recalled"), ("B", 4, "allocated")]
    assert _drawn(shipped) == [("A", 2, "shipped")]

    make_lot(product, "C", {DRUM: 3}, expires_in_days=400)
    short = _place(customer, (DRUM, 9))  # 3 from C, the 6 left of B
    recall_leaving_short("C", "Wrong label")  # nothing left to replace C: short by 3
    db.session.commit()
    make_lot(product, "D", {DRUM: 5}, expires_in_days=800)
    run_in_transaction(shortages.fill_short_order, short)
    assert _drawn(short) == [("C", 3, "returned_recalled"), ("B", 6, "allocated"), ("D", 3, "allocated")]

    d_drums = db.session.scalar(select(Stock.id).join(Stock.batch).where(inventory.lot_number_is("D")))
    run_in_transaction(inventory.adjust_stock, d_drums, +2, "recount found two more drums")
    run_in_transaction(inventory.adjust_stock, d_drums, -1, "drum punctured", kind=MovementKind.SCRAP)
    run_in_transaction(ordering.confirm_order, held)
    run_in_transaction(ship_paid, held, "DHL-2")

    assert {_levels("A", DRUM), _levels("B", DRUM), _levels("B", BAG), _levels("D", DRUM)} == {
        (4, 0), (6, 6), (5, 0), (6, 3)}  # A: 6 - 2 shipped; B: 10 - 4 shipped, 6 held; D: 5 + 2 - 1, 3 held
    assert set(db.session.scalars(select(StockMovement.kind).distinct())) == set(MovementKind)
    assert inventory.check_ledger() == []
    checked = runner.invoke(args=["shop", "check-ledger"])
    assert checked.exit_code == 0 and "Ledger OK" in checked.output
