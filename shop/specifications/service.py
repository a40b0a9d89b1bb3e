"""Use cases and read models of customer specifications: a company reads, replaces and deletes its limits for
a grade; ordering, availability and the CoA ask which lots meet them."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, bindparam, delete, select
from sqlalchemy.orm import selectinload

from shop.accounts.models import MemberRole
from shop.catalog.models import Product, SpecTest
from shop.inventory.models import Batch
from shop.lab.models import CoaResult
from shop.platform.database import utcnow
from shop.platform.errors import Forbidden, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.specifications import rules
from shop.specifications.models import CustomerLimit, CustomerSpecification
from shop.specifications.rules import GradeTest, Limit


@dataclass(frozen=True, slots=True)
class LimitView:
    """One stored limit with the grade's own limits beside it."""

    test: str
    unit: str
    min: Decimal | None
    max: Decimal | None
    grade_min: Decimal | None
    grade_max: Decimal | None

    @property
    def text(self) -> str:
        """The company's limits as people read them ('≥ 99.5 %')."""
        return rules.limits_text(self.min, self.max, self.unit)

    @property
    def grade_text(self) -> str:
        return rules.limits_text(self.grade_min, self.grade_max, self.unit)


@dataclass(frozen=True, slots=True)
class Specification:
    """A company's stored specification of one grade."""

    product: str  # slug
    product_name: str
    limits: tuple[LimitView, ...]
    updated_at: datetime
    updated_by: str


EDITOR = MemberRole.APPROVER  # approvers and admins set the limits a company buys to; buyers read them


def may_edit(role: MemberRole) -> bool:
    """Whether a member or key with `role` may set or remove the company's specifications."""
    return role.may(EDITOR)


def check_may_edit(role: MemberRole) -> None:
    """Raise Forbidden unless `role` may set or remove the company's specifications."""
    if not may_edit(role):
        raise Forbidden(f"Setting or removing a specification needs a company approver or admin (or an API key "
                        f"made with one of those roles); this acts as {role.value}. Buyers may read them.")


def get_specification(company_id: int, slug: str) -> Specification:
    """The company's specification of the grade; NotFound when the grade or the specification is unknown."""
    product = _product(slug)
    spec = _stored(company_id, product.id)
    if spec is None:
        raise NotFound(f"Your company has no specification of {product.name}.")
    return _view(spec, product)


def company_specifications(company_id: int) -> list[Specification]:
    """Every specification of a company, in catalog order (its staff page, its storefront list)."""
    specs = db.session.scalars(
        select(CustomerSpecification).join(Product, Product.id == CustomerSpecification.product_id)
        .where(CustomerSpecification.company_id == company_id)
        .options(selectinload(CustomerSpecification.limits).selectinload(CustomerLimit.spec_test),
                 selectinload(CustomerSpecification.product))
        .order_by(Product.position, Product.id))
    return [_view(spec, spec.product) for spec in specs]


def put_specification(company_id: int, slug: str, limits: object, by: str) -> Specification:
    """Replace the company's specification of the grade with `limits` (the request body's list); raise
    InvalidInput with every error by field path, storing nothing. The caller commits."""
    product = _product(slug)
    tests = [GradeTest(t.id, t.name, t.unit, t.min_value, t.max_value) for t in product.spec_tests]
    checked, errors = rules.check_limits(tests, limits)
    if errors:
        raise InvalidInput(errors)
    spec = _stored(company_id, product.id, lock=True)
    if spec is None:
        spec = CustomerSpecification(company_id=company_id, product_id=product.id)
        db.session.add(spec)
    else:
        # The old limits go first: a flush inserts before it deletes, and a test limited again would meet its
        # old row in the unique (specification, test) constraint.
        spec.limits.clear()
        db.session.flush()
    spec.limits.extend(CustomerLimit(spec_test_id=limit.test_id, position=i, min_value=limit.min,
                                     max_value=limit.max) for i, limit in enumerate(checked))
    spec.updated_at, spec.updated_by = utcnow(), by
    db.session.flush()
    db.session.refresh(spec)
    return _view(spec, product)


def delete_specification(company_id: int, slug: str) -> bool:
    """Remove the company's specification of the grade; whether there was one. The caller commits."""
    product = _product(slug)
    gone = db.session.execute(delete(CustomerSpecification).where(
        CustomerSpecification.company_id == company_id, CustomerSpecification.product_id == product.id))
    return bool(gone.rowcount)


