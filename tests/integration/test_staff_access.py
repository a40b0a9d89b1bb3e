"""Staff sign-in and roles: who may see and do what, and that a refused action changes nothing."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop.inventory.models import Batch, BatchStatus, Stock, StockMovement
from shop.ordering.models import Order, OrderStatus
from shop.platform.extensions import db
from shop.quality import release
from tests.support.factories import good_results, make_lot, make_product, make_staff
from tests.support.staff import StaffClient, place, sign_in  # noqa: F401
from tests.support.storefront import client_at

pytestmark = pytest.mark.usefixtures("staff_clients")


def test_staff_pages_send_visitors_to_the_staff_sign_in(client):
    page = client.get("/staff/batches")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/staff/login?next=")


def test_staff_sign_in_then_dashboard(client, product):
    staff = make_staff("warehouse")
    page = client.post("/staff/login?next=/staff/batches", data={"email": staff.email, "password": "staff password"},
                       follow_redirects=True)
    assert page.request.path == "/staff/batches"
    assert "warehouse@shop.example" in page.text and "Sign out" in page.text


def test_wrong_password_is_refused_and_repeated_failures_pause_sign_in_from_that_address(client):
    staff = make_staff("quality")
    for _ in range(5):  # RATELIMIT_SIGNIN_FAILURES allows 5 a minute
        page = client.post("/staff/login", data={"email": staff.email, "password": "not it at all"})
        assert page.status_code == 422 and "Email or password is wrong." in page.text
    paused = client.post("/staff/login", data={"email": staff.email, "password": "staff password"})
    assert paused.status_code == 429 and paused.headers["Retry-After"] and "Too many attempts" in paused.text
    assert client.get("/staff/").status_code == 302  # still not signed in
    elsewhere = client_at(client.application, "198.51.100.20")
    assert elsewhere.post("/staff/login", data={"email": staff.email, "password": "staff password"}).status_code == 302


def test_sign_in_ignores_a_next_url_outside_the_staff_pages(client):
    staff = make_staff("admin")
    page = client.post("/staff/login?next=https://evil.example/staff/",
                       data={"email": staff.email, "password": "staff password"})
    assert page.headers["Location"] == "/staff/"


def test_a_signed_in_customer_is_not_staff(client, customer):
    page = client.post("/sign-in", data={"email": customer.email, "password": "correct horse"})
    assert page.status_code == 302
    staff_page = client.get("/staff/", follow_redirects=True)
    assert staff_page.request.path == "/staff/login"
    assert "signed in as a customer" in staff_page.text


def test_sign_out_needs_a_post_and_ends_the_session(client):
    sign_in(client, "fulfilment")
    assert client.get("/staff/logout").status_code == 405
    assert client.post("/staff/logout").status_code == 302
    assert client.get("/staff/").status_code == 302


SIGN = {"confirm": "y", "password": "staff password"}


def _lot(product, status="quarantine"):
    return make_lot(product, "L-ROLE", {"LEU-USP-25KG": 10}, status=status)


def _counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Batch.id))), db.session.scalar(select(func.count(StockMovement.id))),
            [(b.lot_number, b.status) for b in db.session.scalars(select(Batch).order_by(Batch.id))],
            [(o.number, o.status) for o in db.session.scalars(select(Order))],
            [(s.id, s.on_hand, s.allocated) for s in db.session.scalars(select(Stock).order_by(Stock.id))])


def _good_results_form(product):
    return {f"result_{t.id}": ("conforms" if t.qualitative else str(((t.min_value or 0) + (t.max_value or 0)) / 2))
            for t in product.spec_tests}


REFUSALS = {
    # role -> (what it tries, which belongs to another role)
    "warehouse-releases": ("warehouse", "post", lambda ctx: f"/staff/batches/{ctx['lot']}/release", {}),
    "warehouse-records-results": ("warehouse", "post", lambda ctx: f"/staff/batches/{ctx['lot']}/results",
                                  "results"),
    "fulfilment-rejects": ("fulfilment", "post", lambda ctx: f"/staff/batches/{ctx['lot']}/reject",
                           {"reason": "bad"}),
    "quality-receives": ("quality", "post", lambda ctx: "/staff/batches/receive?product=l-leucine-usp",
                         {"lot_number": "L-NEW", "manufactured_on": "2025-01-01", "expires_on": "2030-01-01",
                          "units_2": "5"}),
    "fulfilment-adjusts": ("fulfilment", "post", lambda ctx: f"/staff/stock/{ctx['stock']}/adjust",
                           {"kind": "adjustment", "delta": "-1", "reason": "dropped"}),
    "warehouse-ships": ("warehouse", "post", lambda ctx: f"/staff/orders/{ctx['order']}/ship",
                        {"tracking_reference": "TRK"}),
    "quality-confirms": ("quality", "post", lambda ctx: f"/staff/orders/{ctx['order']}/confirm", {}),
    "warehouse-cancels": ("warehouse", "post", lambda ctx: f"/staff/orders/{ctx['order']}/cancel", {}),
    "fulfilment-recalls": ("fulfilment", "post", lambda ctx: f"/staff/batches/{ctx['released']}/recall",
                           {"reason": "complaint"}),
    "warehouse-lists-orders": ("warehouse", "get", lambda ctx: "/staff/orders", None),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_role_is_refused_another_roles_action_and_nothing_changes(client, product, customer, case):
    role, method, url, data = REFUSALS[case]
    lot = _lot(product)
    released = make_lot(product, "L-SOLD", {"LEU-USP-25KG": 10})
    order = place(customer, "LEU-USP-25KG", 2)
    ctx = {"lot": lot.lot_number, "stock": lot.stocks[0].id, "order": order.number, "released": released.lot_number}
    if data == "results":
        data = _good_results_form(product)
    before = _counts()
    sign_in(client, role)
    page = getattr(client, method)(url(ctx), data=data)
    assert page.status_code == 403
    assert f"you are signed in as {role}" in page.text
    assert "Traceback" not in page.text
    assert _counts() == before


def test_admin_may_do_what_every_role_does_but_sign(client, product, customer):
    lot = make_lot(product, "L-ADMIN", {"LEU-USP-25KG": 10}, status="quarantine")
    other = make_lot(product, "L-ADMIN2", {"LEU-USP-25KG": 10}, status="quarantine")
    release.record_results(other, good_results(product), make_staff("quality"))
    make_lot(product, "L-SOLD", {"LEU-USP-25KG": 2})
    db.session.commit()
    sign_in(client, "admin")
    assert client.post(f"/staff/batches/{lot.lot_number}/results", data=_good_results_form(product)).status_code == 302
    # a release is signed by the quality unit: the admin role alone does not sign (issue 21, item 2)
    assert client.post(f"/staff/batches/{other.lot_number}/release", data=SIGN).status_code == 403
    order = place(customer, "LEU-USP-25KG", 1)
    assert client.post(f"/staff/orders/{order.number}/confirm").status_code == 302
    db.session.expire_all()
    assert db.session.get(Batch, other.id).status == BatchStatus.QUARANTINE
    assert len(db.session.get(Batch, lot.id).results) == len(product.spec_tests)
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED


def test_two_staff_signed_in_at_once_keep_their_own_roles(app, client, product):
    other_client = app.test_client()
    lot = make_lot(product, "L-TWO", {"LEU-USP-25KG": 10}, status="quarantine")
    sign_in(client, "warehouse")
    sign_in(other_client, "quality")
    assert client.post(f"/staff/batches/{lot.lot_number}/reject", data={"reason": "x", **SIGN}).status_code == 403
    assert other_client.post(f"/staff/batches/{lot.lot_number}/reject", data={"reason": "x", **SIGN}
                             ).status_code == 302


def test_every_staff_view_checks_the_role(app):
    # Open to anyone: signing in and out, and a password reset link (its signed token is the key).
    public = ("staff.login", "staff.logout", "staff.reset_password")
    unguarded = [rule.rule for rule in app.url_map.iter_rules()
                 if rule.endpoint.startswith("staff.") and rule.endpoint not in public
                 and not hasattr(app.view_functions[rule.endpoint], "staff_roles")]
    assert unguarded == []


def test_forms_carry_a_csrf_token_and_a_post_without_it_changes_nothing(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        product = make_product()
        lot = make_lot(product, "L-CSRF", {"LEU-USP-25KG": 3}, status="quarantine")
        staff = make_staff("quality")
        app.test_client_class = StaffClient
        client = app.test_client()
        login_page = client.get("/staff/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        assert client.post("/staff/login", data={"email": staff.email, "password": "staff password"}
                           ).status_code == 400  # no token
        assert client.post("/staff/login", data={"email": staff.email, "password": "staff password",
                                                 "csrf_token": token}).status_code == 302
        forged = client.post(f"/staff/batches/{lot.lot_number}/reject", data={"reason": "forged"})
        assert forged.status_code == 400
        assert "Form expired" in forged.text and "Dashboard" in forged.text  # the staff page, staff navigation
        assert "Back to the catalog" not in forged.text
        db.session.expire_all()
        assert db.session.get(Batch, lot.id).status == BatchStatus.QUARANTINE
        batch_page = client.get(f"/staff/batches/{lot.lot_number}").text
        assert batch_page.count('name="csrf_token"') >= 3  # results, release, reject, sign out
        db.session.remove()


@pytest.mark.parametrize("role", ["finance", "sales", "warehouse", "quality", "fulfilment"])
def test_no_staff_page_shows_a_role_a_link_it_may_not_follow(app, product, customer, role):
    """Every /staff link on the dashboard and on a shipped order's page answers the role that sees it: a link that
    ends in 403 is a control the role may not use (the order's packing slips, traceability, the documents page)."""
    from datetime import date, timedelta

    from shop import ordering
    from tests.support.billing import ship_paid
    from tests.support.documents import add_document

    make_lot(product, "L-SEEN", {"LEU-USP-25KG": 10})
    shipped = place(customer, "LEU-USP-25KG", 2)
    ordering.confirm_order(shipped.number)
    ship_paid(shipped.number, "1Z-SEEN")
    place(customer, "LEU-USP-25KG", 1)  # waiting to be confirmed: on the dashboard's work queue
    add_document(product, valid_until=date.today() + timedelta(days=20), today=date.today())  # ends soon
    db.session.commit()
    client = app.test_client()
    sign_in(client, role)
    pages = ["/staff/", f"/staff/orders/{shipped.number}"]
    links = set()
    for page in pages:
        answer = client.get(page)
        if answer.status_code == 403:  # the page itself is not this role's: nothing on it is offered
            continue
        assert answer.status_code == 200, page
        links |= {link for link in re.findall(r'href="(/staff/[^"#]*)"', answer.text) if "logout" not in link}
    refused = [link for link in sorted(links) if client.get(link).status_code == 403]
    assert refused == [], f"{role} is shown links it may not follow: {refused}"
