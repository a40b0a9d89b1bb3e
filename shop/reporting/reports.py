"""Read-only staff reports: inventory dashboard, ledger, orders, lot/order traceability, CSV, audit log."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import contains_eager, selectinload

from shop.accounts.models import Company, Customer, StaffUser
from shop.catalog.models import Product, SpecTest, Variant
from shop.documents import service as documents
from shop.documents.rules import Validity
from shop.documents.service import DocumentView
from shop.inventory import lots as inventory
from shop.inventory.availability import ShelfLife, default_shelf_life_days, shelf_life
from shop.inventory.models import Batch, BatchStatus, DateKind, MovementKind, Stock, StockMovement
from shop.lab.models import CoaResult
from shop.ordering.models import Order, OrderStatus
from shop.platform import audit
from shop.platform.audit import AuditEntry
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.pagination import MAX_PAGE, Page, page_cursor, page_of


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _window(stmt, kind: str, at, id_, cursor: str | None, date_from: date | None = None,
            date_to: date | None = None):
    """Limit a newest-first list on (at, id) to UTC days date_from..date_to (inclusive) and to the rows after
    the keyset `cursor` of the previous page."""
    if date_from:
        stmt = stmt.where(at >= _day_start(date_from))
    if date_to:
        stmt = stmt.where(at < _day_start(date_to + timedelta(days=1)))
    if cursor:
        stmt = stmt.where(tuple_(at, id_) < tuple_(*page_cursor(kind, cursor)))
    return stmt


# --- Inventory dashboard --------------------------------------------------------------------------


class _InKg:
    """Units of one pack size, also in kg."""

    pack_size_kg: Decimal
    on_hand: int
    allocated: int
    available: int

    @property
    def on_hand_kg(self) -> Decimal:
        return self.on_hand * self.pack_size_kg

    @property
    def allocated_kg(self) -> Decimal:
        return self.allocated * self.pack_size_kg

    @property
    def available_kg(self) -> Decimal:
        return self.available * self.pack_size_kg


@dataclass
class LotStock(_InKg):
    """One lot filled into one pack size."""

    stock_id: int
    lot_number: str
    status: BatchStatus
    expires_on: date
    date_kind: DateKind
    sku: str
    pack_size_kg: Decimal
    on_hand: int
    allocated: int
    shelf: ShelfLife  # against the default minimum shelf life

    @property
    def unexpired(self) -> bool:
        """Released and its date not reached: its free units could still go out."""
        return self.shelf in (ShelfLife.SHORT_DATED, ShelfLife.SELLABLE)

    @property
    def short_dated(self) -> bool:
        """Released with no more than the default shelf life left: an order asking for no shelf life skips it."""
        return self.shelf == ShelfLife.SHORT_DATED

    @property
    def sellable(self) -> bool:
        """Released with more than the default shelf life left: what an order asking for no shelf life gets."""
        return self.shelf == ShelfLife.SELLABLE

    @property
    def free(self) -> int:
        """Units neither allocated nor out of date, whether or not an order would take them."""
        return self.on_hand - self.allocated if self.unexpired else 0

    @property
    def free_kg(self) -> Decimal:
        return self.free * self.pack_size_kg

    @property
    def available(self) -> int:
        return self.free if self.sellable else 0


@dataclass
class VariantStock(_InKg):
    sku: str
    pack_size_kg: Decimal
    lots: list[LotStock] = field(default_factory=list)

    @property
    def on_hand(self) -> int:
        return sum(lot.on_hand for lot in self.lots)

    @property
    def allocated(self) -> int:
        return sum(lot.allocated for lot in self.lots)

    @property
    def available(self) -> int:
        return sum(lot.available for lot in self.lots)


@dataclass
class ProductStock:
    name: str
    slug: str
    variants: list[VariantStock] = field(default_factory=list)

    @property
    def on_hand_kg(self) -> Decimal:
        return sum((v.on_hand_kg for v in self.variants), Decimal(0))

    @property
    def available_kg(self) -> Decimal:
        return sum((v.available_kg for v in self.variants), Decimal(0))


@dataclass
class ExpiringLot:
    lot_number: str
    product: str
    status: BatchStatus
    expires_on: date
    days_left: int
    on_hand_kg: Decimal  # kg: a lot's pack sizes differ, so its units do not add up
    free_kg: Decimal  # not allocated and not out of date (a lot this close to its date is mostly short-dated)
    date_kind: DateKind


@dataclass
class LowStock:
    product: str
    sku: str
    available: int


@dataclass
class QuarantinedLot:
    lot_number: str
    product: str
    received_at: datetime
    expires_on: date
    results_recorded: int
    tests_required: int
    on_hand_kg: Decimal


@dataclass(frozen=True)
class FlaggedCertificate:
    """A product's current certificate that has ended or ends within documents.rules.FLAG_DAYS: what quality must
    renew before buyers see it lapse."""

    document: DocumentView
    validity: Validity  # expired or expiring
    days_left: int  # to its last valid day; negative once it has ended

    @property
    def expired(self) -> bool:
        return self.validity is Validity.EXPIRED


def flagged_certificates(today: date) -> list[FlaggedCertificate]:
    """The current certificates expired or within 60 days of their end on `today`, soonest end first; one
    statement."""
    return [FlaggedCertificate(view, validity, (view.valid_until - today).days)
            for view, validity in documents.expiring_certificates(today)]


@dataclass
class Dashboard:
    products: list[ProductStock]
    expiring: list[ExpiringLot]
    expiring_days: int
    low_stock: list[LowStock]
    low_stock_units: int
    quarantine: list[QuarantinedLot]
    kg_by_month: list[tuple[date, Decimal]]  # first day of the expiry month, available kg
    shelf_life_days: int  # the default minimum shelf life: lots with no more left are short-dated
    certificates: list[FlaggedCertificate] = field(default_factory=list)  # expired or ending within 60 days


MAX_EXPIRING_DAYS = 3650


def dashboard(expiring_days: int = 90, low_stock_units: int = 10, today: date | None = None,
              shelf_life_days: int | None = None) -> Dashboard:
    """Everything on the inventory dashboard in four statements, however many lots, orders and documents exist.

    Available counts what an order asking for no particular shelf life would get (availability's rule): a
    released lot with no more than `shelf_life_days` (the default minimum) left is short-dated, not available.
    """
    if isinstance(expiring_days, bool) or not isinstance(expiring_days, int) or \
            not 0 <= expiring_days <= MAX_EXPIRING_DAYS:
        raise InvalidInput({"days": [f"A whole number of days from 0 to {MAX_EXPIRING_DAYS}."]})
    today = today or date.today()
    if shelf_life_days is None:
        shelf_life_days = default_shelf_life_days()
    # 1: every active pack size, so that one with no stock at all still shows as low.
    variants = db.session.execute(
        select(Variant.id, Variant.sku, Variant.pack_size_kg, Product.id, Product.name, Product.slug)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.active.is_(True), Product.active.is_(True))
        .order_by(Product.position, Product.id, Variant.pack_size_kg, Variant.id)
    ).all()
    # 2: stock rows that still hold something; empty rows of old lots would only grow the page.
    rows = db.session.execute(
        select(Stock.id, Stock.variant_id, Stock.on_hand, Stock.allocated, Batch.id, Batch.lot_number,
               Batch.status, Batch.expires_on, Batch.product_id, Batch.date_kind)
        .join(Batch, Batch.id == Stock.batch_id)
        .where(Stock.on_hand > 0)
        .order_by(Batch.expires_on, Batch.id, Stock.id)
    ).all()
    # 3: the quarantine queue with how far QC has got on each lot.
    recorded = (select(func.count(CoaResult.id)).where(CoaResult.batch_id == Batch.id)
                .correlate(Batch).scalar_subquery())
    required = (select(func.count(SpecTest.id)).where(SpecTest.product_id == Batch.product_id)
                .correlate(Batch).scalar_subquery())
    quarantine_rows = db.session.execute(
        select(Batch.id, Batch.lot_number, Product.name, Batch.received_at, Batch.expires_on, recorded, required)
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.status == BatchStatus.QUARANTINE)
        .order_by(Batch.received_at, Batch.id)
    ).all()

    products: dict[int, ProductStock] = {}
    by_variant: dict[int, VariantStock] = {}
    product_name: dict[int, str] = {}
    for vid, sku, size, pid, pname, slug in variants:
        product = products.setdefault(pid, ProductStock(pname, slug))
        product_name[pid] = pname
        vs = VariantStock(sku, size)
        product.variants.append(vs)
        by_variant[vid] = vs

    lots: dict[int, list[LotStock]] = defaultdict(list)
    lot_meta: dict[int, tuple] = {}
    for sid, vid, on_hand, allocated, bid, lot, status, expires, pid, kind in rows:
        vs = by_variant.get(vid)
        if vs is None:  # a retired pack size: not on the dashboard
            continue
        ls = LotStock(sid, lot, status, expires, kind, vs.sku, vs.pack_size_kg, on_hand, allocated,
                      shelf_life(status, expires, shelf_life_days, today))
        vs.lots.append(ls)
        lots[bid].append(ls)
        lot_meta[bid] = (lot, pid, status, expires, kind)

    horizon = today + timedelta(days=expiring_days)
    expiring = []
    for bid, (lot, pid, status, expires, kind) in lot_meta.items():
        if status in (BatchStatus.RELEASED, BatchStatus.QUARANTINE) and expires <= horizon:
            stock = lots[bid]
            expiring.append(ExpiringLot(lot, product_name.get(pid, ""), status, expires, (expires - today).days,
                                        sum((s.on_hand_kg for s in stock), Decimal(0)),
                                        sum((s.free_kg for s in stock), Decimal(0)), kind))
    expiring.sort(key=lambda e: (e.expires_on, e.lot_number))

    low = [LowStock(p.name, v.sku, v.available) for p in products.values() for v in p.variants
           if v.available < low_stock_units]

    months: dict[date, Decimal] = defaultdict(Decimal)
    for stock in lots.values():
        for s in stock:
            if s.available:
                months[s.expires_on.replace(day=1)] += s.available_kg
    quarantine_kg: dict[int, Decimal] = {bid: sum((s.on_hand_kg for s in lots[bid]), Decimal(0)) for bid in lots}
    quarantine = [QuarantinedLot(lot, pname, received, expires, n, m, quarantine_kg.get(bid, Decimal(0)))
                  for bid, lot, pname, received, expires, n, m in quarantine_rows]
    # 4: the certificates quality must renew.
    return Dashboard(list(products.values()), expiring, expiring_days, low, low_stock_units, quarantine,
                     _fill_months(months), shelf_life_days, flagged_certificates(today))


def _fill_months(months: dict[date, Decimal], limit: int = 60) -> list[tuple[date, Decimal]]:
    """Consecutive months from the first to the last with stock, so gaps show as empty bars."""
    if not months:
        return []
    first, last = min(months), max(months)
    out = []
    current = first
    while current <= last and len(out) < limit:
        out.append((current, months.get(current, Decimal(0))))
        current = (current + timedelta(days=32)).replace(day=1)
    return out


# --- Ledger ---------------------------------------------------------------------------------------


@dataclass
class LedgerRow:
    id: int
    created_at: datetime
    kind: MovementKind
    lot_number: str
    sku: str
    on_hand_delta: int
    allocated_delta: int
    reason: str
    staff_email: str | None
    order_number: str | None


def ledger_page(lot_number: str = "", sku: str = "", date_from: date | None = None, date_to: date | None = None,
                cursor: str | None = None, limit: int = 50) -> Page:
    """Stock movements newest first, keyset-paginated on (created_at, id); filters by lot, SKU and dates (UTC)."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (
        select(StockMovement.id, StockMovement.created_at, StockMovement.kind, Batch.lot_number, Variant.sku,
               StockMovement.on_hand_delta, StockMovement.allocated_delta, StockMovement.reason, StaffUser.email,
               Order.number)
        .join(Stock, Stock.id == StockMovement.stock_id)
        .join(Batch, Batch.id == Stock.batch_id)
        .join(Variant, Variant.id == Stock.variant_id)
        .outerjoin(StaffUser, StaffUser.id == StockMovement.staff_id)
        .outerjoin(Order, Order.id == StockMovement.order_id)
        .order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
        .limit(limit + 1)
    )
    if lot_number:
        stmt = stmt.where(inventory.lot_number_is(lot_number))
    if sku:
        stmt = stmt.where(Variant.sku == sku.strip().upper())
    stmt = _window(stmt, "ledger", StockMovement.created_at, StockMovement.id, cursor, date_from, date_to)
    rows = [LedgerRow(*r) for r in db.session.execute(stmt)]
    return page_of("ledger", rows, limit, lambda r: (r.created_at, r.id))


