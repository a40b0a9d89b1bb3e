"""Samples of a grade: a buyer's lab asks for some grams of it (storefront or API), sales ship them from a lot or
decline, and the lot's traceability lists who received them.

A sample leaves from one of two places, as sales choose: from sellable stock (whole units of a pack size, free
units of a released lot: a ledger SHIPMENT with no order, so on hand and every availability count go down), or
from the lot's retained sample (grams only: no stock row changes, no ledger row). Either way the sample records
the lot, and the buyer is told by e-mail.

Each use case checks everything first (errors by field path, nothing stored), writes, tells the buyer; the caller
commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import Customer, StaffUser
from shop.catalog.models import Product, Variant
from shop.inventory import ledger
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus, DateKind, Stock
from shop.ordering import checks
from shop.platform import mail
from shop.platform.database import utcnow
from shop.platform.errors import IllegalTransition, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.names import checked_name
from shop.platform.pagination import Page, page_of
from shop.platform.wording import units as units_in_words
from shop.sales import numbers
from shop.sales.models import SampleRequest, SampleStatus

MAX_GRAMS = 5000
MAX_NOTE = 2000
MAX_REASON = 2000
MAX_TRACKING = 100  # SampleRequest.tracking_reference
RETAINED = "retained"  # the source of a sample from the lot's retained sample (else: a SKU of the product)
QUEUE_ANSWERED = 50  # the latest shipped or declined requests shown below the waiting ones
GRAMS_MESSAGE = f"A whole number of grams from 1 to {MAX_GRAMS:,}."

Errors = dict[str, list[str]]


class Requester(Protocol):
    """Who asks: a storefront member (Customer) or an API key acting for its maker (ApiCustomer)."""

    id: int
    company_id: int
    key_id: int | None


@dataclass(frozen=True, slots=True)
class SampleView:
    """A sample request as the buyer, the API and the staff pages see it."""

    number: str
    status: SampleStatus
    product: str  # the grade's slug
    product_name: str
    quantity_g: int
    note: str
    requested_at: datetime
    requested_by: str  # the person's e-mail, or the API key's name
    company: str
    shipping_address: dict[str, str | None]  # line2 None when empty, as an order's
    lot_number: str | None  # once shipped
    shipped_at: datetime | None
    tracking_reference: str | None
    decline_reason: str | None
    sku: str | None  # shipped from stock: the pack size; from the retained sample: None
    units: int | None

    @property
    def from_stock(self) -> bool:
        return self.sku is not None


@dataclass(frozen=True, slots=True)
class LotChoice:
    """A lot sales may ship a sample from: released and not expired, with its free units per pack size."""

    lot_number: str
    expires_on: date
    date_kind: DateKind
    free: tuple[tuple[str, int], ...]  # (SKU, free units), pack sizes of the lot


@dataclass(frozen=True, slots=True)
class StaffSample:
    """The sales page of a request: it, and the lots it may ship from (first expiry first)."""

    sample: SampleView
    lots: tuple[LotChoice, ...]
    skus: tuple[str, ...]  # the product's pack sizes, for the source choice


@dataclass(frozen=True, slots=True)
class LotSample:
    """A sample shipped from a lot, as its traceability lists it: who received it, when, how much."""

    number: str
    company: str
    email: str  # the member who asked (an API key's maker)
    recipient: str  # the name on the shipping address
    requested_at: datetime
    shipped_at: datetime
    quantity_g: int
    sku: str | None
    units: int | None
    tracking_reference: str


# --- asking ---------------------------------------------------------------------------------------------------


def request_sample(requester: Requester, product: object, quantity_g: object, note: object,
                   shipping_address: object) -> SampleView:
    """Ask for `quantity_g` grams of a grade (its slug) to be sent to `shipping_address`; InvalidInput with every
    error by field path (an unknown product, grams not a whole number from 1 to 5,000, a note too long, a bad
    address), storing nothing. The caller commits."""
    errors: Errors = {}
    found = _product(product)
    if found is None:
        errors["product"] = [f"We have no product '{product}'." if isinstance(product, str) and product.strip()
                             else "Name the grade by its slug, such as 'l-leucine-usp'."]
    if isinstance(quantity_g, bool) or not isinstance(quantity_g, int) or not 1 <= quantity_g <= MAX_GRAMS:
        errors["quantity_g"] = [GRAMS_MESSAGE]
    text = _text(note, "note", MAX_NOTE, errors)
    address, address_errors = checks.shipping_address(shipping_address)
    errors.update(address_errors)
    if errors:
        raise InvalidInput(errors)
    assert found is not None and isinstance(quantity_g, int)
    now = utcnow()
    sample = SampleRequest(
        number=numbers.next_number(numbers.SAMPLE, now.year), company_id=requester.company_id,
        customer_id=requester.id, api_key_id=requester.key_id, product_id=found.id, quantity_g=quantity_g,
        note=text, status=SampleStatus.REQUESTED, requested_at=now, tracking_reference="", answer_note="",
        ship_name=address["name"], ship_line1=address["line1"], ship_line2=address.get("line2", ""),
        ship_city=address["city"], ship_postal_code=address["postal_code"], ship_country=address["country"])
    db.session.add(sample)
    db.session.flush()
    return view(sample)


def _product(slug: object) -> Product | None:
    if not isinstance(slug, str) or not slug.strip():
        return None
    return db.session.scalar(select(Product).where(Product.slug == slug.strip(), Product.active.is_(True)))


def _text(raw: object, field: str, limit: int, errors: Errors, *, required: str | None = None) -> str:
    """Free text (several lines allowed), trimmed; its error into `errors[field]`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[field] = [required]
        return ""
    if not isinstance(raw, str):
        errors[field] = ["Must be text."]
        return ""
    if len(raw.strip()) > limit:
        errors[field] = [f"At most {limit:,} characters."]
    return raw.strip()


