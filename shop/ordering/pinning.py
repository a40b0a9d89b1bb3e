"""Lines pinned to a lot: which lot each pinned line means, and why a pinned lot that placing cannot draw from
is refused. Placing reads the candidate lots of every line anyway; a pinned lot among them costs nothing more.
Only a pinned lot that is not among them is looked up (one statement), to say whether it is no sellable lot of
the line's product at all (422, by field path) or a sellable lot this order cannot draw from (409, with why)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from shop.inventory.availability import ShelfLife, shelf_life
from shop.inventory.models import Batch, BatchStatus
from shop.ordering.checks import Errors, OrderRequest
from shop.ordering.planner import same_lot
from shop.ordering.reading import PackSize
from shop.platform.extensions import db


@dataclass(frozen=True, slots=True)
class Pins:
    """Per pinned line (by position): the lot as it spells its number, and for a lot placing cannot draw from
    at all, why (a 409's reason)."""

    lots: dict[int, str] = field(default_factory=dict)
    unusable: dict[int, str] = field(default_factory=dict)


def pins(request: OrderRequest, pack_sizes: Mapping[str, PackSize], expires_after: date, today: date,
         errors: Errors) -> Pins:
    """The pinned lots of the request's lines; a lot that is no sellable lot of its line's product is added to
    `errors` (`lines.N.lot_number`)."""
    found: dict[int, str] = {}
    missing: dict[int, str] = {}
    for position, asked in request.pinned().items():
        pack = pack_sizes.get(request.lines[position].sku)
        if pack is None or f"lines.{position}.lot_number" in errors:
            continue
        lot = next((lot for lot in pack.lots if same_lot(lot.lot_number, asked)), None)
        if lot is not None:
            found[position] = lot.lot_number
        else:
            missing[position] = asked
    if not missing:
        return Pins(found)
    batches = {row.lot_number.lower(): row for row in db.session.execute(
        select(Batch.lot_number, Batch.product_id, Batch.status, Batch.expires_on, Batch.on_request)
        .where(func.lower(Batch.lot_number).in_(sorted({asked.lower() for asked in missing.values()}))))}
    unusable: dict[int, str] = {}
    for position, asked in missing.items():
        pack = pack_sizes[request.lines[position].sku]
        batch = batches.get(asked.lower())
        problem = _not_sellable(batch, pack, today)
        if problem:
            errors[f"lines.{position}.lot_number"] = [problem.format(lot=asked, sku=pack.sku)]
            continue
        found[position] = batch.lot_number
        if batch.expires_on <= expires_after:
            unusable[position] = (f"lot {batch.lot_number} expires on {batch.expires_on.isoformat()}, within the "
                                  "order's minimum remaining shelf life")
        else:
            unusable[position] = f"lot {batch.lot_number} has no units of {pack.sku} left"
    return Pins(found, unusable)


def _not_sellable(batch, pack: PackSize, today: date) -> str | None:
    """Why the lot is no sellable lot of the pack size's product (a message with {lot} and {sku}), or None."""
    unknown = "No lot {lot} of the product of {sku}."
    if batch is None or batch.product_id != pack.product_id:
        return unknown
    state = shelf_life(batch.status, batch.expires_on, 0, today)
    if state is ShelfLife.NOT_RELEASED:
        # A recall is public (the lot's certificate says so); a lot in quarantine or rejected is not: it is answered
        # as one that does not exist, as its certificate is.
        return "Lot {lot} is recalled." if batch.status == BatchStatus.RECALLED else unknown
    if state is ShelfLife.EXPIRED:
        return "Lot {lot} has expired."
    if batch.on_request:
        return "Lot {lot} is sold only on request: ask us."
    return None
