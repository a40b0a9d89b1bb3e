"""Use cases of quotes, in their life's order: a buyer requests one; sales answer it (prices, the last valid day,
maybe a hold) or withdraw it; the buyer accepts it into an order (through the order engine, at the quoted prices,
from the held lots) or declines it; unanswered by the buyer in time, it expires (a periodic job). Every move is
one of rules.TRANSITIONS; a hold ends with its quote (holds). Requests and acceptances run their own
transaction with their idempotency key, as placing an order does; the other use cases leave the commit to the
caller."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, select, tuple_, update
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import Company, StaffUser
from shop.catalog import price_lists
from shop.catalog.models import PriceList, PriceListItem, Product, Variant
from shop.catalog.tiers import Price, Tier, price_for
from shop.ordering import idempotency, placing
from shop.ordering.checks import min_order_message
from shop.ordering.lifecycle import CustomerRef
from shop.ordering.models import Order, OrderStatusChange
from shop.ordering.placing import Placed, PlaceOrder
from shop.ordering.reading import PackSize
from shop.platform import outbox, pagination
from shop.platform.audit import audit
from shop.platform.database import utcnow
from shop.platform.errors import IllegalTransition, InvalidInput, NotFound, QuoteNotOpen
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.sales import holds, numbers, rules, views
from shop.sales.models import Quote, QuoteLine, QuoteStatus
from shop.sales.telling import tell

QUOTED = "quote"  # a quoted price's source (beside the catalog's "contract" and "list")
QUEUE_WAITING = (QuoteStatus.REQUESTED, QuoteStatus.ANSWERED)
# The event each move announces to the quote's company (and e-mails the requester): the types of DESIGN.md.
QUOTE_EVENTS = {QuoteStatus.ANSWERED: "quote.answered", QuoteStatus.EXPIRED: "quote.expired"}


def _options():
    """What a quote's view reads, loaded with it in a fixed number of statements, for any number of quotes."""
    return (selectinload(Quote.lines).selectinload(QuoteLine.holds), joinedload(Quote.order),
            joinedload(Quote.customer), joinedload(Quote.api_key))


# --- Requesting -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestQuote:
    """A quote as a buyer asks for it, from the API or the storefront; values are checked by `request_quote`."""

    customer: CustomerRef
    lines: Sequence[Mapping[str, object]]
    min_remaining_shelf_life_days: object = None
    needed_by: object = None  # a date, an ISO string, or None
    note: object = None

    def payload(self) -> dict[str, object]:
        """The request as JSON-ready data: what an idempotency key's fingerprint covers."""
        lines = [{"sku": line.get("sku"), "quantity": line.get("quantity")} if isinstance(line, Mapping) else line
                 for line in self.lines] if isinstance(self.lines, Sequence) else self.lines
        return {"lines": lines, "min_remaining_shelf_life_days": self.min_remaining_shelf_life_days,
                "needed_by": str(self.needed_by) if self.needed_by is not None else None, "note": self.note}


@dataclass(frozen=True)
class Requested:
    """What requesting came to: the quote's view, and whether it is an earlier request's with the same key."""

    quote: Mapping[str, Any]
    replayed: bool = False


def request_quote(command: RequestQuote, *, idempotency_key: str | None = None,
                  key_rules: idempotency.Rules = idempotency.API_RULES) -> Requested:
    """Record a buyer's request for a quote, once per key, in a transaction of its own; its view. InvalidInput by
    field path (no lines, an unknown SKU, a quantity that is no positive whole number, a SKU twice, a needed_by
    that is past or no date, a note too long), nothing stored."""
    key = None
    if idempotency_key is not None:
        key = idempotency.key(command.customer.company_id, idempotency_key, "QUOTE", "sales.request_quote",
                              command.payload(), key_rules)
    outcome = idempotency.once(key, _request, command)
    return Requested(outcome.result, outcome.replayed)


