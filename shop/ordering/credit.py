"""The credit limit (DESIGN.md, "Payment terms, credit and invoices"): an order on net terms is refused when the
company's open exposure plus the order's gross total would exceed its limit, when it is placed and again when it
is approved, atomically: two concurrent orders never both take the last room.

How each database serialises the orders of one company with a limit (a company without one costs nothing):
SQLite takes its write lock at BEGIN (platform.extensions), so the exposure a writer reads stays true until it
commits. PostgreSQL reads the company row's version (its xmin) in placing's one read (ordering.reading), then
`claim` writes the row where the version is still the one read and returns the exposure: one statement, which
waits for any other order's claim to commit and finds no row when one did; the try then runs again
(platform.tx.RetryTransaction) and sees the exposure that order left. (The exposure stays out of the one read,
which psycopg would otherwise find too long to parse once and keep.) Approval is no hot path: it locks the row
(SELECT ... FOR UPDATE), then reads the exposure in a statement of its own, which sees every commit before the
lock."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, Text, cast, literal_column, select, update

from shop.accounts.models import Company
from shop.invoicing.money import cents
from shop.ordering.exposure import available_credit, exposure_of, open_exposure
from shop.ordering.models import Order
from shop.ordering.reading import Buyer
from shop.platform.errors import CreditLimitExceeded
from shop.platform.extensions import db
from shop.platform.tx import RetryTransaction


def on_credit(payment_terms: str, credit_limit: Decimal | None) -> bool:
    """Whether the limit applies: net terms with a limit (a prepaid order is paid before it ships)."""
    return credit_limit is not None and payment_terms.startswith("net_")


def check_placing(conn: Connection, company_id: int, buyer: Buyer, gross: Decimal, currency: str) -> None:
    """Refuse a new order of `gross` that the buyer's exposure (as read with it) leaves no room for; on
    PostgreSQL claim the company row first (one statement, only for a company with a limit)."""
    if not on_credit(buyer.payment_terms, buyer.credit_limit):
        return
    exposure = claim(conn, company_id, buyer.version) if buyer.version is not None else buyer.exposure
    available = available_credit(buyer.credit_limit, exposure or Decimal("0.00"))
    if gross > available:
        raise CreditLimitExceeded(available, gross, currency)


def claim(conn: Connection, company_id: int, version: str) -> Decimal:
    """PostgreSQL: write the company row if it is still at `version`, holding its lock until COMMIT, and answer
    the company's open exposure as that statement sees it; raise RetryTransaction when another transaction changed
    the row since it was read (an order may have committed that the statement's snapshot does not show)."""
    claimed = conn.execute(update(Company).where(Company.id == company_id,
                                                 cast(literal_column("xmin"), Text) == version)
                           .values(credit_limit=Company.credit_limit)
                           .returning(exposure_of(company_id).label("exposure"))).first()
    if claimed is None:
        raise RetryTransaction()
    return cents(Decimal(claimed.exposure))


def check_approval(order: Order) -> None:
    """Refuse to approve an order that the company's exposure no longer leaves room for (the order itself is
    counted in it: placed and not cancelled)."""
    company = db.session.scalars(select(Company).where(Company.id == order.company_id)
                                 .with_for_update().execution_options(populate_existing=True)).one()
    if not on_credit(company.payment_terms, company.credit_limit):
        return
    others = open_exposure(order.company_id) - order.total
    available = available_credit(company.credit_limit, others)
    if order.total > available:
        raise CreditLimitExceeded(available, order.total, order.currency)