# --- reading --------------------------------------------------------------------------------------------------


def _loaded():
    return select(SampleRequest).options(
        joinedload(SampleRequest.product), joinedload(SampleRequest.company), joinedload(SampleRequest.customer),
        joinedload(SampleRequest.api_key), joinedload(SampleRequest.batch),
        joinedload(SampleRequest.stock).joinedload(Stock.variant))


def _stored(number: object, *, lock: bool = False) -> SampleRequest | None:
    stored = numbers.parse_number(numbers.SAMPLE, number)
    if stored is None:
        return None
    if lock:  # the row alone (FOR UPDATE cannot lock the outer side of the joins), then its relations
        locked = db.session.scalar(select(SampleRequest).where(SampleRequest.number == stored)
                                   .with_for_update().execution_options(populate_existing=True))
        if locked is None:
            return None
    return db.session.scalar(_loaded().where(SampleRequest.number == stored))


def view(sample: SampleRequest) -> SampleView:
    shipped = sample.status == SampleStatus.SHIPPED
    stock = sample.stock
    return SampleView(
        number=sample.number, status=sample.status, product=sample.product.slug, product_name=sample.product.name,
        quantity_g=sample.quantity_g, note=sample.note, requested_at=sample.requested_at,
        requested_by=(sample.api_key or sample.customer).actor_name, company=sample.company.name,
        shipping_address={**sample.shipping_address, "line2": sample.ship_line2 or None},
        lot_number=sample.batch.lot_number if shipped and sample.batch else None,
        shipped_at=sample.answered_at if shipped else None,
        tracking_reference=sample.tracking_reference if shipped else None,
        decline_reason=sample.answer_note if sample.status == SampleStatus.DECLINED else None,
        sku=stock.variant.sku if stock is not None else None, units=sample.units)


def get_sample(number: str, company_id: int) -> SampleView:
    """One of the company's sample requests (its number in any case); NotFound for another company's."""
    sample = _stored(number)
    if sample is None or sample.company_id != company_id:
        raise NotFound(f"No sample request {number}.")
    return view(sample)


