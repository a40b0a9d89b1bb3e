"""Customer-facing storefront: catalog, product pages, cart, checkout, accounts."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("storefront", __name__)

from . import views  # noqa: E402,F401
