"""Reading what an order needs, in one statement: per requested SKU its pack size, the prices for the line's
quantity (public, and the ordering company's contract price), the company's terms (`Buyer`: approval threshold,
payment terms, VAT ID, credit limit and, only with a limit, its open exposure), and the stock rows it may draw
from, as plain values (a Core SELECT: the ORM's loading of these rows cost more than the query itself); with an
idempotency key, the key's record too (see idempotency: the key costs no statement of its own)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Row,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    literal_column,
    null,
    select,
)

from shop.accounts.models import PREPAID, Company
from shop.catalog.models import PriceBreak, PriceList, PriceListItem, Product, Variant
from shop.catalog.price_lists import applies_on
from shop.inventory.availability import sellable_lot_condition
from shop.inventory.models import Batch, Stock
from shop.invoicing import vat
from shop.invoicing.money import cents
from shop.ordering import idempotency
from shop.ordering.exposure import exposure_of
from shop.ordering.planner import StockLot
from shop.specifications.models import CustomerSpecification


@dataclass(frozen=True, slots=True)
class PackSize:
    """A requested variant as placing an order needs it."""

    id: int
    sku: str
    active: bool
    min_order_quantity: int
    list_price: Decimal
    break_price: Decimal | None  # the deepest price break the line's quantity reaches, if any
    lots: list[StockLot] = field(default_factory=list)  # sellable stock rows with units left, FEFO
    contract_price: Decimal | None = None  # the company's contract price for the quantity on the day, if any
    price_list_id: int | None = None  # the contract list it comes from
    pack_size_kg: Decimal = Decimal("0")  # net mass of one unit
    product_id: int = 0
    specified: bool = False  # the ordering company has a specification of the product (its lots must meet it)


@dataclass(frozen=True, slots=True)
class Buyer:
    """The ordering company as placing an order needs it. `exposure` is read only for a company with a credit
    limit (an order of a company without one costs no work more); `version` (PostgreSQL: the row's xmin) lets
    credit.claim tell whether another transaction changed the company since."""

    approval_threshold: Decimal | None = None
    payment_terms: str = PREPAID
    vat_id: str = ""
    credit_limit: Decimal | None = None
    exposure: Decimal | None = None
    version: str | None = None
    vat_facts: vat.VatFacts = vat.VatFacts(None, frozenset())  # the seller's rate and the EU, for the order's VAT


def read_pack_sizes(conn: Connection, quantities: dict[str, int], expires_after: date, company_id: int,
                    day: date, *, lock: bool = False) -> dict[str, PackSize]:
    """The pack sizes of `quantities` (units per SKU), each priced for its quantity (publicly, and by the
    company's contract list that applies on `day`), with its sellable lots that expire after `expires_after`;
    unknown SKUs are absent. With `lock` the candidate stock rows are locked first, in primary-key order (a
    try that lost the race twice)."""
    return read_order(conn, quantities, expires_after, company_id, day, lock=lock, seller_country="")[0]


def read_order(conn: Connection, quantities: dict[str, int], expires_after: date, company_id: int, day: date, *,
               seller_country: str, lock: bool = False, key: idempotency.Key | None = None
               ) -> tuple[dict[str, PackSize], Buyer, Row | None]:
    """`read_pack_sizes`, the ordering company (`Buyer`) and with a `key` in the same statement its idempotency
    record (taking its lock: see idempotency.lookup): the pack sizes, the buyer (its defaults when no SKU is
    known; its VAT facts for `seller_country`, the seller's) and the key's row of `lookup`'s columns (None
    without a key)."""
    if not quantities:
        return {}, Buyer(), (conn.execute(idempotency.lookup(idempotency.lock_kind(conn, key)),
                                          idempotency.lookup_params(key)).one() if key is not None else None)
    if lock:
        conn.execute(_LOCK_CANDIDATES, {"skus": list(quantities), "expires_after": expires_after}).all()
    params: dict[str, object] = {"expires_after": expires_after, "company_id": company_id, "day": day,
                                 "seller_country": seller_country}
    for i, (sku, quantity) in enumerate(quantities.items()):
        params[f"sku_{i}"], params[f"qty_{i}"] = sku, quantity
    key_lock = None
    if key is not None:
        params.update(idempotency.lookup_params(key))
        key_lock = idempotency.lock_kind(conn, key) or "none"
    pack_sizes: dict[str, PackSize] = {}
    rows = conn.execute(_statement(len(quantities), key_lock, conn.dialect.name == "postgresql"), params).all()
    for row in rows:
        if row.id is None:  # the key's row, when no SKU is known
            continue
        pack = pack_sizes.get(row.sku)
        if pack is None:
            pack = pack_sizes[row.sku] = PackSize(row.id, row.sku, row.active, row.min_order_quantity,
                                                  row.list_price, row.break_price,
                                                  contract_price=row.contract_price,
                                                  price_list_id=row.price_list_id,
                                                  pack_size_kg=row.pack_size_kg, product_id=row.product_id,
                                                  specified=bool(row.specified))
        if row.stock_id is not None:
            pack.lots.append(StockLot(row.stock_id, row.id, row.batch_id, row.expires_on, row.on_hand - row.allocated,
                                 row.lot_number))
    buyer = next((_buyer(row) for row in rows if row.id is not None), Buyer())
    return pack_sizes, buyer, (rows[0] if key is not None else None)


def _buyer(row: Row) -> Buyer:
    return Buyer(row.approval_threshold, row.payment_terms, row.vat_id, row.credit_limit,
                 cents(Decimal(row.exposure)) if row.exposure is not None else None, row.version,
                 vat.facts_of(row))


@lru_cache(maxsize=128)
def _statement(skus: int, key_lock: str | None = None, versioned: bool = False):
    """The SELECT for `skus` SKUs (bind parameters sku_<i>, qty_<i>, expires_after, company_id, day): each
    variant with its list price, break price and contract tier for the quantity, the company's terms (with
    `versioned` its row's version, else its open exposure when it has a credit limit), whether the company has a
    specification of its product (an EXISTS: an order of a company without one costs no statement more), the
    seller's VAT rate and the EU's members (invoicing.vat.facts_columns) and, outer-joined, its sellable stock
    rows with units left, earliest expiry first. A pack size is sold while both it and its product are. With
    `key_lock` ("try", "wait" or "none": idempotency.lookup's lock) every row leads with the idempotency key's
    columns, and a request of no known SKU still answers one row. Built once per shape: composing it cost more
    than running it."""
    variants, products, breaks, stock, batches, companies = (
        model.__table__ for model in (Variant, Product, PriceBreak, Stock, Batch, Company))
    sku_params = [bindparam(f"sku_{i}", type_=variants.c.sku.type) for i in range(skus)]
    quantity = case({sku_params[i]: bindparam(f"qty_{i}", type_=Integer) for i in range(skus)},
                    value=variants.c.sku)
    break_price = (select(breaks.c.unit_price)
                   .where(breaks.c.variant_id == variants.c.id, breaks.c.min_quantity <= quantity)
                   .order_by(breaks.c.min_quantity.desc()).limit(1).scalar_subquery())
    contract = _contract_tier(variants.c.id, quantity)
    lots = stock.join(batches, and_(batches.c.id == stock.c.batch_id,
                                    sellable_lot_condition(bindparam("expires_after", type_=Date))))
    wanted = (variants.join(products, products.c.id == variants.c.product_id)
              .join(companies, companies.c.id == bindparam("company_id"))
              .outerjoin(lots, and_(stock.c.variant_id == variants.c.id, stock.c.on_hand > stock.c.allocated)))
    statement = select(
        variants.c.id, variants.c.sku, and_(variants.c.active, products.c.active).label("active"),
        variants.c.min_order_quantity, variants.c.pack_size_kg, variants.c.unit_price.label("list_price"),
        break_price.label("break_price"),
        contract(PriceListItem.unit_price).label("contract_price"),
        contract(PriceListItem.price_list_id).label("price_list_id"),
        companies.c.approval_threshold, companies.c.payment_terms, companies.c.vat_id, companies.c.credit_limit,
        # PostgreSQL: the row's version, and credit.claim reads the exposure as it takes the row; elsewhere the
        # exposure itself (SQLite's writer lock, taken at BEGIN, keeps it true until COMMIT).
        *((null().label("exposure"), cast(literal_column("company.xmin"), Text).label("version")) if versioned else
          (case((companies.c.credit_limit.is_not(None), exposure_of(bindparam("company_id")))).label("exposure"),
           null().label("version"))),
        *vat.facts_columns(bindparam("seller_country")),
        variants.c.product_id,
        exists().where(CustomerSpecification.company_id == bindparam("company_id"),
                       CustomerSpecification.product_id == variants.c.product_id).label("specified"),
        stock.c.id.label("stock_id"), stock.c.batch_id, stock.c.on_hand, stock.c.allocated,
        batches.c.lot_number, batches.c.expires_on)
    order = (variants.c.id, batches.c.expires_on, batches.c.id, stock.c.id)
    if key_lock is None:
        return statement.select_from(wanted).where(variants.c.sku.in_(sku_params)).order_by(*order)
    key = idempotency.lookup(None if key_lock == "none" else key_lock).subquery("idempotency_key")
    return (statement.add_columns(*key.c)
            .select_from(key.outerjoin(wanted, variants.c.sku.in_(sku_params))).order_by(*order))


def _contract_tier(variant_id, quantity):
    """A function of a column of PriceListItem: that column of the company's (:company_id) contract tier for
    the variant and quantity, in its list that applies on :day, as a scalar subquery (NULL: none)."""
    def column(wanted):
        return (select(wanted).join(PriceList, PriceList.id == PriceListItem.price_list_id)
                .where(PriceList.company_id == bindparam("company_id"), PriceListItem.variant_id == variant_id,
                       PriceListItem.min_quantity <= quantity, applies_on(bindparam("day", type_=Date)))
                .order_by(PriceListItem.min_quantity.desc()).limit(1).scalar_subquery())
    return column


_LOCK_CANDIDATES = (
    select(Stock.id)
    .join(Batch, Batch.id == Stock.batch_id)
    .join(Variant, Variant.id == Stock.variant_id)
    .where(Variant.sku.in_(bindparam("skus", expanding=True)),
           sellable_lot_condition(bindparam("expires_after", type_=Date)), Stock.on_hand > Stock.allocated)
    .order_by(Stock.id)
    .with_for_update(of=Stock)
)