def list_samples(company_id: int, limit: int = 20, cursor: tuple[datetime, int] | None = None) -> Page:
    """The company's sample requests, newest first, after `cursor` (the last one's requested_at and id)."""
    stmt = (_loaded().where(SampleRequest.company_id == company_id)
            .order_by(SampleRequest.requested_at.desc(), SampleRequest.id.desc()).limit(limit + 1))
    if cursor is not None:
        at, last_id = cursor
        stmt = stmt.where((SampleRequest.requested_at < at)
                          | ((SampleRequest.requested_at == at) & (SampleRequest.id < last_id)))
    rows = list(db.session.scalars(stmt))
    page = page_of("samples", rows, limit, lambda s: (s.requested_at, s.id))
    return Page([view(s) for s in page.rows], page.next_cursor)


# --- sales ----------------------------------------------------------------------------------------------------


def sales_queue() -> list[SampleView]:
    """The requests waiting for sales, oldest first; then the latest shipped or declined ones."""
    waiting = db.session.scalars(_loaded().where(SampleRequest.status == SampleStatus.REQUESTED)
                                 .order_by(SampleRequest.requested_at, SampleRequest.id)).all()
    answered = db.session.scalars(_loaded().where(SampleRequest.status != SampleStatus.REQUESTED)
                                  .order_by(SampleRequest.requested_at.desc(), SampleRequest.id.desc())
                                  .limit(QUEUE_ANSWERED)).all()
    return [view(s) for s in [*waiting, *answered]]


def staff_sample(number: str) -> StaffSample:
    """A request for sales, with the lots of its grade it may ship from; NotFound if unknown."""
    sample = _stored(number)
    if sample is None:
        raise NotFound(f"No sample request {number}.")
    lots = db.session.scalars(
        select(Batch).where(_shippable(sample.product_id))
        .options(selectinload(Batch.stocks).joinedload(Stock.variant))
        .order_by(Batch.expires_on, Batch.id)).all()
    skus = db.session.scalars(
        select(Variant.sku).where(Variant.product_id == sample.product_id, Variant.active.is_(True))
        .order_by(Variant.pack_size_kg, Variant.id)).all()
    return StaffSample(view(sample), tuple(
        LotChoice(b.lot_number, b.expires_on, b.date_kind, tuple((s.variant.sku, s.available) for s in b.stocks))
        for b in lots), tuple(skus))


def _shippable(product_id: int):
    """A lot a sample of the product may come from: released, its date not come (on request or not)."""
    return (Batch.product_id == product_id) & (Batch.status == BatchStatus.RELEASED) & (Batch.expires_on > date.today())


def ship_sample(number: str, lot_number: object, source: object, units: object, tracking_reference: object,
                staff: StaffUser) -> SampleView:
    """Ship a requested sample from a released lot of its grade: from its retained sample (`source` RETAINED,
    no units) or from `units` free units of its stock in pack size `source` (a SKU), which leave through the
    ledger. InvalidInput by field (lot_number, source, units, tracking_reference) or IllegalTransition (no
    longer requested) change nothing. Tells the buyer. The caller commits."""
    sample = _open(number)
    errors: Errors = {}
    tracking = checked_name(tracking_reference, "tracking_reference", MAX_TRACKING, errors,
                            required="The carrier's tracking reference is required.")
    batch = _lot(sample, lot_number, errors)
    stock, count = None, None
    if source != RETAINED:
        stock, count = _stock_units(sample, batch, source, units, errors)
    elif units not in (None, ""):
        errors["units"] = ["A retained sample is sent in grams: leave the units empty."]
    if errors:
        raise InvalidInput(errors)
    assert batch is not None
    if stock is not None and count is not None:
        ledger.ship_free(stock, count, staff_id=staff.id, reason=f"Sample {sample.number}")
    sample.status = SampleStatus.SHIPPED
    sample.batch, sample.stock, sample.units = batch, stock, count
    sample.tracking_reference = tracking
    sample.answered_at, sample.answered_by_id = utcnow(), staff.id
    db.session.flush()
    shipped = view(sample)
    _tell(sample, f"Your sample {shipped.number} has shipped", "sample_shipped", shipped)
    return shipped


