"""Orders waiting on stock: what each waits for, oldest first (the order a release serves them in)."""
from __future__ import annotations

from flask import abort, render_template, request

from shop.accounts.models import StaffRole
from shop.fulfilment import backorders
from shop.platform.errors import InvalidInput
from shop.staff import bp
from shop.staff.auth import role_required
from shop.staff.helpers import page_link_args


@bp.get("/backorders")
@role_required(StaffRole.FULFILMENT)
def backorder_list():
    """Orders with backordered units, oldest first, each linking to its page; the units per SKU above them."""
    try:
        page = backorders.waiting_orders(cursor=request.args.get("cursor"))
    except InvalidInput as exc:
        abort(400, description=" ".join(m for msgs in exc.errors.values() for m in msgs))
    return render_template("staff/backorders.html", waiting=page, per_sku=backorders.per_sku(),
                           args=page_link_args())
