"""Placing an order: the pipeline from a request to written rows and taken stock, read top to bottom in
`place`. Optimistic: it reads and plans without locks and takes the stock with one conditional UPDATE as its
last write; a try that lost the race (or a deadlock: PostgreSQL aborts one of two orders whose UPDATEs met
their rows in different orders) is run again by platform.tx, and from the third try on the candidate stock rows
are locked first, in primary-key order, so that a long race ends. The API and the
storefront call `place` alike, each with its own idempotency key (see idempotency)."""
from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app

from shop.accounts.models import needs_approval
from shop.catalog import price_lists
from shop.inventory.availability import sellable_after
from shop.invoicing.vat import VatDecision, decision
from shop.ordering import announce, checks, credit, idempotency, persistence, pg_write, pinning, planner, views
from shop.ordering.checks import LineRequest, OrderRequest
from shop.ordering.lifecycle import CustomerRef
from shop.ordering.models import Order, OrderStatus
from shop.ordering.pricing import CONTRACT_PRICES, Price, PricingPolicy
from shop.ordering.queries import get_order
from shop.ordering.reading import Buyer, PackSize, read_order
from shop.ordering.rows import OrderRows, order_rows, placed_order
from shop.ordering.totals import order_totals
from shop.platform import tx
from shop.platform.database import utcnow
from shop.platform.errors import InsufficientStock, Shortfall
from shop.platform.extensions import db
from shop.specifications.service import NO_SPECIFICATION, Conformance, conformance

