"""The suite's shared app (tests/conftest.py, `make_app`): a test that asks for a plain app gets its process's one
app, renewed. The two tests below run in this order in one process (a file goes to one process): the first leaves
behind in the app whatever a test can, the second gets the same app and finds none of it."""
from __future__ import annotations

import pytest
from flask_mailman import EmailMessage

from shop.platform.queue import task_queue
from shop.platform.storage import storage
from tests.support.factories import make_lot
from tests.support.mail import outbox_mail
from tests.support.staff import StaffClient
from tests.support.storefront import sign_in

PRODUCT_PAGE = "/products/l-leucine-usp"
LEFT_BEHIND: dict[str, object] = {}  # the app of the first test, by backend


def test_a_test_leaves_mail_tasks_spent_limits_settings_and_a_cached_page_in_the_app(app, client, backend, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    assert "L-1" in client.get(PRODUCT_PAGE).text
    assert "shop_catalog_cache" in app.extensions
    EmailMessage("Left behind", "A message of the first test.", to=["someone@example.com"]).send()
    task_queue().enqueue("sweep_outbox")
    statuses = [sign_in(client, email="nobody@example.com").status_code for _ in range(40)]
    assert 429 in statuses  # the sign-in limit (30 a minute from one address) is spent
    app.config["SHOP_NAME"] = "Left Behind Ltd"
    app.test_client_class = StaffClient
    assert outbox_mail() and task_queue().huey.pending_count() == 1
    LEFT_BEHIND[backend] = app


def test_the_next_test_gets_the_same_app_as_it_was_new(app, client, backend, tmp_path):
    if backend not in LEFT_BEHIND:
        pytest.skip("checks what the test above left behind: run the whole file")
    assert app is LEFT_BEHIND[backend]  # the same app, so that what follows checks its renewal
    assert outbox_mail() == [] and task_queue().huey.pending_count() == 0
    assert app.config["SHOP_NAME"] != "Left Behind Ltd" and app.test_client_class is None
    assert storage().put(b"%PDF-1.7", suffix=".pdf")  # uploads go to this test's own folder
    assert list((tmp_path / "documents").iterdir())
    assert sign_in(client, email="nobody@example.com").status_code == 422  # refused, not held back by the limit
    assert "shop_catalog_cache" not in app.extensions
    assert client.get(PRODUCT_PAGE).status_code == 404  # the first test's product is gone, and so is its page