def _lot(sample: SampleRequest, lot_number: object, errors: Errors) -> Batch | None:
    if not isinstance(lot_number, str) or not lot_number.strip():
        errors["lot_number"] = ["Choose the lot the sample comes from."]
        return None
    batch = db.session.scalar(select(Batch).where(inventory.lot_number_is(lot_number.strip()),
                                                  _shippable(sample.product_id)))
    if batch is None:
        errors["lot_number"] = [f"Lot {lot_number.strip()} is no released, unexpired lot of "
                                f"{sample.product.name}."]
    return batch


def _stock_units(sample: SampleRequest, batch: Batch | None, sku: object, units: object,
                 errors: Errors) -> tuple[Stock | None, int | None]:
    """The lot's stock row of pack size `sku`, locked, and the units to take from it, when it has them free."""
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        errors["units"] = ["From stock: a whole number of units, at least 1."]
        units = None
    if not isinstance(sku, str) or not sku.strip():
        errors["source"] = ["Choose the retained sample or a pack size of the lot."]
        return None, None
    if batch is None:
        return None, None
    stock = db.session.scalar(
        select(Stock).join(Variant, Variant.id == Stock.variant_id)
        .where(Stock.batch_id == batch.id, Variant.sku == sku.strip(), Variant.product_id == sample.product_id)
        .with_for_update(of=Stock).execution_options(populate_existing=True))
    if stock is None:
        errors["source"] = [f"Lot {batch.lot_number} has no stock of {sku.strip()}."]
        return None, None
    if units is not None and units > stock.available:
        errors["units"] = [f"Lot {batch.lot_number} has {units_in_words(stock.available)} of {sku.strip()} free "
                           "(the rest is allocated or held)."]
    return stock, units


def decline_sample(number: str, reason: object, staff: StaffUser) -> SampleView:
    """Decline a requested sample, saying why (told to the buyer); InvalidInput (no reason) or IllegalTransition
    (no longer requested) change nothing. The caller commits."""
    errors: Errors = {}
    text = _text(reason, "reason", MAX_REASON, errors, required="Say why: the buyer reads it.")
    sample = _open(number)
    if errors:
        raise InvalidInput(errors)
    sample.status = SampleStatus.DECLINED
    sample.answer_note = text
    sample.answered_at, sample.answered_by_id = utcnow(), staff.id
    db.session.flush()
    declined = view(sample)
    _tell(sample, f"Your sample request {declined.number}", "sample_declined", declined)
    return declined


def _open(number: str) -> SampleRequest:
    """The request, locked; NotFound if unknown, IllegalTransition once it was shipped or declined."""
    sample = _stored(number, lock=True)
    if sample is None:
        raise NotFound(f"No sample request {number}.")
    if sample.status != SampleStatus.REQUESTED:
        raise IllegalTransition(f"Sample request {sample.number} was {sample.status} already.")
    return sample


def _tell(sample: SampleRequest, subject: str, template: str, shown: SampleView) -> None:
    """E-mail the member who asked (for an API key: its maker), if still active: sent once the caller commits."""
    customer: Customer = sample.customer
    if customer.active:
        mail.send(customer.email, subject, template, sample=shown,
                  link=mail.absolute_url("storefront.sample_detail", number=shown.number))


# --- traceability ---------------------------------------------------------------------------------------------


def shipped_from_lot(batch_id: int) -> list[LotSample]:
    """Every sample shipped from a lot, oldest first, with who received it (one statement)."""
    rows = db.session.scalars(
        _loaded().where(SampleRequest.batch_id == batch_id, SampleRequest.status == SampleStatus.SHIPPED)
        .order_by(SampleRequest.answered_at, SampleRequest.id))
    return [LotSample(s.number, s.company.name, s.customer.email, s.ship_name, s.requested_at, s.answered_at,
                      s.quantity_g,
                      s.stock.variant.sku if s.stock else None, s.units, s.tracking_reference) for s in rows]
