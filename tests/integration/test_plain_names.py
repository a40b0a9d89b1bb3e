"""A line break or another control character in any name a company types is refused beside the field (issue 22,
item 7): the probe stored "Acme\\r\\nInc", which broke that company's invitations (a CR/LF in a mail header)."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from shop.accounts.models import Company, Customer
from shop.fulfilment import shipments
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from tests.support.api import ADDRESS, assert_problem, order_count
from tests.support.factories import make_customer
from tests.support.mail import drain, outbox_mail
from tests.support.storefront import field_error, register, sign_in


@pytest.fixture
def admin(app, client):
    admin = make_customer("admin@acme.example", "Acme Nutrition")
    sign_in(client, admin.email)
    return admin


@pytest.mark.parametrize("company", ["Acme\r\nInc", "Acme\nInc", "Acme\x1bInc", "Acme\x85Inc", "Acme\u2029Inc"])
def test_a_line_break_or_control_character_in_a_company_name_is_refused_beside_the_field(app, admin, client,
                                                                                       company):
    page = client.post("/account", data={"name": company})
    assert page.status_code == 422 and "line" in field_error(page.text, "name")
    registered = register(app.test_client(), company=company)
    assert registered.status_code == 422 and "line" in field_error(registered.text, "company")
    db.session.expire_all()
    assert db.session.query(Customer).filter_by(email="new@brand.example").count() == 0
    assert db.session.get(Customer, admin.id).company.name == "Acme Nutrition"


@pytest.mark.parametrize(("path", "field", "data"), [
    ("/account/api-keys", "name", {"name": "ERP\r\nline", "role": "buyer"}),
    ("/account/webhooks", "description", {"url": "https://hooks.example.com/x", "events": ["order.placed"],
                                          "description": "ERP\r\nline"}),
])
def test_a_line_break_in_any_other_name_on_the_company_pages_is_refused_beside_the_field(admin, client, path, field,
                                                                                       data):
    page = client.post(path, data=data)
    assert page.status_code == 422 and "line" in field_error(page.text, field)


def test_a_line_break_in_a_carrier_or_tracking_reference_is_refused_before_any_order_is_touched(app):
    # Both go into the buyer's "shipped" e-mail and the order's history, as names do.
    with pytest.raises(InvalidInput) as refused:
        shipments.ship_order("LS-NONE", "1Z999\r\nYour parcel is held, pay at", carrier="DHL\u2028Customs")
    assert set(refused.value.errors) == {"tracking_reference", "carrier"}


def test_a_company_name_stored_with_a_line_break_before_the_check_still_gets_its_invitations_out(admin, client):
    db.session.execute(update(Company).where(Company.id == admin.company_id).values(name="Acme\r\nNutrition"))
    db.session.commit()
    assert client.post("/account/members", data={"email": "x@example.com", "role": "buyer"}).status_code == 302
    drain()
    (message,) = [m for m in outbox_mail() if m.to == ["x@example.com"]]
    assert message.subject == "admin@acme.example of Acme  Nutrition invited you to Leucine Shop"


def test_the_api_refuses_a_line_break_in_an_endpoint_description_with_a_problem(admin_api):
    problem = assert_problem(admin_api.post("/api/v1/webhook-endpoints", json={
        "url": "https://hooks.example.com/x", "events": ["order.placed"], "description": "ERP\r\nline"}),
        422, "validation-error")
    assert "line" in " ".join(problem["errors"]["description"])


def test_the_api_refuses_a_line_break_in_a_shipping_address_name_and_places_nothing(api, stocked):
    problem = assert_problem(api.post("/api/v1/orders", json={
        "lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": {**ADDRESS, "name": "Acme\r\nInc"}}),
        422, "validation-error")
    assert "shipping_address.name" in problem["errors"] and order_count() == 0
