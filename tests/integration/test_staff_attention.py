"""Orders a recall flagged for attention: fulfilment marks them handled with a note, which goes to the audit log."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop import ordering
from shop.ordering import shortages
from shop.ordering.models import Order
from shop.platform.audit import AuditEntry
from shop.platform.errors import IllegalTransition, InvalidInput
from shop.platform.extensions import db
from shop.quality import recall
from tests.support.factories import make_customer, make_lot, make_product, make_staff, recall_leaving_short
from tests.support.staff import ADDRESS, StaffClient, place, sign_in, text_of  # noqa: F401
from tests.support.storefront import sign_in as storefront_sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")


def _flagged_order(product, customer) -> Order:
    """An order whose only lot is recalled with no other lot to cover it: the recall flags it."""
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    order = place(customer, "LEU-USP-25KG", 4)
    recall_leaving_short("L-BAD", "Foreign particles", make_staff("quality", email="recall@shop.example"))
    db.session.commit()
    assert order.needs_attention is True
    return order


def _state(order_id: int) -> tuple[bool, str, list[tuple[str, str]]]:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    audit = [(a.action, a.detail) for a in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "order.attention_cleared"))]
    return order.needs_attention, order.attention_note, audit


@pytest.mark.parametrize("role", ["fulfilment", "admin"])
def test_marking_a_flagged_order_handled_clears_the_flag_and_audits_who_and_what(client, product, customer, role):
    order = _flagged_order(product, customer)
    staff = sign_in(client, role)
    page = client.get(f"/staff/orders/{order.number}")
    assert "Needs attention" in page.text and "Mark as handled" in page.text

    done = client.post(f"/staff/orders/{order.number}/attention",
                       data={"note": "  Called Acme: they wait for the next lot.  "}, follow_redirects=True)

    assert done.request.path == f"/staff/orders/{order.number}"
    text = text_of(done.text)
    assert f"Order {order.number} marked as handled." in text
    assert "Needs attention" not in text and "Mark as handled" not in text
    needs_attention, _, _ = _state(order.id)
    assert needs_attention is False
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "order.attention_cleared"))
    assert (entry.staff_id, entry.subject, entry.detail) == (
        staff.id, f"order {order.number}", "Called Acme: they wait for the next lot.")
    assert entry.at is not None
    # The order list's "needs attention only" filter no longer shows it.
    listed = client.get("/staff/orders?attention=y")
    assert listed.status_code == 200 and order.number not in listed.text


def test_flagged_order_is_listed_under_needs_attention_until_handled(client, product, customer):
    order = _flagged_order(product, customer)
    sign_in(client, "fulfilment")
    listed = client.get("/staff/orders?attention=y")
    assert listed.status_code == 200
    assert f"{order.number} needs attention" in text_of(listed.text)


@pytest.mark.parametrize("note", ["", "   "])
def test_a_missing_note_is_refused_beside_the_field_and_changes_nothing(client, product, customer, note):
    order = _flagged_order(product, customer)
    before = _state(order.id)
    sign_in(client, "fulfilment")

    page = client.post(f"/staff/orders/{order.number}/attention", data={"note": note})

    assert page.status_code == 422
    error = re.search(r'<p class="field-error" id="note-error">([^<]*)</p>', page.text)
    assert error and "A note is required" in error.group(1)
    assert "Needs attention" in page.text
    assert _state(order.id) == before
    assert before[0] is True and before[2] == []


@pytest.mark.parametrize("role", ["warehouse", "quality"])
def test_other_roles_are_refused_and_the_flag_stays(client, product, customer, role):
    order = _flagged_order(product, customer)
    before = _state(order.id)
    sign_in(client, role)

    page = client.post(f"/staff/orders/{order.number}/attention", data={"note": "handled"})

    assert page.status_code == 403
    assert f"you are signed in as {role}" in page.text
    assert _state(order.id) == before


def test_an_order_that_is_not_flagged_is_a_message_not_an_error(client, product, customer):
    make_lot(product, "L-OK", {"LEU-USP-25KG": 10})
    order = place(customer, "LEU-USP-25KG", 1)
    sign_in(client, "fulfilment")
    page = client.post(f"/staff/orders/{order.number}/attention", data={"note": "handled twice"},
                       follow_redirects=True)
    assert page.request.path == f"/staff/orders/{order.number}"
    assert f"Order {order.number} is not flagged for attention." in text_of(page.text)
    assert _state(order.id)[2] == []
    assert client.post("/staff/orders/NO-SUCH/attention", data={"note": "x"}).status_code == 404


def test_the_service_refuses_before_changing_anything(app, product, customer):
    order = _flagged_order(product, customer)
    with pytest.raises(InvalidInput) as no_note:
        recall.clear_attention(order.number, " ", None)
    assert "note" in no_note.value.errors
    db.session.rollback()
    recall.clear_attention(order.number, "Customer accepted a partial delivery", None)
    db.session.commit()
    with pytest.raises(IllegalTransition):
        recall.clear_attention(order.number, "again", None)
    db.session.rollback()
    assert _state(order.id)[2] == [("order.attention_cleared", "Customer accepted a partial delivery")]


def test_the_form_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        order = _flagged_order(make_product(), make_customer())
        staff = make_staff("fulfilment")
        app.test_client_class = StaffClient
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/staff/login").text).group(1)
        assert client.post("/staff/login", data={"email": staff.email, "password": "staff password",
                                                 "csrf_token": token}).status_code == 302
        page = client.get(f"/staff/orders/{order.number}").text
        form = re.search(rf'<form method="post" action="/staff/orders/{order.number}/attention".*?</form>', page, re.S)
        assert form and 'name="csrf_token"' in form.group(0)
        forged = client.post(f"/staff/orders/{order.number}/attention", data={"note": "forged"})
        assert forged.status_code == 400
        assert _state(order.id)[0] is True
        db.session.remove()


def test_a_later_recall_flags_a_handled_order_with_its_own_note_only(app, product, customer):
    """The attention note says what needs doing now: a note that was handled is not repeated above a new one
    (it stays in the audit log)."""
    make_lot(product, "L-DRUMS", {"LEU-USP-25KG": 10})
    make_lot(product, "L-TUBS", {"LEU-USP-1KG": 10})
    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 2},
                                          {"sku": "LEU-USP-1KG", "quantity": 3}], ADDRESS)
    db.session.commit()
    quality = make_staff("quality", email="recall@shop.example")
    recall_leaving_short("L-DRUMS", "Foreign particles", quality)
    db.session.commit()
    recall.clear_attention(order.number, "Customer takes the tubs now, drums later.")
    db.session.commit()

    recall_leaving_short("L-TUBS", "Moisture", quality)
    db.session.commit()
    needs_attention, note, _ = _state(order.id)
    assert needs_attention is True
    assert note == "Lot L-TUBS recalled: LEU-USP-1KG short by 3 of 3 units."


def _attention_box(page) -> str:
    return text_of(re.search(r'<div class="alert alert-bad" role="alert"><h2>Needs attention</h2>(.*?)</div>',
                             page.text, re.S).group(1))


def test_the_attention_box_says_what_the_order_misses_now_not_what_the_recall_left(client, product, customer):
    """The recall's note said 4 of 4 drums; after a partial refill the box says the 3 still missing, as the buyer's
    page does, and why (the recalled lot)."""
    order = _flagged_order(product, customer)
    make_lot(product, "L-ONE", {"LEU-USP-25KG": 1})
    shortages.fill_short_order(order.number, make_staff("fulfilment", email="filler@shop.example"))
    db.session.commit()
    assert _state(order.id)[0] is True  # still short: still flagged

    sign_in(client, "fulfilment")
    box = _attention_box(client.get(f"/staff/orders/{order.number}"))
    assert box.startswith("Short since lot L-BAD was recalled: L-Leucine USP, 25 kg (LEU-USP-25KG) misses 3 of "
                          "4 units.")
    assert "short by 4" not in box and "4 of 4" not in box
    buyer = client.application.test_client()
    storefront_sign_in(buyer, customer.email)
    assert "L-Leucine USP, 25 kg (LEU-USP-25KG) misses 3 of 4 units." in text_of(buyer.get(
        f"/orders/{order.number}").text)


def test_a_flagged_order_that_misses_nothing_now_says_so(client, product, customer):
    order = _flagged_order(product, customer)
    ordering.cancel_order(order.number, reason="Customer withdrew")
    db.session.commit()
    sign_in(client, "fulfilment")
    box = _attention_box(client.get(f"/staff/orders/{order.number}"))
    assert box.startswith("Flagged since lot L-BAD was recalled; nothing is missing now.")
    assert "short by" not in box
