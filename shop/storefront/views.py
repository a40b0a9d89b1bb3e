"""Storefront views."""
from __future__ import annotations

from flask import render_template

from ..services import catalog
from . import bp


@bp.get("/")
def index():
    """List the grades on sale."""
    return render_template("storefront/index.html", products=catalog.list_products())