def _request(claim: idempotency.Claim | None, command: RequestQuote) -> Mapping[str, Any]:
    customer = command.customer
    request, errors = rules.request_errors(command.lines, command.min_remaining_shelf_life_days,
                                           command.needed_by, command.note, price_lists.today())
    variants = _sold_variants([sku for sku, _ in request.lines])
    for position, line in enumerate(command.lines if not errors.get("lines") else ()):
        sku = line.get("sku") if isinstance(line, Mapping) else None
        if not isinstance(sku, str):
            continue
        pack = variants.get(sku.strip())
        if pack is None and f"lines.{position}.sku" not in errors:
            errors[f"lines.{position}.sku"] = [f"Unknown SKU '{sku.strip()}'."]
        elif pack is not None and f"lines.{position}.quantity" not in errors \
                and line["quantity"] < pack.min_order_quantity:
            # The pack size's minimum, as an order has it: a quote below it could be answered and never accepted.
            errors[f"lines.{position}.quantity"] = [min_order_message(pack.sku, pack.min_order_quantity)]
    if errors:
        raise InvalidInput(errors)
    now = utcnow()
    quote = Quote(number=numbers.next_number(numbers.QUOTE, now.year), company_id=customer.company_id,
                  customer_id=customer.id, api_key_id=customer.key_id, requested_at=now, updated_at=now,
                  min_remaining_shelf_life_days=request.shelf_life_days, needed_by=request.needed_by,
                  note=request.note,
                  lines=[QuoteLine(position=i, variant_id=variants[sku].id, sku=sku, quantity=quantity)
                         for i, (sku, quantity) in enumerate(request.lines)])
    db.session.add(quote)
    db.session.flush()
    return views.quote(get_quote(quote.number))


def _sold_variants(skus: Sequence[str]) -> dict[str, Variant]:
    """The pack sizes on sale among `skus`, by SKU (one statement)."""
    if not skus:
        return {}
    return {v.sku: v for v in db.session.scalars(
        select(Variant).join(Product, Product.id == Variant.product_id)
        .where(Variant.sku.in_(set(skus)), Variant.active.is_(True), Product.active.is_(True)))}


# --- Reading --------------------------------------------------------------------------------------------------

def get_quote(number: str, company_id: int | None = None, *, lock: bool = False) -> Quote:
    """A quote by its number (any letter case), of the company when one is given; NotFound otherwise (another
    company's quote is as unknown as a number never given). With `lock`, its row is locked."""
    stored = numbers.parse_number(numbers.QUOTE, number)
    quote = None
    if stored is not None:
        stmt = select(Quote).where(Quote.number == stored).options(*_options())
        if lock:
            stmt = stmt.with_for_update(of=Quote).execution_options(populate_existing=True)
        quote = db.session.scalar(stmt)
    if quote is None or (company_id is not None and quote.company_id != company_id):
        raise NotFound(f"No quote {number}.")
    return quote


def list_quotes(company_id: int, limit: int = 20, cursor: str | None = None) -> pagination.Page:
    """The company's quotes, newest first, `limit` at a time after `cursor` (a page's next_cursor): Quote rows.
    InvalidInput (`cursor`) for a cursor that is not one of this list's."""
    stmt = (select(Quote).where(Quote.company_id == company_id).options(*_options())
            .order_by(Quote.requested_at.desc(), Quote.id.desc()).limit(limit + 1))
    if cursor:
        stmt = stmt.where(tuple_(Quote.requested_at, Quote.id) < tuple_(*_after("quotes", cursor)))
    return pagination.page_of("quotes", list(db.session.scalars(stmt)), limit, lambda q: (q.requested_at, q.id))


@dataclass(frozen=True)
class QueuedLine:
    """A quote line as sales price it: the list price for its quantity (price breaks applied) and the company's
    contract price for it (None without one)."""

    line: QuoteLine
    list_price: Decimal
    contract_price: Decimal | None


@dataclass(frozen=True)
class Queued:
    """A quote in the sales queue, with its company's name and its lines' prices."""

    quote: Quote
    company: str
    lines: tuple[QueuedLine, ...]


def sales_queue(limit: int = 50, cursor: str | None = None) -> pagination.Page:
    """What sales work on: the requested quotes, oldest first, then the answered ones (which sales may withdraw),
    oldest first; each with its company and prices (a fixed number of statements per page). Rows: Queued."""
    rank = case((Quote.status == QuoteStatus.REQUESTED, 0), else_=1)
    stmt = (select(Quote, Company.name).join(Company, Company.id == Quote.company_id)
            .where(Quote.status.in_(QUEUE_WAITING))
            .options(*_options(), selectinload(Quote.lines).selectinload(QuoteLine.variant)
                     .selectinload(Variant.price_breaks))
            .order_by(rank, Quote.requested_at, Quote.id).limit(limit + 1))
    if cursor:
        stmt = stmt.where(tuple_(rank, Quote.requested_at, Quote.id) > tuple_(*_after("sales-queue", cursor)))
    rows = db.session.execute(stmt).all()
    contracts = _contract_tiers({q.company_id for q, _ in rows}, {line.variant_id for q, _ in rows for line in q.lines})
    queued = [Queued(q, name, tuple(_queued_line(line, contracts.get((q.company_id, line.variant_id), ())) for line in
                                    q.lines)) for q, name in rows]
    return pagination.page_of("sales-queue", queued, limit,
                              lambda e: (0 if e.quote.status == QuoteStatus.REQUESTED else 1, e.quote.requested_at,
                                         e.quote.id))