# Crockford's base32 without I, L, O, U: easy to read out on the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """An order as a buyer asks for it, from the API or the storefront alike: who (a member of a company, or
    an API key's maker), the lines (SKU and units), where to ship, the buyer's PO reference and the minimum
    remaining shelf life (None: the shop's default). Values are checked by `place`, not here."""

    customer: CustomerRef
    lines: Sequence[Mapping[str, object] | LineRequest]
    shipping_address: Mapping[str, object]
    purchase_order: str | None = None
    min_remaining_shelf_life_days: int | None = None
    single_lot: bool = False
    allow_backorder: bool = False

    def payload(self) -> dict[str, object]:
        """The order asked for as JSON-ready data: what an idempotency key's fingerprint covers. A pinned lot
        single_lot and allow_backorder appear only when asked for, so that an order without them keeps its
        fingerprint."""
        payload: dict[str, object] = {
            "lines": [_line_payload(checks.as_line(line)) for line in self.lines],
            "shipping_address": dict(self.shipping_address), "purchase_order": self.purchase_order,
            "min_remaining_shelf_life_days": self.min_remaining_shelf_life_days}
        if self.single_lot is not False:
            payload["single_lot"] = self.single_lot
        if self.allow_backorder is not False:
            payload["allow_backorder"] = self.allow_backorder
        return payload


def _line_payload(line: LineRequest) -> dict[str, object]:
    shown = dataclasses.asdict(line)
    if shown["lot_number"] is None:
        del shown["lot_number"]
    return shown


@dataclass(frozen=True, slots=True)
class Placed:
    """What placing came to: the order's view (what GET /api/v1/orders/<number> answered right after, and its
    order.placed event's data), and whether it is the outcome of an earlier call with the same key."""

    order: Mapping[str, Any]
    replayed: bool = False

    @property
    def number(self) -> str:
        return self.order["number"]


def place(command: PlaceOrder, *, idempotency_key: str | None = None,
          rules: idempotency.Rules = idempotency.API_RULES, pricing: PricingPolicy = CONTRACT_PRICES) -> Placed:
    """Place an order, all or nothing, once per `idempotency_key`, in a transaction of its own (run again
    when it lost a race: see platform.tx.run_in_transaction); answer the order's view. A refusal raises its
    DomainError, every error at once; with a key, `idempotency` keeps it as the key's outcome or not, by `rules`.

    1. Check the request; every error is kept, by field path.
    2. Read the requested pack sizes, their prices for the quantities (public, and the company's contract
       price on the day), the company's terms (approval threshold, payment terms, VAT ID, credit limit and, with
       a limit, its open exposure), the seller's VAT rate and the EU's members, their candidate lots and the
       key's record, taking the key's lock (one statement). A key already answered ends here: its outcome
       again, or KeyReused.
    3. Check what needs the catalog (unknown SKUs, pack sizes no longer sold, minimum orders): raise
       InvalidInput with every error.
    4. Price each line with `pricing` (by default the company's contract price where it has one).
    5. Plan the allocation first-expired-first-out among the lots each line may draw from (its shelf life, its
       pinned lot, and for a company with a specification of the grade the lots that meet it: one statement
       more, only then): raise InsufficientStock naming every short line, unless the order allows a backorder:
       then the units not found are each line's `backordered_quantity`, allocated when a lot is released.
    6. Decide its VAT (invoicing.vat, from what step 2 read) and build the rows on the company's payment terms,
       with subtotal, VAT and total (ordering.totals): a buyer's order whose total is above the company's approval
       threshold starts awaiting approval, its stock allocated all the same. On net terms with a credit limit, raise
       CreditLimitExceeded when the company's open exposure leaves no room for the total (ordering.credit: at
       most one statement more, atomic). Then the PlacedOrder they show and its view, dumped once for its
       order.placed event and the key's record.
    7. Write them (the event and the key's record with them) and take the stock, as the last write before
       COMMIT.

    A SKU may appear on one line only (a second line is refused, not merged), so that the line numbers an
    integrator sent stay the line numbers we answer with.
    """
    key = order_key(command, idempotency_key, rules) if idempotency_key is not None else None
    outcome = idempotency.once(key, _place, command, pricing, work_reads_key=True)
    return Placed(outcome.result, outcome.replayed)


def placed_with_key(company_id: int, idempotency_key: str) -> Placed | None:
    """The order that `place` placed with a company's key, as a replay; None when the key placed none."""
    outcome = idempotency.kept_result(company_id, idempotency_key)
    return Placed(outcome.result, replayed=True) if outcome is not None else None


def order_key(command: PlaceOrder, value: str, rules: idempotency.Rules = idempotency.API_RULES) -> idempotency.Key:
    """The idempotency Key of `value` for placing `command`: the same for the API and the storefront."""
    return idempotency.key(command.customer.company_id, value, "PLACE", "ordering.place", command.payload(), rules)


def place_here(command: PlaceOrder, pricing: PricingPolicy = CONTRACT_PRICES, *,
               drawing_first: Mapping[int, Collection[int]] | None = None) -> Mapping[str, Any]:
    """`place`'s steps, without a key, in the caller's transaction: for a use case of which placing an order is
    one step (a quote's acceptance keeps the key and commits). `drawing_first`: per line position, stock rows the
    line draws from before any other (the units a quote held, given back in this transaction), as far as the
    line's rules allow; the rest first-expired-first-out as usual. The new order's view."""
    return _place(None, command, pricing, drawing_first)


def _place(claim: idempotency.Claim | None, command: PlaceOrder, pricing: PricingPolicy,
           drawing_first: Mapping[int, Collection[int]] | None = None,
           placed_at: datetime | None = None) -> Mapping[str, Any]:
    """`place`'s steps inside its transaction; the new order's view (placed now, unless `placed_at` says when)."""
    customer = command.customer
    request, errors = checks.check_request(customer.id, customer.company_id, command.lines, command.shipping_address,
                                           command.purchase_order, command.min_remaining_shelf_life_days,
                                           command.single_lot, command.allow_backorder)
    shelf = request.shelf_life_days if "min_remaining_shelf_life_days" not in errors else 0
    expires_after = sellable_after(shelf or 0)
    pack_sizes, buyer, key_row = read_order(db.session.connection(), request.quantities(), expires_after,
                                     customer.company_id, price_lists.today(), lock=tx.attempt() >= 3,
                                     key=claim.key if claim is not None else None,
                                     seller_country=current_app.config["SHOP_COUNTRY"])
    if claim is not None:
        claim.check(key_row)
    pinned = pinning.pins(request, pack_sizes, expires_after, date.today(), errors)
    checks.check_pack_sizes(request, pack_sizes, errors)
    prices = [pricing.price(pack_sizes[line.sku], line.quantity) for line in request.lines]
    plan = plan_allocation(request, pack_sizes, expires_after, pinned, backorder=request.allow_backorder,
                           drawing_first=drawing_first)
    now = placed_at or utcnow()
    vat = decision(buyer.vat_facts, seller_country=current_app.config["SHOP_COUNTRY"],
                   ship_country=request.address["country"], buyer_vat_id=buyer.vat_id)
    rows = order_rows(request, {sku: pack.id for sku, pack in pack_sizes.items()}, prices, plan,
                      number=new_order_number(now), currency=current_app.config["SHOP_CURRENCY"], now=now,
                      expires_after=expires_after, status=initial_status(customer, request, buyer, prices, vat),
                      api_key_id=customer.key_id, placed_by=customer.actor_name, pinned=pinned.lots,
                      payment_terms=buyer.payment_terms, vat=vat)
    credit.check_placing(db.session.connection(), customer.company_id, buyer, rows.order["total"],
                         rows.order["currency"])
    placed = placed_order(rows, {sku: pack.pack_size_kg for sku, pack in pack_sizes.items()})
    view = views.order(placed)
    write_order(rows, announce.order_placed(placed, customer.id, view),
                claim.record(view) if claim is not None else None)
    return view


def place_order(customer: CustomerRef, lines: Sequence[Mapping[str, object] | LineRequest],
                shipping_address: Mapping[str, object], purchase_order: str | None = None,
                min_remaining_shelf_life_days: int | None = None, single_lot: bool = False,
                allow_backorder: bool = False, placed_at: datetime | None = None) -> Order:
    """`place`'s steps without a key in the caller's transaction (the caller commits), answering the new order
    as the session's Order (with its lines, allocations and lots): the tests' short way to an order whose rows
    they go on with, or roll back. `placed_at`, for a history recorded after the fact (the demo's): when it was
    placed, which its number and first status say; the catalog, stock and prices are still today's."""
    command = PlaceOrder(customer, lines, shipping_address, purchase_order, min_remaining_shelf_life_days,
                         single_lot, allow_backorder)
    return get_order(_place(None, command, CONTRACT_PRICES, placed_at=placed_at)["number"])


def initial_status(customer: CustomerRef, request: OrderRequest, buyer: Buyer, prices: list[Price],
                   vat: VatDecision) -> OrderStatus:
    """Awaiting approval for a buyer's order whose total (VAT included, as the checkout shows it) is above the
    company's threshold, else pending."""
    money = order_totals((price.total(line.quantity) for line, price in zip(request.lines, prices, strict=True)),
                         vat.rate)
    return (OrderStatus.AWAITING_APPROVAL if needs_approval(buyer.approval_threshold, customer.role, money.gross)
            else OrderStatus.PENDING)


def plan_allocation(request: OrderRequest, pack_sizes: Mapping[str, PackSize], expires_after: date,
                    pinned: pinning.Pins | None = None, *, backorder: bool = False,
                    drawing_first: Mapping[int, Collection[int]] | None = None) -> planner.Plan:
    """Every line's picks, keyed by its position (drawn first from its `drawing_first` stock rows); raise
    InsufficientStock naming each short line (with the units in lots outside the company's specification, and a
    pinned lot and why it falls short), unless `backorder`: then `Plan.missing` is what each line backorders."""
    pinned = pinned or pinning.Pins()
    first = drawing_first or {}
    needs = [planner.Need(position, pack_sizes[line.sku].id, line.quantity, expires_after, request.single_lot,
                          pinned.lots.get(position), frozenset(first.get(position, ())))
             for position, line in enumerate(request.lines)]
    lots = [lot for pack in pack_sizes.values() for lot in pack.lots]
    specified = [lot.batch_id for pack in pack_sizes.values() if pack.specified for lot in pack.lots]
    spec = conformance(request.company_id, specified) if specified else NO_SPECIFICATION
    rules = (*planner.DEFAULT_RULES, planner.meeting(spec.meets)) if specified else planner.DEFAULT_RULES
    plan = planner.plan(needs, lots, rules)
    if plan.missing and not backorder:
        raise InsufficientStock([_shortfall(need, line, pack_sizes[line.sku], plan, spec, pinned)
                                 for need, line in zip(needs, request.lines, strict=True) if need.key in plan.missing])
    return plan


def _shortfall(need: planner.Need, line: LineRequest, pack: PackSize, plan: planner.Plan, spec: Conformance,
               pinned: pinning.Pins) -> Shortfall:
    """What a short line is told: the units it could have, those in lots outside the company's specification
    (for a grade it limits), and for a pinned lot or a single-lot order, why the lot falls short."""
    usable = [lot for lot in pack.lots if planner.within_shelf_life(need, lot) and planner.pinned_lot(need, lot)]
    outside = (sum(lot.free for lot in usable if not spec.meets(lot.batch_id))
               if pack.specified else None)
    reason = pinned.unusable.get(need.key)
    if reason is None and need.lot_number is not None:
        lot = next((lot for lot in usable), None)
        if lot is not None and not spec.meets(lot.batch_id):
            failed = ", ".join(limit.test for limit in spec.failures(lot.batch_id))
            reason = f"lot {lot.lot_number} does not meet your specification ({failed})"
        elif lot is not None:
            reason = f"lot {lot.lot_number} has {lot.free} units of {pack.sku} free"
    elif reason is None and need.single_lot:
        reason = f"no one lot has {need.quantity} units of {pack.sku} that this order may draw from"
    return Shortfall(line.sku, line.quantity, line.quantity - plan.missing[need.key], outside, need.lot_number,
                     reason)


def write_order(rows: OrderRows, event: Mapping[str, object], record: Mapping[str, object] | None) -> None:
    """Write the new order's rows, its order.placed `event` (an outbox row) and `record` (when given), and
    take its stock: the one place where a new order is written, in the order's own transaction. On PostgreSQL
    one statement (pg_write), elsewhere, and for an order that backorders units, one per table (persistence: the
    one statement has no room for the columns a backorder sets)."""
    conn = db.session.connection()
    one_statement = conn.dialect.name == "postgresql" and not rows.backordered
    write = pg_write.write_order if one_statement else persistence.write_order
    write(conn, rows, event, record)
    persistence.forget_stock_counts(db.session, [pick.lot.stock_id for pick in rows.picks])


def new_order_number(now: datetime | None = None) -> str:
    """A human-readable order number such as LS-261126-7KQ4M (date, then 5 random characters)."""
    now = now or datetime.now(UTC)
    suffix = "".join(_NUMBER_ALPHABET[byte % 32] for byte in secrets.token_bytes(5))  # 32 divides 256: unbiased
    return f"LS-{now:%y%m%d}-{suffix}"
