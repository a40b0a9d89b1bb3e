"""Batches: receive a lot into quarantine, record CoA results, release, reject, recall."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from ..errors import DomainError, InvalidInput, ReleaseRefused
from ..models import BatchStatus, StaffRole
from ..services import catalog, inventory, recall, reports
from ..services.tx import run_in_transaction
from . import bp
from .auth import ANY_STAFF, can, current_staff, role_required
from .forms import (
    ActionForm,
    ChooseProductForm,
    FilterForm,
    RecallForm,
    RejectForm,
    receive_form,
    results_form,
)
from .helpers import or_404, page_link_args, show_errors


@bp.get("/batches")
@role_required(*ANY_STAFF)
def batches():
    """All lots, newest receipt first, filtered by QC status and product."""
    status_arg = request.args.get("status", "")
    try:
        status = BatchStatus(status_arg) if status_arg else None
    except ValueError:
        abort(400, description=f"Unknown status '{status_arg}'.")
    product = request.args.get("product", "")
    try:
        page = reports.batch_page(status, product, cursor=request.args.get("cursor"))
    except InvalidInput as exc:
        abort(400, description=" ".join(m for msgs in exc.errors.values() for m in msgs))
    return render_template("staff/batches.html", page=page, products=catalog.list_products(active_only=False),
                           statuses=list(BatchStatus), status=status_arg, product=product, args=page_link_args(),
                           form=FilterForm())


@bp.route("/batches/receive", methods=["GET", "POST"])
@role_required(StaffRole.WAREHOUSE)
def receive():
    """Book a new lot into quarantine: choose the product, then give the lot and its units per pack size."""
    products = catalog.list_products()
    choose = ChooseProductForm(request.args)
    choose.product.choices = [SelectChoice("", "Choose a product…")] + [SelectChoice(p.slug, f"{p.name} ({p.grade})")
                                                                      for p in products]
    product = next((p for p in products if p.slug == request.args.get("product")), None)
    if product is None:
        if request.method == "POST":
            abort(400, description="Choose the product first.")
        return render_template("staff/receive.html", choose=choose, product=None, form=None)

    form = receive_form(product.variants, product=product.slug)
    status = 200
    if form.validate_on_submit():
        units = {v.sku: form[f"units_{v.id}"].data or 0 for v in product.variants}
        try:
            batch = run_in_transaction(inventory.receive_batch, product.slug, form.lot_number.data,
                                       form.manufactured_on.data, form.expires_on.data, units, current_staff())
        except InvalidInput as exc:
            fields = {f"units.{v.sku}": f"units_{v.id}" for v in product.variants}
            for message in show_errors(form, exc.errors, fields):
                flash(message, "error")
        else:
            flash(f"Lot {batch.lot_number} received into quarantine.", "success")
            return redirect(url_for("staff.batch", lot_number=batch.lot_number))
    if request.method == "POST":
        status = 422
    return render_template("staff/receive.html", choose=choose, product=product, form=form), status


def _render_batch(lot_number: str, *, results=None, reject=None, recall_form=None, refused=None, status=200):
    batch = or_404(inventory.get_batch, lot_number)
    tests = batch.product.spec_tests
    by_test = {r.spec_test_id: r for r in batch.results}
    if results is None:
        results = results_form(tests, formdata=None,
                               data={f"result_{t.id}": by_test[t.id].value for t in tests if t.id in by_test})
    return render_template(
        "staff/batch.html", batch=batch, tests=tests, by_test=by_test, results=results,
        reject=reject or RejectForm(formdata=None), recall_form=recall_form or RecallForm(formdata=None),
        action=ActionForm(formdata=None), refused=refused,
        pending_failures={f.test for f in inventory.release_failures(batch)},
        can_edit_results=batch.status == BatchStatus.QUARANTINE and can(StaffRole.QUALITY),
    ), status


@bp.get("/batches/<lot_number>")
@role_required(*ANY_STAFF)
def batch(lot_number: str):
    """One lot: its stock per pack size, CoA results against the specification, and the QC actions."""
    return _render_batch(lot_number)


@bp.post("/batches/<lot_number>/results")
@role_required(StaffRole.QUALITY)
def save_results(lot_number: str):
    """Record or correct CoA results; blank fields are left as they were."""
    batch = or_404(inventory.get_batch, lot_number)
    tests = batch.product.spec_tests
    form = results_form(tests)
    if not form.validate_on_submit():
        return _render_batch(lot_number, results=form, status=422)
    values = {t.name: form[f"result_{t.id}"].data for t in tests if (form[f"result_{t.id}"].data or "").strip()}

    def work():
        return inventory.record_results(inventory.get_batch(lot_number), values, current_staff())

    try:
        saved = run_in_transaction(work)
    except InvalidInput as exc:
        fields = {f"results.{t.name}": f"result_{t.id}" for t in tests}
        for message in show_errors(form, exc.errors, fields):
            flash(message, "error")
        return _render_batch(lot_number, results=form, status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.batch", lot_number=lot_number))
    flash(f"{len(saved)} result{'s' if len(saved) != 1 else ''} saved for lot {lot_number}.", "success")
    return redirect(url_for("staff.batch", lot_number=lot_number))


@bp.post("/batches/<lot_number>/release")
@role_required(StaffRole.QUALITY)
def release(lot_number: str):
    """Release a quarantined lot for sale; refused with every missing or out-of-spec result named."""
    or_404(inventory.get_batch, lot_number)
    if not ActionForm().validate_on_submit():
        abort(400)

    def work():
        return inventory.release_batch(inventory.get_batch(lot_number), current_staff())

    try:
        run_in_transaction(work)
    except ReleaseRefused as exc:
        return _render_batch(lot_number, refused=exc.failures, status=409)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.batch", lot_number=lot_number))
    flash(f"Lot {lot_number} released: its units can now be sold.", "success")
    return redirect(url_for("staff.batch", lot_number=lot_number))


def _lot_action(lot_number: str, form, form_name: str, work, done):
    """Run one QC action posted from a form on the lot page.

    Bad input goes back beside the form's field (422); a refusal such as a wrong status is a message on the lot
    page; otherwise `done(outcome)` flashes and redirects.
    """
    or_404(inventory.get_batch, lot_number)
    if not form.validate_on_submit():
        return _render_batch(lot_number, **{form_name: form}, status=422)
    try:
        outcome = run_in_transaction(work)
    except InvalidInput as exc:
        for message in show_errors(form, exc.errors):
            flash(message, "error")
        return _render_batch(lot_number, **{form_name: form}, status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.batch", lot_number=lot_number))
    return done(outcome)


@bp.post("/batches/<lot_number>/reject")
@role_required(StaffRole.QUALITY)
def reject(lot_number: str):
    """Reject a quarantined lot, with a reason: it will never be sold."""
    form = RejectForm()

    def done(_):
        flash(f"Lot {lot_number} rejected.", "success")
        return redirect(url_for("staff.batch", lot_number=lot_number))

    return _lot_action(lot_number, form, "reject",
                       lambda: inventory.reject_batch(inventory.get_batch(lot_number), form.reason.data,
                                                      current_staff()),
                       done)


@bp.post("/batches/<lot_number>/recall")
@role_required(StaffRole.QUALITY)
def recall_lot(lot_number: str):
    """Recall a released lot: open orders move to other lots or are flagged; then show who received it."""
    form = RecallForm()

    def done(summary):
        flash(f"Lot {lot_number} recalled. {len(summary.reallocated)} open order(s) re-allocated from other lots, "
              f"{len(summary.flagged)} flagged for attention, {len(summary.customers_to_contact)} customer(s) "
              "received the lot.", "success")
        return redirect(url_for("staff.recall_page", lot_number=lot_number))

    return _lot_action(lot_number, form, "recall_form",
                       lambda: recall.recall_lot(lot_number, form.reason.data, current_staff()), done)


@bp.get("/batches/<lot_number>/recall")
@role_required(StaffRole.QUALITY, StaffRole.FULFILMENT)
def recall_page(lot_number: str):
    """A recalled lot: customers who received it, and what happened to the open orders that drew on it."""
    trace = or_404(reports.lot_trace, lot_number)
    moved = [r for r in trace.rows if r.allocation_status == "released" and r.order_status in ("pending", "confirmed")]
    return render_template("staff/recall.html", trace=trace, moved=moved)