def _queued_line(line: QuoteLine, contract: Sequence[Tier]) -> QueuedLine:
    breaks = [Tier(b.min_quantity, b.unit_price) for b in line.variant.price_breaks]
    public = price_for(line.quantity, line.variant.unit_price, breaks)
    contracted = price_for(line.quantity, line.variant.unit_price, breaks, contract) if contract else None
    return QueuedLine(line, public.unit_price, contracted.unit_price if contracted is not None else None)


def _contract_tiers(company_ids: set[int], variant_ids: set[int]) -> dict[tuple[int, int], list[Tier]]:
    """Per (company, pack size), the contract tiers that apply today: one statement for a page of quotes."""
    if not company_ids or not variant_ids:
        return {}
    tiers: dict[tuple[int, int], list[Tier]] = {}
    for company_id, variant_id, min_quantity, unit_price, list_id in db.session.execute(
            select(PriceList.company_id, PriceListItem.variant_id, PriceListItem.min_quantity,
                   PriceListItem.unit_price, PriceListItem.price_list_id)
            .join(PriceList, PriceList.id == PriceListItem.price_list_id)
            .where(PriceList.company_id.in_(company_ids), PriceListItem.variant_id.in_(variant_ids),
                   price_lists.applies_on(price_lists.today()))):
        tiers.setdefault((company_id, variant_id), []).append(Tier(min_quantity, unit_price, list_id))
    return tiers


def _after(kind: str, cursor: str) -> tuple[Any, ...]:
    try:
        return pagination.decode_cursor(kind, cursor)
    except ValueError as error:
        raise InvalidInput({"cursor": [str(error)]}) from None


# --- Sales' side ----------------------------------------------------------------------------------------------

def answer_quote(number: str, prices: Mapping[int, object], valid_until: object, note: object, hold: bool,
                 staff: StaffUser) -> Quote:
    """Answer a requested quote: a unit price per line (by position), valid through `valid_until` (today or later,
    UTC), sales' note, and with `hold` its units set aside (as many as there are). Announces quote.answered (which
    e-mails the requester); the caller commits. InvalidInput by field path (`lines.<position>.unit_price`,
    `valid_until`, `note`) or IllegalTransition (not requested) before anything changes."""
    quote = get_quote(number, lock=True)
    if not rules.may_move(quote.status, QuoteStatus.ANSWERED):
        raise IllegalTransition(f"Quote {quote.number} is {quote.status.value}: only a requested quote is answered.")
    parsed, day, text, errors = rules.answer_errors(prices, [line.position for line in quote.lines], valid_until,
                                                    note, price_lists.today())
    if errors:
        raise InvalidInput(errors)
    for line in quote.lines:
        line.unit_price = parsed[line.position]
    now = utcnow()
    quote.status, quote.valid_until, quote.answer_note, quote.hold = QuoteStatus.ANSWERED, day, text, bool(hold)
    quote.answered_at, quote.answered_by_id, quote.updated_at = now, staff.id, now
    if hold:
        holds.hold(quote, staff_id=staff.id)
    db.session.flush()
    _announce(quote)
    return quote


def withdraw_quote(number: str, staff: StaffUser, note: str = "") -> Quote:
    """Sales take back a requested or answered quote; its holds go back to stock. The caller commits."""
    quote = get_quote(number, lock=True)
    errors: rules.Errors = {}
    text = rules.note_errors(note, "note", errors)
    if errors:
        raise InvalidInput(errors)
    _close(quote, QuoteStatus.WITHDRAWN, staff_id=staff.id)
    if text:
        quote.answer_note = text
    audit(staff, "quote.withdrawn", f"quote {quote.number}", text or "Withdrawn.")
    db.session.flush()
    tell(quote, f"Quote {quote.number} withdrawn", "quote_withdrawn")
    return quote


def _close(quote: Quote, status: QuoteStatus, *, staff_id: int | None) -> None:
    """End a quote in `status` (declined, withdrawn, expired): its holds go back to stock. IllegalTransition when
    it may not move there."""
    if not rules.may_move(quote.status, status):
        raise IllegalTransition(f"Quote {quote.number} is {quote.status.value}: it cannot be {status.value}.")
    holds.release(quote, status.value, staff_id=staff_id)
    now = utcnow()
    quote.status, quote.closed_at, quote.updated_at = status, now, now


# --- The buyer's side -----------------------------------------------------------------------------------------

def decline_quote(number: str, customer: CustomerRef) -> Quote:
    """The buyer says no to an answered quote of their company, through its last valid day; its holds go back to
    stock. The caller commits. QuoteNotOpen, as for accepting, when it is not answered (still requested, or closed)
    or is past its last valid day."""
    quote = get_quote(number, customer.company_id, lock=True)
    _require_open(quote, "declined")
    _close(quote, QuoteStatus.DECLINED, staff_id=None)
    db.session.flush()
    return quote