def _product(slug: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.slug == slug, Product.active.is_(True))
                                .options(selectinload(Product.spec_tests)))
    if product is None:
        raise NotFound(f"No product '{slug}'.")
    return product


def _stored(company_id: int, product_id: int, *, lock: bool = False) -> CustomerSpecification | None:
    stmt = (select(CustomerSpecification)
            .where(CustomerSpecification.company_id == company_id, CustomerSpecification.product_id == product_id)
            .options(selectinload(CustomerSpecification.limits).selectinload(CustomerLimit.spec_test)))
    if lock:
        stmt = stmt.with_for_update(of=CustomerSpecification)
    return db.session.scalar(stmt)


def _view(spec: CustomerSpecification, product: Product) -> Specification:
    return Specification(
        product.slug, product.name,
        tuple(LimitView(limit.spec_test.name, limit.spec_test.unit, limit.min_value, limit.max_value,
                        limit.spec_test.min_value, limit.spec_test.max_value) for limit in spec.limits),
        spec.updated_at, spec.updated_by)


# --- which lots meet a company's specification -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conformance:
    """A company's limits for the grades of some lots, and those lots' results for the limited tests: which of
    them meet its specification. A lot of a grade the company has not limited meets it."""

    limits: Mapping[int, tuple[Limit, ...]] = field(default_factory=dict)  # by product id
    values: Mapping[int, Mapping[int, str]] = field(default_factory=dict)  # by batch id: result by test id
    products: Mapping[int, int] = field(default_factory=dict)  # batch id -> product id

    def applies(self, product_id: int) -> bool:
        return bool(self.limits.get(product_id))

    def meets(self, batch_id: int) -> bool:
        limits = self.limits.get(self.products.get(batch_id, -1), ())
        return rules.lot_meets(limits, self.values.get(batch_id, {}))

    def failures(self, batch_id: int) -> list[Limit]:
        """The company's limits that the lot does not meet (a missing or undecidable result counts)."""
        limits = self.limits.get(self.products.get(batch_id, -1), ())
        values = self.values.get(batch_id, {})
        return [limit for limit in limits if not rules.meets(limit, values.get(limit.test_id))]


NO_SPECIFICATION = Conformance()

# Built once: per lot of a limited grade, each of the company's limits with the lot's result for it (if any).
_LOT_VALUES = (
    select(Batch.id.label("batch_id"), Batch.product_id, CustomerLimit.spec_test_id, SpecTest.name, SpecTest.unit,
           CustomerLimit.min_value, CustomerLimit.max_value, CoaResult.value)
    .join(CustomerSpecification, and_(CustomerSpecification.product_id == Batch.product_id,
                                      CustomerSpecification.company_id == bindparam("company_id")))
    .join(CustomerLimit, CustomerLimit.specification_id == CustomerSpecification.id)
    .join(SpecTest, SpecTest.id == CustomerLimit.spec_test_id)
    .outerjoin(CoaResult, and_(CoaResult.batch_id == Batch.id, CoaResult.spec_test_id == CustomerLimit.spec_test_id))
    .where(Batch.id.in_(bindparam("batch_ids", expanding=True)))
    .order_by(Batch.id, CustomerLimit.position)
)


def conformance(company_id: int | None, batch_ids: Collection[int], conn: Connection | None = None) -> Conformance:
    """Which of these lots meet the company's specification: one statement (none without a company or lots)."""
    if company_id is None or not batch_ids:
        return NO_SPECIFICATION
    rows = (conn or db.session.connection()).execute(
        _LOT_VALUES, {"company_id": company_id, "batch_ids": sorted(set(batch_ids))}).all()
    return _conformance(rows)


# Built once: conformance's rows for several companies at once (re-covering the orders of many buyers).
_LOTS_VALUES = (
    select(CustomerSpecification.company_id, Batch.id.label("batch_id"), Batch.product_id,
           CustomerLimit.spec_test_id, SpecTest.name, SpecTest.unit, CustomerLimit.min_value,
           CustomerLimit.max_value, CoaResult.value)
    .join(CustomerSpecification, CustomerSpecification.product_id == Batch.product_id)
    .join(CustomerLimit, CustomerLimit.specification_id == CustomerSpecification.id)
    .join(SpecTest, SpecTest.id == CustomerLimit.spec_test_id)
    .outerjoin(CoaResult, and_(CoaResult.batch_id == Batch.id, CoaResult.spec_test_id == CustomerLimit.spec_test_id))
    .where(Batch.id.in_(bindparam("batch_ids", expanding=True)),
           CustomerSpecification.company_id.in_(bindparam("company_ids", expanding=True)))
    .order_by(CustomerSpecification.company_id, Batch.id, CustomerLimit.position)
)


