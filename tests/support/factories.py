"""Small builders for test data: one USP grade with two pack sizes, lots in any state, accounts."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from shop.accounts import people as accounts
from shop.accounts.models import StaffRole, StaffUser
from shop.catalog.models import PriceBreak, Product, SpecTest, Variant
from shop.demo import USP_SPEC, in_spec_value
from shop.inventory import lots as inventory
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.quality import release
from shop.quality.models import SignedAction
from shop.quality.signatures import Signature, meaning

D = Decimal


def make_product(slug: str = "l-leucine-usp", grade: str = "USP", sku_prefix: str = "LEU-USP") -> Product:
    """A product with the USP specification and 1 kg and 25 kg packs (25 kg: breaks at 4 and 10)."""
    product = Product(slug=slug, name=f"L-Leucine {grade}", grade=grade, cas_number="61-90-5", formula="C6H13NO2",
                      molecular_weight=D("131.17"), description=f"L-Leucine, {grade} grade.")
    for i, (name, lo, hi, unit, method) in enumerate(USP_SPEC):
        product.spec_tests.append(SpecTest(position=i, name=name, min_value=lo, max_value=hi, unit=unit,
                                           method=method))
    product.variants.append(Variant(sku=f"{sku_prefix}-1KG", pack_size_kg=D("1"), unit_price=D("96.00")))
    drum = Variant(sku=f"{sku_prefix}-25KG", pack_size_kg=D("25"), unit_price=D("1950.00"))
    drum.price_breaks = [PriceBreak(min_quantity=4, unit_price=D("1850.00")),
                         PriceBreak(min_quantity=10, unit_price=D("1760.00"))]
    product.variants.append(drum)
    db.session.add(product)
    db.session.commit()
    return product


def good_results(product: Product) -> dict[str, str]:
    return {t.name: in_spec_value(t) for t in product.spec_tests}


RELEASER_EMAIL = "qa-release@shop.example"


def releaser() -> StaffUser:
    """The quality user who signs the QC decisions of make_lot (made the first time it is needed)."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == RELEASER_EMAIL))
    return staff or accounts.create_staff(RELEASER_EMAIL, "release password", "quality", name="Rita Release")


def signed(staff: StaffUser, action: SignedAction | str, lot_number: str) -> Signature:
    """`staff`'s signature on a QC decision, as quality.signatures.sign makes it for a quality user once the
    password is checked."""
    action = SignedAction(action)
    return Signature(staff_id=staff.id, name=staff.name, email=staff.email, role=StaffRole.QUALITY, action=action,
                     lot_number=lot_number, meaning=meaning(action, lot_number), signed_at=utcnow())


def signed_recall(lot_number: str, reason: str, staff: StaffUser | None = None,
                  note: str = "Do not use this lot; we will replace it."):
    """Recall a lot through services.recall, signed by `staff` (else releaser()); the caller commits."""
    from shop.quality import recall

    return recall.recall_lot(lot_number, reason, signed(staff or releaser(), "recall", lot_number), note)


def recall_leaving_short(lot_number: str, reason: str, staff: StaffUser | None = None,
                         note: str = "Do not use this lot; we will replace it."):
    """signed_recall, then the orders it backordered put back as recalls left them before backorders: the units no
    other lot replaced missing (the order short and flagged, its note naming them). Such orders still exist (and a
    line pinned to a recalled lot is short that way today); fulfilment fills, trims or cancels them."""
    from shop.ordering.models import AllocationStatus, Order
    from shop.platform.wording import units as in_units

    summary = signed_recall(lot_number, reason, staff, note)
    orders = db.session.scalars(select(Order).where(Order.number.in_(summary.backordered))).all()
    for order in orders:
        shortfalls = []
        for line in order.lines:
            if line.backordered_quantity:
                recalled = sum(a.quantity for a in line.allocations if a.status == AllocationStatus.RETURNED_RECALLED
                               and a.stock.batch.lot_number == summary.lot_number)
                shortfalls.append(f"{line.sku} short by {line.backordered_quantity} of {in_units(recalled)}")
                line.backordered_quantity = 0
        flag = f"Lot {summary.lot_number} recalled: " + "; ".join(shortfalls) + "."
        order.attention_note = f"{order.attention_note}\n{flag}".strip() if order.needs_attention else flag
        order.needs_attention = True
        summary.flagged[order.number] = summary.backordered.pop(order.number) and flag
    db.session.flush()
    return summary