def _require_open(quote: Quote, action: str) -> None:
    """QuoteNotOpen unless the buyer may still accept or decline the quote (rules.is_open), saying why."""
    if not rules.is_open(quote.status, quote.valid_until, price_lists.today()):
        said = (f"was valid until {quote.valid_until.isoformat()}" if quote.status == QuoteStatus.ANSWERED
                else "is not answered yet" if quote.status == QuoteStatus.REQUESTED
                else f"is {quote.status.value}")
        raise QuoteNotOpen(f"Quote {quote.number} {said}: it cannot be {action}.")


@dataclass(frozen=True)
class QuotedPrices:
    """The pricing policy of an order that accepts a quote: each SKU at its quoted unit price."""

    unit_prices: Mapping[str, Decimal]

    def price(self, pack: PackSize, quantity: int) -> Price:
        return Price(self.unit_prices[pack.sku], QUOTED)


def accept_quote(number: str, customer: CustomerRef, shipping_address: Mapping[str, object],
                 purchase_order: object = None, *, idempotency_key: str | None = None,
                 key_rules: idempotency.Rules = idempotency.API_RULES) -> Placed:
    """Turn an answered quote of the buyer's company into an order, once per key, in a transaction of its own,
    through the order engine: at the quoted prices, drawing first from the held lots (their holds handed to the
    order in the same transaction), the rest first-expired-first-out; approval and everything placing checks
    apply. QuoteNotOpen when it is not answered or past its last valid day (whether or not the expiry job ran);
    InsufficientStock when unheld units are short. The order's view."""
    key = None
    if idempotency_key is not None:
        payload = {"quote": number.strip().upper() if isinstance(number, str) else number,
                   "shipping_address": dict(shipping_address) if isinstance(shipping_address, Mapping)
                   else shipping_address, "purchase_order": purchase_order}
        key = idempotency.key(customer.company_id, idempotency_key, "ACCEPT", "sales.accept_quote", payload,
                              key_rules)
    outcome = idempotency.once(key, _accept, number, customer, shipping_address, purchase_order)
    return Placed(outcome.result, outcome.replayed)


def _accept(claim: idempotency.Claim | None, number: str, customer: CustomerRef,
            shipping_address: Mapping[str, object], purchase_order: object) -> Mapping[str, Any]:
    quote = get_quote(number, customer.company_id, lock=True)
    _require_open(quote, "accepted")
    drawing_first = holds.give_back_for_order(quote)
    command = PlaceOrder(customer, [{"sku": line.sku, "quantity": line.quantity} for line in quote.lines],
                         shipping_address, purchase_order,  # type: ignore[arg-type]
                         min_remaining_shelf_life_days=quote.min_remaining_shelf_life_days)
    view = placing.place_here(command, QuotedPrices({line.sku: line.unit_price for line in quote.lines}),
                              drawing_first=drawing_first)
    order_id = db.session.scalar(select(Order.id).where(Order.number == view["number"]))
    db.session.execute(update(OrderStatusChange)
                       .where(OrderStatusChange.order_id == order_id, OrderStatusChange.from_status.is_(None))
                       .values(note=f"Order placed from quote {quote.number}"))
    now = utcnow()
    quote.status, quote.order_id, quote.closed_at, quote.updated_at = QuoteStatus.ACCEPTED, order_id, now, now
    db.session.flush()
    return view


# --- Expiry ---------------------------------------------------------------------------------------------------

def expire_quotes(today: date | None = None) -> list[str]:
    """The periodic job's work, in a transaction of its own: every answered quote whose last valid day is before
    `today` (UTC) expires, its holds go back to stock, and quote.expired is announced (and e-mailed). The numbers
    expired."""
    return run_in_transaction(_expire, today or price_lists.today())


def _expire(today: date) -> list[str]:
    due = list(db.session.scalars(
        select(Quote).where(Quote.status == QuoteStatus.ANSWERED, Quote.valid_until < today)
        .order_by(Quote.id).with_for_update(of=Quote, skip_locked=True).options(*_options())))
    for quote in due:
        _close(quote, QuoteStatus.EXPIRED, staff_id=None)
    db.session.flush()
    for quote in due:
        _announce(quote)
    return [quote.number for quote in due]


def _announce(quote: Quote) -> None:
    """The event of the quote's new status (QUOTE_EVENTS) to its company's endpoints, its data the quote's view;
    its e-mail goes to the requester."""
    outbox.announce(outbox.Event(QUOTE_EVENTS[quote.status], views.quote(quote), quote.customer_id, quote.number))
