"""Stock holds: units of stock set aside for a quote's lines, as allocated stock (inventory.ledger), so that every
availability count, every order and every other hold sees them gone under the no-oversell guarantee of orders.

A hold is taken first-expired-first-out within the quote's shelf life, from released lots that meet the company's
specification (the order engine's planner and rules, through ordering.refill), on stock rows locked in primary-key
order as every other writer of allocations locks them. It ends given back (`release`: declined, withdrawn,
expired, recalled) or handed to the order that accepted the quote (`give_back_for_order`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select

from shop.inventory import ledger
from shop.inventory.availability import default_shelf_life_days, sellable_after
from shop.inventory.models import Stock
from shop.ordering import refill
from shop.ordering.planner import Need, StockLot
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.sales.models import HoldStatus, Quote, QuoteLine, StockHold
from shop.sales.telling import tell


def held_for(quote: Quote) -> str:
    """The reason on the ledger rows of a quote's holds."""
    return f"Held for quote {quote.number}"


def shelf_life_days(quote: Quote) -> int:
    """The quote's minimum remaining shelf life: what the buyer asked for, else the shop's default."""
    asked = quote.min_remaining_shelf_life_days
    return asked if asked is not None else default_shelf_life_days()


def hold(quote: Quote, *, staff_id: int | None) -> None:
    """Set aside every line's units (as many as there are: `QuoteLine.held_quantity` says how many), locking the
    candidate stock rows in primary-key order first: of two quotes after the same last units, the second waits
    for the first and finds them gone."""
    stocks = refill.candidate_stock({line.variant_id for line in quote.lines}, lock=True)
    _take(quote, quote.lines, {line.id: line.quantity for line in quote.lines}, stocks, refill.lots_of(stocks),
          staff_id=staff_id)


def _take(quote: Quote, lines: Sequence[QuoteLine], wanted: dict[int, int], stocks: Iterable[Stock],
          lots: Sequence[StockLot], *, staff_id: int | None) -> dict[int, int]:
    """Hold `wanted` units (by line id) of `lines` from `lots` (of the locked `stocks`); the units not found, by
    line id."""
    not_before = sellable_after(shelf_life_days(quote))
    needs = [Need(line.id, line.variant_id, wanted[line.id], not_before) for line in lines if wanted.get(line.id)]
    plan = refill.plan(needs, lots, {need.key: quote.company_id for need in needs})
    by_id = {stock.id: stock for stock in stocks}
    by_line = {line.id: line for line in lines}
    for pick in plan.picks:
        stock = by_id[pick.stock_id]
        ledger.allocate(stock, pick.quantity, order_id=None, staff_id=staff_id, reason=held_for(quote))
        by_line[pick.key].holds.append(StockHold(stock=stock, quantity=pick.quantity, status=HoldStatus.HELD))
    return dict(plan.missing)


def held(quote: Quote) -> list[StockHold]:
    """The quote's holds still in force."""
    return [h for line in quote.lines for h in line.holds if h.status == HoldStatus.HELD]


def release(quote: Quote, why: str, *, staff_id: int | None) -> None:
    """Give every unit the quote holds back to stock (`why`: declined, withdrawn, expired), its rows locked in
    primary-key order."""
    _give_back(held(quote), f"Hold of quote {quote.number} released: {why}", HoldStatus.RELEASED, staff_id)


def give_back_for_order(quote: Quote) -> dict[int, list[int]]:
    """Give the quote's held units back to their (locked) rows for the order that accepts it, in its transaction:
    the order draws them first, and the row locks keep every other order and hold out until COMMIT. The holds
    count as ordered. Per line position, the stock rows they were on."""
    holds = held(quote)
    _give_back(holds, f"Hold of quote {quote.number} handed to its order", HoldStatus.ORDERED, None)
    rows: dict[int, list[int]] = defaultdict(list)
    for h in holds:
        rows[h.line.position].append(h.stock_id)
    db.session.flush()  # the order engine reads the rows' free units with a statement of its own
    return dict(rows)


def _give_back(holds: Sequence[StockHold], reason: str, status: HoldStatus, staff_id: int | None) -> None:
    lock(h.stock_id for h in holds)
    now = utcnow()
    for h in holds:
        ledger.release(h.stock, h.quantity, order_id=None, staff_id=staff_id, reason=reason)
        h.status, h.released_at = status, now


def lock(stock_ids: Iterable[int]) -> list[Stock]:
    """Lock these stock rows in primary-key order (read afresh), as every writer of allocations does."""
    ids = sorted(set(stock_ids))
    if not ids:
        return []
    return list(db.session.scalars(select(Stock).where(Stock.id.in_(ids)).order_by(Stock.id)
                                   .with_for_update().execution_options(populate_existing=True)))


def after_recall(batch_id: int, lot_number: str, locked: Sequence[Stock], *, staff_id: int | None) -> list[str]:
    """A recall of a lot took its units out of sale: give back what quotes hold of it and hold as much again from
    other lots (first-expired-first-out within each quote's rules, after the recall re-served its orders), in the
    recall's transaction; a quote left short gets a note that the sales queue shows. `locked`: the stock rows the
    recall locked (the lot's own, and every candidate to replace them). The numbers of the quotes left short."""
    lot_rows = {s.id for s in locked if s.batch_id == batch_id}
    recalled = list(db.session.scalars(
        select(StockHold).where(StockHold.stock_id.in_(lot_rows), StockHold.status == HoldStatus.HELD)
        .order_by(StockHold.id))) if lot_rows else []
    by_quote: dict[int, list[StockHold]] = defaultdict(list)
    for h in recalled:
        by_quote[h.line.quote_id].append(h)
    short: list[str] = []
    for quote_holds in by_quote.values():  # the oldest hold first: first come, first re-served
        quote = quote_holds[0].line.quote
        wanted: dict[int, int] = defaultdict(int)
        for h in quote_holds:
            wanted[h.quote_line_id] += h.quantity
        _give_back(quote_holds, f"Hold of quote {quote.number} released: lot {lot_number} recalled",
                   HoldStatus.RELEASED, staff_id)
        missing = _take(quote, quote.lines, dict(wanted), locked, refill.lots_of(locked, exclude_batch_id=batch_id),
                        staff_id=staff_id)
        if missing:
            lines = {line.id: line for line in quote.lines}
            note = f"Lot {lot_number} recalled: " + "; ".join(
                f"{lines[key].sku} holds {units} unit(s) fewer" for key, units in missing.items()) + "."
            quote.attention_note = f"{quote.attention_note}\n{note}".strip()
            quote.updated_at = utcnow()
            short.append(quote.number)
            db.session.flush()  # the view the e-mail shows reads the holds as they are now
            tell(quote, f"Quote {quote.number}: fewer units held", "quote_hold_short", lot_number=lot_number)
    return short
