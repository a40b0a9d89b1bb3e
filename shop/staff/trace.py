"""Traceability: a lot to every order and customer that drew from it, an order to its lots; HTML and CSV."""
from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for

from shop import ordering
from shop.accounts.models import StaffRole
from shop.quality import trace as tracing
from shop.staff import bp
from shop.staff.auth import role_required
from shop.staff.forms import TraceSearchForm
from shop.staff.helpers import or_404

TRACE_ROLES = (StaffRole.QUALITY, StaffRole.FULFILMENT, StaffRole.WAREHOUSE)


@bp.get("/trace")
@role_required(*TRACE_ROLES)
def trace_search():
    """Find a lot or an order to trace."""
    form = TraceSearchForm(request.args)
    if form.validate():
        if (form.lot.data or "").strip():
            return redirect(url_for("staff.trace_lot", lot_number=form.lot.data.strip()))
        if (form.order.data or "").strip():
            return redirect(url_for("staff.trace_order", number=form.order.data.strip().upper()))
    return render_template("staff/trace_search.html", form=form)


def _csv(body: str, filename: str) -> Response:
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _wants_csv() -> bool:
    return request.args.get("format") == "csv"


@bp.get("/trace/lot/<lot_number>")
@role_required(*TRACE_ROLES)
def trace_lot(lot_number: str):
    """Every order and customer that drew from a lot, with quantities, dates and status; the samples shipped from
    it and who received them."""
    trace = or_404(tracing.lot_trace, lot_number)
    if _wants_csv():
        return _csv(tracing.lot_trace_csv(trace), f"trace-lot-{_safe(lot_number)}.csv")
    return render_template("staff/trace_lot.html", trace=trace)


@bp.get("/trace/lot/<lot_number>.csv")
@role_required(*TRACE_ROLES)
def trace_lot_csv(lot_number: str):
    trace = or_404(tracing.lot_trace, lot_number)
    return _csv(tracing.lot_trace_csv(trace), f"trace-lot-{_safe(lot_number)}.csv")


@bp.get("/trace/order/<number>")
@role_required(*TRACE_ROLES)
def trace_order(number: str):
    """The lots an order drew from, per line."""
    order = or_404(ordering.get_order, number)
    rows = tracing.order_trace_rows(order.id)
    if _wants_csv():
        return _csv(tracing.trace_csv(rows), f"trace-order-{_safe(number)}.csv")
    return render_template("staff/trace_order.html", order=order, rows=rows)


@bp.get("/trace/order/<number>.csv")
@role_required(*TRACE_ROLES)
def trace_order_csv(number: str):
    order = or_404(ordering.get_order, number)
    return _csv(tracing.trace_csv(tracing.order_trace_rows(order.id)), f"trace-order-{_safe(number)}.csv")


def _safe(name: str) -> str:
    # Lot numbers are free text; keep the download's file name to harmless characters.
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]
