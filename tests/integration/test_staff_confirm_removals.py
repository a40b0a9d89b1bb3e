"""Issue 21 item 14 on the staff side: revoking a customer's API key, deactivating a customer and deleting a
company's price list first show what will happen, as the storefront does; only the confirmed form acts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.accounts import people as accounts
from shop.accounts.models import ApiKey, Customer
from shop.catalog import price_lists
from shop.catalog.models import PriceList
from shop.platform.extensions import db
from tests.support.api import new_api_client
from tests.support.staff import sign_in, text_of

pytestmark = pytest.mark.usefixtures("staff_clients")
CONFIRMED = {"confirm": "yes"}


def _asks_first(client, listing: str, url: str) -> None:
    """The list links to the confirmation page (no one-click form), and a post without the confirmation (what the
    one-click button of old sent) is sent there."""
    listed = client.get(listing).text
    assert f'href="{url}"' in listed
    assert f'action="{url}"' not in listed
    unconfirmed = client.post(url)
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"].endswith(url)


def test_staff_revoke_a_key_only_once_confirmed_on_a_page_that_names_it(app, client):
    api = new_api_client(app.test_client(), "erp@acme.example", "Acme Nutrition")
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.name == "tests"))
    sign_in(client, "admin")
    url = f"/staff/api-keys/{key_id}/revoke"
    _asks_first(client, "/staff/customers", url)
    assert api.get("/api/v1/orders").status_code == 200  # still works

    confirm = text_of(client.get(url).text)
    assert "Revoke API key tests?" in confirm
    assert "Acme Nutrition" in confirm and "erp@acme.example" in confirm and "never" in confirm
    assert "refused (401)" in confirm and "Keep the key" in confirm

    done = client.post(url, data=CONFIRMED, follow_redirects=True)
    assert "is revoked" in done.text
    assert api.get("/api/v1/orders").status_code == 401
    assert client.get(url, follow_redirects=True).request.path == "/staff/customers"  # revoked already


def test_staff_deactivate_a_customer_only_once_confirmed_on_a_page_that_says_what_happens(app, client):
    api = new_api_client(app.test_client(), "erp@acme.example", "Acme Nutrition")
    accounts.create_api_key(api.customer, "ERP integration (SAP)")
    db.session.commit()
    sign_in(client, "admin")
    url = f"/staff/customers/{api.customer.id}/deactivate"
    _asks_first(client, "/staff/customers", url)
    db.session.expire_all()
    assert db.session.get(Customer, api.customer.id).active

    confirm = text_of(client.get(url).text)
    assert "Deactivate erp@acme.example of Acme Nutrition?" in confirm
    assert "signed out everywhere" in confirm and "ERP integration (SAP)" in confirm and "orders stay" in confirm
    assert "Keep the customer active" in confirm

    done = client.post(url, data=CONFIRMED, follow_redirects=True)
    assert "is deactivated" in done.text
    db.session.expire_all()
    assert not db.session.get(Customer, api.customer.id).active
    assert api.get("/api/v1/orders").status_code == 401


def test_staff_delete_a_price_list_only_once_confirmed(app, client, product, customer):
    price_list = price_lists.create_price_list(customer.company, "Contract 2027",
                                               "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\n")
    db.session.commit()
    sign_in(client, "admin")
    company = f"/staff/companies/{customer.company_id}"
    url = f"{company}/price-lists/{price_list.id}/delete"
    _asks_first(client, company, url)
    assert db.session.scalar(select(func.count(PriceList.id))) == 1

    confirm = text_of(client.get(url).text)
    assert "Delete price list Contract 2027 of Acme Nutrition?" in confirm
    assert "1 price" in confirm and "public prices" in confirm and "Keep the price list" in confirm

    client.post(url, data=CONFIRMED)
    assert db.session.scalar(select(func.count(PriceList.id))) == 0


@pytest.mark.parametrize("role", ["warehouse", "quality", "fulfilment"])
def test_only_admins_see_the_staff_confirmation_pages(app, client, role, customer):
    accounts.create_api_key(customer, "ERP")
    db.session.commit()
    key_id = db.session.scalar(select(ApiKey.id))
    sign_in(client, role)
    assert client.get(f"/staff/customers/{customer.id}/deactivate").status_code == 403
    assert client.get(f"/staff/api-keys/{key_id}/revoke").status_code == 403


def test_the_confirmation_pages_of_an_unknown_key_customer_or_list_are_404(app, client, customer):
    sign_in(client, "admin")
    assert client.get("/staff/api-keys/999999/revoke").status_code == 404
    assert client.get("/staff/customers/999999/deactivate").status_code == 404
    assert client.get(f"/staff/companies/{customer.company_id}/price-lists/999999/delete").status_code == 404