# --- Orders ---------------------------------------------------------------------------------------


def order_page(status: OrderStatus | None = None, customer: str = "", date_from: date | None = None,
               date_to: date | None = None, attention_only: bool = False, cursor: str | None = None,
               limit: int = 30) -> Page:
    """Orders newest first with their customer, keyset-paginated on (placed_at, id); two statements."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (
        select(Order)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Company, Company.id == Order.company_id)
        .options(selectinload(Order.customer), contains_eager(Order.company))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if customer.strip():
        needle = customer.strip().lower()
        stmt = stmt.where(or_(func.lower(Customer.email).contains(needle, autoescape=True),
                              func.lower(Company.name).contains(needle, autoescape=True)))
    if attention_only:
        stmt = stmt.where(Order.needs_attention.is_(True))
    stmt = _window(stmt, "orders", Order.placed_at, Order.id, cursor, date_from, date_to)
    rows = list(db.session.scalars(stmt))
    return page_of("orders", rows, limit, lambda o: (o.placed_at, o.id))



# --- Batches --------------------------------------------------------------------------------------


@dataclass
class BatchRow:
    id: int
    lot_number: str
    product: str
    status: BatchStatus
    manufactured_on: date
    expires_on: date
    received_at: datetime
    on_hand_kg: Decimal
    allocated_kg: Decimal
    date_kind: DateKind


def batch_page(status: BatchStatus | None = None, product_slug: str = "", cursor: str | None = None,
               limit: int = 50) -> Page:
    """Lots newest receipt first with the kg on hand and allocated, keyset-paginated; one statement.

    In kg, not units: a lot is filled into several pack sizes, and 30 bags of 1 kg plus 20 drums of 25 kg are
    530 kg, not 50 of anything.
    """
    limit = max(1, min(limit, MAX_PAGE))
    totals = (select(Stock.batch_id, func.sum(Stock.on_hand * Variant.pack_size_kg).label("on_hand"),
                     func.sum(Stock.allocated * Variant.pack_size_kg).label("allocated"))
              .join(Variant, Variant.id == Stock.variant_id)
              .group_by(Stock.batch_id).subquery())
    stmt = (
        select(Batch.id, Batch.lot_number, Product.name, Batch.status, Batch.manufactured_on, Batch.expires_on,
               Batch.received_at, func.coalesce(totals.c.on_hand, 0), func.coalesce(totals.c.allocated, 0),
               Batch.date_kind)
        .join(Product, Product.id == Batch.product_id)
        .outerjoin(totals, totals.c.batch_id == Batch.id)
        .order_by(Batch.received_at.desc(), Batch.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(Batch.status == status)
    if product_slug:
        stmt = stmt.where(Product.slug == product_slug)
    stmt = _window(stmt, "batches", Batch.received_at, Batch.id, cursor)
    rows = [BatchRow(*r[:7], Decimal(r[7]), Decimal(r[8]), r[9]) for r in db.session.execute(stmt)]
    return page_of("batches", rows, limit, lambda b: (b.received_at, b.id))


# --- Audit log ------------------------------------------------------------------------------------


@dataclass
class AuditRow:
    """One audit entry with the email of the staff user who did it (None: the system did)."""

    id: int
    at: datetime
    action: str
    subject: str
    detail: str
    staff_email: str | None

    @property
    def lot_number(self) -> str | None:
        """The lot the entry is about, when its subject names one ('lot L-123')."""
        return _subject_name(self.subject, "lot ")

    @property
    def order_number(self) -> str | None:
        """The order the entry is about, when its subject names one ('order LS-...')."""
        return _subject_name(self.subject, "order ")


def _subject_name(subject: str, prefix: str) -> str | None:
    # platform.audit.audit callers write subjects as "<kind> <name>"; anything else is shown as plain text.
    if subject.startswith(prefix):
        name = subject[len(prefix):].strip()
        return name or None
    return None


def audit_actions() -> list[str]:
    """Every action the audit log records, alphabetically (the action filter's suggestions); a fixed list, so
    the page does not read the whole log for it."""
    return sorted(audit.AUDIT_ACTIONS)


def audit_page(action: str = "", subject: str = "", staff_email: str = "", date_from: date | None = None,
               date_to: date | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    """Audit entries newest first with who did them, keyset-paginated on (at, id); one statement.

    `action` matches from the start ('batch.' finds every lot status change); `subject` and `staff_email`
    match anywhere, ignoring case; dates are UTC days, both inclusive.
    """
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (
        select(AuditEntry.id, AuditEntry.at, AuditEntry.action, AuditEntry.subject, AuditEntry.detail,
               StaffUser.email)
        .outerjoin(StaffUser, StaffUser.id == AuditEntry.staff_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit + 1)
    )
    if action.strip():
        stmt = stmt.where(AuditEntry.action.startswith(action.strip().lower(), autoescape=True))
    if subject.strip():
        stmt = stmt.where(func.lower(AuditEntry.subject).contains(subject.strip().lower(), autoescape=True))
    if staff_email.strip():
        stmt = stmt.where(func.lower(StaffUser.email).contains(staff_email.strip().lower(), autoescape=True))
    stmt = _window(stmt, "audit", AuditEntry.at, AuditEntry.id, cursor, date_from, date_to)
    rows = [AuditRow(*r) for r in db.session.execute(stmt)]
    return page_of("audit", rows, limit, lambda r: (r.at, r.id))
