"""The browser harness itself: chromium opens the served catalog."""
from __future__ import annotations

import pytest

from tests.support.browser import screenshot

pytestmark = pytest.mark.browser


def test_catalog_opens_in_chromium(live_server, new_page, product):
    page = new_page()
    page.goto(live_server + "/")
    assert page.locator("h1").count() == 1
    assert "L-Leucine USP" in page.content()
    assert screenshot(page, "smoke-catalog").exists()