def conformances(company_ids: Collection[int], batch_ids: Collection[int]) -> dict[int, Conformance]:
    """`conformance` for several companies in one statement (none without companies or lots): by company id,
    every one of `company_ids` (NO_SPECIFICATION for a company without a specification of these lots)."""
    wanted = sorted(set(company_ids))
    if not wanted or not batch_ids:
        return dict.fromkeys(wanted, NO_SPECIFICATION)
    rows = db.session.connection().execute(
        _LOTS_VALUES, {"company_ids": wanted, "batch_ids": sorted(set(batch_ids))}).all()
    by_company: dict[int, list] = {}
    for row in rows:
        by_company.setdefault(row.company_id, []).append(row)
    return {company_id: _conformance(by_company.get(company_id, [])) for company_id in wanted}


def _conformance(rows) -> Conformance:
    if not rows:
        return NO_SPECIFICATION
    limits: dict[int, dict[int, Limit]] = {}
    values: dict[int, dict[int, str]] = {}
    products: dict[int, int] = {}
    for row in rows:
        products[row.batch_id] = row.product_id
        limits.setdefault(row.product_id, {})[row.spec_test_id] = Limit(
            row.spec_test_id, row.name, row.unit, row.min_value, row.max_value)
        if row.value is not None:
            values.setdefault(row.batch_id, {})[row.spec_test_id] = row.value
    return Conformance({pid: tuple(by_test.values()) for pid, by_test in limits.items()}, values, products)


def limits_of(company_id: int | None, product_id: int) -> dict[str, Limit]:
    """The company's limits on a grade by test name (empty without a specification): the CoA's your_min/your_max."""
    if company_id is None:
        return {}
    rows = db.session.execute(
        select(SpecTest.id, SpecTest.name, SpecTest.unit, CustomerLimit.min_value, CustomerLimit.max_value)
        .join(CustomerLimit, CustomerLimit.spec_test_id == SpecTest.id)
        .join(CustomerSpecification, CustomerSpecification.id == CustomerLimit.specification_id)
        .where(CustomerSpecification.company_id == company_id, CustomerSpecification.product_id == product_id)
        .order_by(CustomerLimit.position))
    return {row.name: Limit(row.id, row.name, row.unit, row.min_value, row.max_value) for row in rows}


def has_specification(company_id: int | None, product_ids: Collection[int]) -> bool:
    """Whether the company limits any of these grades (one small statement)."""
    if company_id is None or not product_ids:
        return False
    return db.session.scalar(select(CustomerSpecification.id).where(
        CustomerSpecification.company_id == company_id,
        CustomerSpecification.product_id.in_(list(product_ids))).limit(1)) is not None


# --- a certificate judged against a company's specification -----------------------------------------------


@dataclass(frozen=True, slots=True)
class TestVerdict:
    """One tightened test of a lot: the company's limits and whether the lot's result meets them."""

    min: Decimal | None
    max: Decimal | None
    meets: bool
    unit: str = ""

    @property
    def text(self) -> str:
        return rules.limits_text(self.min, self.max, self.unit)


@dataclass(frozen=True, slots=True)
class LotVerdict:
    """A lot against the company's specification of its grade: overall, and per tightened test (by test name)."""

    meets: bool
    tests: Mapping[str, TestVerdict]


def judge_lot(company_id: int | None, product_id: int, results: Mapping[str, str | None]) -> LotVerdict | None:
    """Whether a lot with these results (by test name, as recorded) meets the company's specification of its
    grade; None without one (one statement; none without a company)."""
    limits = limits_of(company_id, product_id)
    if not limits:
        return None
    tests = {name: TestVerdict(limit.min, limit.max, rules.meets(limit, results.get(name)), limit.unit)
             for name, limit in limits.items()}
    return LotVerdict(all(t.meets for t in tests.values()), tests)
