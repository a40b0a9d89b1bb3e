"""Staff pages under /staff: inventory, batches and QC, ledger, fulfilment, traceability, audit log."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from shop.staff import audit, auth, batches, companies, customers, events, inventory, orders, staff_users, trace  # noqa: E402,F401  (registers the views)
