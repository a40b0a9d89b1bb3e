"""Jinja filters and globals: money, masses, counts, countries, dates, shop settings (the words themselves are
shop.platform.wording's)."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, request, url_for
from markupsafe import Markup, escape

from shop.platform import wording
from shop.platform.countries import country_name
from shop.platform.seller import Seller

# Bound on the memo of cached_url: lot links grow with the lots ever shown; navigation needs a handful.
_CACHED_URLS_MAX = 2000


def money(value: Decimal | None, currency: str | None = None) -> str:
    """An amount as the shop writes it ('1,234.50 EUR'), in the shop's currency unless told another."""
    return wording.money(value, currency or current_app.config["SHOP_CURRENCY"])


def isodate(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def formula(value: str | None) -> Markup:
    """A molecular formula with its counts as subscripts: 'C6H13NO2' -> C<sub>6</sub>H<sub>13</sub>NO<sub>2</sub>."""
    return Markup(re.sub(r"(\d+)", r"<sub>\1</sub>", str(escape(value or ""))))


def cached_url(endpoint: str, **values: str) -> str:
    """url_for for a site-relative link, memoised per app and script root.

    Building a URL costs several microseconds and a page has a dozen (navigation, forms, CoA links), while
    the result depends only on the endpoint, its values and where the app is mounted (no url_defaults or
    value preprocessors are registered; a new app starts a new memo).
    """
    memo: dict = current_app.extensions.setdefault("shop_cached_urls", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = memo.get(key)
    if url is None:
        url = url_for(endpoint, **values)
        if len(memo) >= _CACHED_URLS_MAX:
            memo.clear()
        memo[key] = url
    return url


def init_templating(app: Flask) -> None:
    """Register the filters and the shop-wide template globals."""
    app.add_template_filter(money)
    app.add_template_filter(wording.kg)
    app.add_template_filter(wording.units)
    app.add_template_filter(wording.payment_terms)
    app.add_template_filter(country_name, "country")
    app.add_template_filter(isodate)
    app.add_template_filter(formula)
    app.add_template_global(cached_url)

    seller = Seller.from_config(app.config)
    app.extensions["shop_seller"] = seller

    @app.context_processor
    def shop_globals() -> dict:
        return {"shop_name": app.config["SHOP_NAME"], "currency": app.config["SHOP_CURRENCY"], "seller": seller}
