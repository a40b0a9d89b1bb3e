"""Helpers of the complaint tests (no tests here): an order that drew two lots and shipped, and a complaint taken
through the quality unit's steps as the staff pages take it."""
from __future__ import annotations

from shop import ordering
from shop.accounts.models import StaffUser
from shop.complaints import service
from shop.platform.extensions import db
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.factories import make_staff

INVESTIGATION = {"root_cause": "Liners torn on a damaged pallet in our warehouse.",
                 "corrective_action": "Two replacement drums shipped.",
                 "preventive_action": "Pallets are inspected before picking."}


def shipped_order(customer, quantity: int = 8, sku: str = "LEU-USP-25KG") -> str:
    """An order of `customer` of `quantity` drums (with `stocked`: 6 from L-SOON and the rest from L-LATE), shipped;
    its number."""
    order = ordering.place_order(customer, [{"sku": sku, "quantity": quantity}], ADDRESS)
    db.session.commit()
    ordering.confirm_order(order.number)
    ship_paid(order.number, "1Z999")
    db.session.commit()
    return order.number


def quality_user(email: str = "qa@shop.example", password: str = "quality password") -> StaffUser:
    return make_staff("quality", email, password=password)


def investigated(number: str, staff: StaffUser) -> None:
    service.save_investigation(number, *INVESTIGATION.values(), staff)
    db.session.commit()


def closed(number: str, staff: StaffUser, password: str = "quality password",
           resolution: str = "Two drums replaced; pallets now inspected.") -> None:
    signature = service.sign_close(staff, password, number, confirmed=True)
    service.close_complaint(number, {**INVESTIGATION, "resolution": resolution}, signature)
    db.session.commit()
