"""Helpers shared by the staff-page tests: sign-in as a role, place an order, count SQL statements."""
from __future__ import annotations

import re
from html import unescape

import pytest
from flask import g
from flask.testing import FlaskClient

from shop import ordering
from shop.platform.extensions import db
from tests.support.factories import make_staff
from tests.support.sql import count_statements

ADDRESS = {"name": "Goods In", "line1": "Hafenstrasse 1", "city": "Hamburg", "postal_code": "20457",
           "country": "DE"}
PASSWORD = "staff password"


def sign_in(client, role: str, email: str | None = None):
    """Create a staff user with `role` and sign the client in through the staff sign-in form."""
    staff = make_staff(role, email=email)
    page = client.post("/staff/login", data={"email": staff.email, "password": PASSWORD})
    assert page.status_code == 302, page.text
    return staff


def place(customer, sku: str, quantity: int, *, min_days: int | None = None):
    """Place and commit an order through the order service, as the storefront and API do."""
    order = ordering.place_order(customer, [{"sku": sku, "quantity": quantity}], ADDRESS,
                               min_remaining_shelf_life_days=min_days)
    db.session.commit()
    return order


def page_statements(client: FlaskClient, url: str) -> int:
    """The SQL statements one GET of `url` costs, started like a fresh server request (nothing cached in the
    session or in g); the page must answer 200."""
    db.session.remove()
    g.pop("_login_user", None)
    with count_statements() as seen:
        page = client.get(url)
    assert page.status_code == 200, page.text
    return len(seen)


def text_of(html: str) -> str:
    """The visible text of a page with tags removed and white space collapsed, for plain assertions."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


class StaffClient(FlaskClient):
    """A test client whose every request loads its user from its own cookie, as a real server does.

    The tests' app context is reused by each request, and Flask-Login caches the user in `g` there;
    without this, a second client (another role) would silently act as the first one.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def staff_clients(app):
    """Make app.test_client() (and so conftest's `client`) a StaffClient; use with pytest.mark.usefixtures."""
    app.test_client_class = StaffClient
