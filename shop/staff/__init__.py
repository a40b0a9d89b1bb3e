"""Staff pages under /staff: inventory, batches and QC, ledger, fulfilment, traceability, product documents,
sample requests, audit log."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from shop.staff import (  # noqa: E402,F401  (registers the views)
    audit,
    auth,
    backorders,
    batches,
    companies,
    complaints,
    customers,
    documents,
    events,
    inventory,
    invoices,
    orders,
    quotes,
    samples,
    staff_users,
    trace,
)
