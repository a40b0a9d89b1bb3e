"""Customer-facing storefront: catalog, product pages, CoAs, cart, checkout, accounts, my orders."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("storefront", __name__)

from shop.storefront import (  # noqa: E402,F401
    account,
    cart,
    company,
    complaints,
    documents,
    invoices,
    legal,
    orders,
    quotes,
    samples,
    specifications,
    views,
    webhooks,
)
from shop.storefront.common import storefront_globals  # noqa: E402

bp.app_context_processor(storefront_globals)
