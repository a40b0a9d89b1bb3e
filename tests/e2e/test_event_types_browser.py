"""In chromium: the account's Webhooks page offers exactly the event types the shop sends (screenshot
screenshots/storefront-webhook-events-1280.png)."""
from __future__ import annotations

import pytest

from shop.events.types import EVENT_TYPES
from tests.support.browser import screenshot
from tests.support.factories import make_customer

pytestmark = pytest.mark.browser


def test_the_webhooks_page_offers_only_events_the_shop_sends(live_server, new_page):
    make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    page = new_page()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("buyer@northwind.example")
    page.get_by_label("Password", exact=True).fill("correct horse")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/account/webhooks")
    events = page.get_by_role("group", name="Events to send")
    offered = [box.get_attribute("value") for box in events.get_by_role("checkbox").all()]
    events.scroll_into_view_if_needed()
    screenshot(page, "storefront-webhook-events-1280")
    assert offered == ["*", *EVENT_TYPES]
    # sent since #25, #26 and #24
    assert {"order.backorder_allocated", "quote.answered", "quote.expired", "invoice.issued"} <= set(offered)
