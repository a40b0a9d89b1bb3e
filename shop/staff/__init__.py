"""Staff pages under /staff: inventory, batches and QC, ledger, fulfilment, traceability."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
