"""Inventory dashboard, stock adjustments and the movement ledger."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.accounts.models import StaffRole
from shop.fulfilment import backorders
from shop.inventory import lots as inventory
from shop.inventory.models import MovementKind, Stock
from shop.ordering.work_queue import work_queue
from shop.platform.errors import DomainError, InvalidInput
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.reporting import reports
from shop.staff import bp
from shop.staff.auth import ANY_STAFF, current_staff, role_required
from shop.staff.chart import bar_chart, phone_chart
from shop.staff.forms import AdjustForm, DashboardForm, LedgerFilterForm
from shop.staff.helpers import filtered_page, page_link_args, show_errors, validate_with

_ADJUSTMENT_KINDS = {MovementKind.ADJUSTMENT.value, MovementKind.SCRAP.value}


@bp.get("/")
@role_required(*ANY_STAFF)
def dashboard():
    """The work queue (orders to confirm, needing attention, short), backorders per SKU, then stock per product,
    pack size and lot; expiring lots, low stock, quarantine queue, kg by expiry month."""
    form = DashboardForm(request.args)
    days = form.days.data if form.validate() and form.days.data is not None else 90
    data = reports.dashboard(days, current_app.config["LOW_STOCK_UNITS"])
    return render_template("staff/dashboard.html", form=form, data=data, queue=work_queue(),
                           backorders=backorders.per_sku(),
                           chart=bar_chart(data.kg_by_month), phone_chart=phone_chart(data.kg_by_month))


@bp.get("/ledger")
@role_required(*ANY_STAFF)
def ledger():
    """Every stock movement, newest first, filterable by lot, SKU and date; keyset pages."""
    form = LedgerFilterForm(request.args)
    page, status = filtered_page(form, lambda: reports.ledger_page(
        form.lot.data or "", form.sku.data or "", form.date_from.data, form.date_to.data,
        cursor=request.args.get("cursor")))
    return render_template("staff/ledger.html", form=form, page=page, args=page_link_args()), status


def _stock_or_404(stock_id: int) -> Stock:
    stock = db.session.scalar(
        select(Stock).where(Stock.id == stock_id)
        .options(selectinload(Stock.batch), selectinload(Stock.variant))
    )
    if stock is None:
        abort(404, description="No such stock row.")
    return stock


@bp.route("/stock/<id:stock_id>/adjust", methods=["GET", "POST"])
@role_required(StaffRole.WAREHOUSE)
def adjust(stock_id: int):
    """Correct the units on hand of one lot in one pack size, with a reason; never below what is allocated."""
    stock = _stock_or_404(stock_id)
    form = AdjustForm()
    if request.method == "POST":
        kind = MovementKind(form.kind.data) if form.kind.data in _ADJUSTMENT_KINDS else None
        valid, leftover = validate_with(form, inventory.adjustment_errors(stock, form.delta.data, form.reason.data,
                                                                          kind))
        for message in leftover:
            flash(message, "error")
        if valid:
            try:
                run_in_transaction(inventory.adjust_stock, stock_id, form.delta.data, form.reason.data,
                                   current_staff(), kind)
            except InvalidInput as exc:  # an order took units meanwhile
                for message in show_errors(form, exc.errors):
                    flash(message, "error")
            except DomainError as exc:
                flash(exc.message, "error")
            else:
                flash(f"Adjustment of {form.delta.data:+d} units recorded for lot {stock.batch.lot_number}, "
                      f"{stock.variant.sku}.", "success")
                return redirect(url_for("staff.batch", lot_number=stock.batch.lot_number))
            db.session.refresh(stock)
    return render_template("staff/adjust.html", form=form, stock=stock), 422 if request.method == "POST" else 200