def make_lot(product: Product, lot_number: str, units: dict[str, int], *, expires_in_days: int = 700,
             status: str = "released", commit: bool = True, results: dict[str, str] | None = None):
    """Receive a lot, and take it to `status` (quarantine, released, rejected, recalled) through the services;
    its results (good_results unless given) are recorded by no one and its QC decisions signed by releaser().
    Committed unless `commit` is false (a test that rolls back to a SAVEPOINT)."""
    made = date.today() - timedelta(days=30)
    batch = inventory.receive_batch(product.slug, lot_number, made, date.today() + timedelta(days=expires_in_days),
                                    units)
    if status != "quarantine":
        release.record_results(batch, results or good_results(product))
    qa = releaser() if status != "quarantine" else None
    if status in ("released", "recalled"):
        if expires_in_days > 0:
            release.release_batch(batch, signed(qa, "release", lot_number))
        else:  # an expired lot: released back when it was still good
            batch.status = "released"
    if status == "rejected":
        release.reject_batch(batch, "test", signed(qa, "reject", lot_number))
    if status == "recalled":
        release.recall_batch(batch, "test", signed(qa, "recall", lot_number), "Recalled (test).")
    if commit:
        db.session.commit()
    return batch


def make_customer(email: str = "buyer@example.com", company: str = "Acme Nutrition", password: str = "correct horse"):
    customer = accounts.create_customer(email, password, company)
    db.session.commit()
    return customer


def make_member(admin, email: str, role: str, password: str = "a long unusual passphrase"):
    """A member of the admin's company, invited with `role`, who has joined with `password`."""
    from shop.accounts import companies

    member = companies.invite_member(admin, email, role)
    member.set_password(password)
    member.joined_at = member.created_at
    db.session.commit()
    return member


def make_company_with_approval(threshold: str = "100"):
    """Acme Nutrition with an approval threshold: its admin (admin@acme.example), an approver (boss@acme.example)
    and a buyer (buyer@acme.example, returned), all joined."""
    from shop.accounts import companies

    admin = make_customer("admin@acme.example")
    companies.set_terms(admin.company, approval_threshold=threshold)
    buyer = companies.invite_member(admin, "buyer@acme.example", "buyer")
    approver = companies.invite_member(admin, "boss@acme.example", "approver")
    buyer.joined_at = approver.joined_at = utcnow()
    db.session.commit()
    return buyer


def import_file(folder, product: Product, lot_number: str) -> str:
    """The path of an import-batch file (imp.json in `folder`): 3 drums of `product` with every result in spec."""
    data = {"product": product.slug, "lot_number": lot_number,
            "manufactured_on": (date.today() - timedelta(5)).isoformat(),
            "expires_on": (date.today() + timedelta(900)).isoformat(), "units": {"LEU-USP-25KG": 3},
            "results": good_results(product)}
    path = folder / "imp.json"
    path.write_text(json.dumps(data))
    return str(path)


def make_staff(roles: str | tuple[str, ...], email: str | None = None, password: str = "staff password"):
    """A staff user holding `roles` (one role, or several: then give the email), committed."""
    staff = accounts.create_staff(email or f"{roles}@shop.example", password, roles)
    db.session.commit()
    return staff


@pytest.fixture
def product(app):
    return make_product()


@pytest.fixture
def customer(app):
    return make_customer()
