"""Batches: receive a lot into quarantine, record CoA results, and the signed QC decisions: release, reject,
recall (with a preview of what it will do)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from shop.accounts.models import StaffRole, StaffUser
from shop.catalog import products as catalog
from shop.complaints import service as complaints
from shop.inventory import lots as inventory
from shop.inventory.models import BatchStatus
from shop.lab.models import CoaResultRevision
from shop.ordering import shortages
from shop.platform.errors import DomainError, InvalidInput, ReleaseRefused
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from shop.quality import recall, signatures
from shop.quality import release as lot_release
from shop.quality import trace as tracing
from shop.quality.models import SignedAction
from shop.reporting import reports
from shop.staff import bp
from shop.staff.auth import ANY_STAFF, can, current_staff, role_required
from shop.staff.forms import (
    ChooseProductForm,
    FilterForm,
    OnRequestForm,
    RecallForm,
    RejectForm,
    ReleaseForm,
    receive_form,
    results_form,
)
from shop.staff.helpers import or_404, page_link_args, show_errors, validate_with


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
    fields = {f"units.{v.sku}": f"units_{v.id}" for v in product.variants}
    units_errors: list[str] = []
    if request.method == "POST":
        units = {v.sku: form[f"units_{v.id}"].data or 0 for v in product.variants}
        errors = dict(inventory.receipt_errors(product.slug, form.lot_number.data, form.manufactured_on.data,
                                               form.expires_on.data, units, form.date_kind.data))
        units_errors = errors.pop("units", [])  # shown beside the pack sizes' fieldset
        valid, leftover = validate_with(form, errors, fields)
        for message in leftover:
            flash(message, "error")
        if valid and not units_errors:
            try:
                batch = run_in_transaction(inventory.receive_batch, product.slug, form.lot_number.data,
                                           form.manufactured_on.data, form.expires_on.data, units, current_staff(),
                                           date_kind=form.date_kind.data)
            except InvalidInput as exc:  # a lot of that number booked meanwhile
                for message in show_errors(form, exc.errors, fields):
                    flash(message, "error")
            else:
                flash(f"Lot {batch.lot_number} received into quarantine.", "success")
                warning = inventory.shelf_life_warning(batch)
                if warning:
                    flash(warning, "warning")
                return redirect(url_for("staff.batch", lot_number=batch.lot_number))
    return render_template("staff/receive.html", choose=choose, product=product, form=form,
                           units_errors=units_errors), 422 if request.method == "POST" else 200


def _render_batch(lot_number: str, *, results=None, preview=None, release=None, reject=None, refused=None,
                  status=200):
    batch = or_404(inventory.get_batch, lot_number)
    tests = batch.product.spec_tests
    by_test = {r.spec_test_id: r for r in batch.results}
    if results is None:
        results = results_form(tests, formdata=None,
                               data={f"result_{t.id}": by_test[t.id].value for t in tests if t.id in by_test})
    staff = current_staff()
    lot = batch.lot_number
    # Everyone who recorded a current result, and every earlier value: one statement each.
    people = {s.id: s for s in db.session.scalars(select(StaffUser).where(
        StaffUser.id.in_({r.recorded_by_id for r in batch.results if r.recorded_by_id})))}
    earlier = list(db.session.scalars(select(CoaResultRevision).where(CoaResultRevision.batch_id == batch.id)
                                      .order_by(CoaResultRevision.spec_test_id, CoaResultRevision.id)))
    short = shortages.short_orders({s.variant_id for s in batch.stocks}, limit=20, lot_batch_id=batch.id) \
        if batch.status == BatchStatus.RELEASED and can(StaffRole.FULFILMENT, StaffRole.QUALITY) else None
    return render_template(
        "staff/batch.html", batch=batch, tests=tests, by_test=by_test, results=results, preview=preview or {},
        people=people, earlier={t.id: [r for r in earlier if r.spec_test_id == t.id][:-1] for t in tests},
        release=(release or ReleaseForm(formdata=None)).state(signatures.meaning(SignedAction.RELEASE, lot)),
        reject=(reject or RejectForm(formdata=None)).state(signatures.meaning(SignedAction.REJECT, lot)),
        on_request=OnRequestForm(formdata=None), refused=refused, short=short,
        pending_failures={f.test for f in lot_release.release_failures(batch)},
        own_results=sorted(r.spec_test.name for r in batch.results if staff and r.recorded_by_id == staff.id),
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
    """Check or save CoA results; blank fields are left as they were. "Check" judges without saving."""
    batch = or_404(inventory.get_batch, lot_number)
    tests = batch.product.spec_tests
    form = results_form(tests)
    if not form.validate_on_submit():
        return _render_batch(lot_number, results=form, status=422)
    # Not stripped: a value with spaces around it is refused by the result rules, never trimmed silently.
    values = {t.name: form[f"result_{t.id}"].data for t in tests if (form[f"result_{t.id}"].data or "").strip()}
    fields = {f"results.{t.name}": f"result_{t.id}" for t in tests}
    if form.check.data:
        checks, errors = lot_release.check_results(batch, values)
        show_errors(form, errors, fields)
        return _render_batch(lot_number, results=form, preview=checks, status=422 if errors else 200)

    def work():
        return lot_release.record_results(inventory.get_batch(lot_number), values, current_staff())

    try:
        saved = run_in_transaction(work)
    except InvalidInput as exc:
        for message in show_errors(form, exc.errors, fields):
            flash(message, "error")
        return _render_batch(lot_number, results=form, status=422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.batch", lot_number=lot_number))
    flash(f"{len(saved)} result{'s' if len(saved) != 1 else ''} saved for lot {batch.lot_number}.", "success")
    return redirect(url_for("staff.batch", lot_number=batch.lot_number))


def signed(form, action: SignedAction, lot_number: str) -> signatures.Signature | None:
    """The signed-in user's signature from a signing form, or None with the reasons beside its fields; a wrong
    password is counted (in a transaction of its own) towards the lock-out."""
    staff = current_staff()
    try:
        return signatures.sign(staff, form.password.data or "", action, lot_number, confirmed=bool(form.confirm.data))
    except signatures.SignatureRefused as exc:
        if exc.wrong_password:
            run_in_transaction(signatures.record_refusal, staff.id, action, lot_number)
        show_errors(form, exc.errors)
        return None


def _signed_action(lot_number: str, form, form_name: str, action: SignedAction, work, done, *, page=None):
    """Run one signed QC action posted from a form: the form's errors and a refused signature go back beside
    its fields (422); a refusal such as a wrong status is a message on the lot page; otherwise `done(outcome)`.
    `work(signature)` runs in one transaction; `page(form, status)` shows the form again (the lot page)."""
    batch = or_404(inventory.get_batch, lot_number)
    page = page or (lambda f, status: _render_batch(lot_number, **{form_name: f}, status=status))
    if not form.validate_on_submit():
        return page(form, 422)
    signature = signed(form, action, batch.lot_number)
    if signature is None:
        return page(form, 422)
    try:
        outcome = run_in_transaction(work, signature)
    except ReleaseRefused as exc:
        return _render_batch(lot_number, refused=exc.failures, status=409)
    except InvalidInput as exc:
        for message in show_errors(form, exc.errors):
            flash(message, "error")
        return page(form, 422)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("staff.batch", lot_number=batch.lot_number))
    return done(outcome)


@bp.post("/batches/<lot_number>/release")
@role_required(StaffRole.QUALITY, admin_may=False)
def release(lot_number: str):
    """Release a quarantined lot for sale, signed; refused with every missing or out-of-spec result named, and
    when the signer recorded results of it (two-person rule)."""
    def done(batch):
        flash(f"Lot {batch.lot_number} released: its units can now be sold. {batch.signatures[-1].meaning}",
              "success")
        return redirect(url_for("staff.batch", lot_number=batch.lot_number, _anchor="short-orders"))

    return _signed_action(lot_number, ReleaseForm(), "release", SignedAction.RELEASE,
                          lambda s: lot_release.release_batch(inventory.get_batch(lot_number), s), done)


@bp.post("/batches/<lot_number>/reject")
@role_required(StaffRole.QUALITY, admin_may=False)
def reject(lot_number: str):
    """Reject a quarantined lot, signed, with a reason: it will never be sold."""
    form = RejectForm()

    def done(batch):
        flash(f"Lot {batch.lot_number} rejected.", "success")
        return redirect(url_for("staff.batch", lot_number=batch.lot_number))

    return _signed_action(lot_number, form, "reject", SignedAction.REJECT,
                          lambda s: lot_release.reject_batch(inventory.get_batch(lot_number), form.reason.data, s),
                          done)


def _render_recall_form(lot_number: str, form: RecallForm, status: int = 200):
    preview = or_404(recall.preview_recall, lot_number)
    return render_template("staff/recall_confirm.html", preview=preview,
                           form=form.state(signatures.meaning(SignedAction.RECALL, preview.lot_number))), status


@bp.get("/batches/<lot_number>/recall/new")
@role_required(StaffRole.QUALITY, admin_may=False)
def recall_form(lot_number: str):
    """What a recall of the lot would do (units back to stock, orders affected, customers who received it), and
    the form to sign it."""
    complaint = request.args.get("complaint", "")
    batch = or_404(inventory.get_batch, lot_number)
    if batch.status != BatchStatus.RELEASED:  # said now, not after the form was signed
        if batch.status == BatchStatus.RECALLED:
            flash(f"Lot {batch.lot_number} is recalled already: here is what its recall did.", "info")
            return redirect(url_for("staff.recall_page", lot_number=batch.lot_number))
        flash(lot_release.status_refusal(batch.lot_number, batch.status, BatchStatus.RELEASED, "recalled"), "error")
        return redirect(url_for("staff.batch", lot_number=batch.lot_number))
    return _render_recall_form(lot_number, RecallForm(formdata=None, data={"complaint": complaint[:20]}))


@bp.post("/batches/<lot_number>/recall")
@role_required(StaffRole.QUALITY, admin_may=False)
def recall_lot(lot_number: str):
    """Recall a released lot, signed: open orders move to other lots, or wait for the next release for what none
    has (backordered), every order that drew on it gets the public note as a recall notice; then show who received
    it."""
    form = RecallForm()

    def done(summary):
        flash(f"Lot {summary.lot_number} recalled. {len(summary.reallocated)} open order(s) re-allocated from other "
              f"lots, {len(summary.backordered)} backordered for what no other lot has, "
              f"{len(summary.flagged)} flagged for attention, {summary.notified} order(s) given the recall "
              f"notice, {len(summary.customers_to_contact)} customer(s) received the lot.", "success")
        return redirect(url_for("staff.recall_page", lot_number=summary.lot_number))

    def work(signature):
        summary = recall.recall_lot(lot_number, form.reason.data, signature, form.public_note.data)
        if form.complaint.data:  # opened from a complaint: it records the recall, in the same transaction
            complaints.recall_opened(form.complaint.data, summary.lot_number, signature.signed_at)
        return summary

    return _signed_action(lot_number, form, "recall", SignedAction.RECALL, work, done,
                          page=lambda f, status: _render_recall_form(lot_number, f, status))


@bp.get("/batches/<lot_number>/recall")
@role_required(StaffRole.QUALITY, StaffRole.FULFILMENT)
def recall_page(lot_number: str):
    """A recalled lot: customers who received it, and what happened to the open orders that drew on it."""
    trace = or_404(tracing.lot_trace, lot_number)
    moved = [r for r in trace.rows if r.allocation_status == "returned_recalled"
             and r.order_status in shortages.OPEN_STATUSES]
    return render_template("staff/recall.html", trace=trace, moved=moved)


@bp.post("/batches/<lot_number>/on-request")
@role_required(StaffRole.QUALITY, StaffRole.WAREHOUSE)
def set_on_request(lot_number: str):
    """Sell a lot only on request (fulfilment allocates it by hand; never first-expired-first-out), or normally."""
    form = OnRequestForm()
    if not form.validate_on_submit() or form.on_request.data not in ("0", "1"):
        abort(400, description="Say whether the lot is sold only on request (1) or normally (0).")
    batch = or_404(run_in_transaction, inventory.set_on_request, lot_number, form.on_request.data == "1",
                   current_staff())
    flash(f"Lot {batch.lot_number} is now sold only on request: fulfilment allocates it to an order by hand."
          if batch.on_request else f"Lot {batch.lot_number} is sold first-expired-first-out again.", "success")
    return redirect(url_for("staff.batch", lot_number=batch.lot_number))
