"""Complaints as pages of the account: "Report a problem" on a line of an order (category, the lot when the line
drew several, what is wrong, up to three photos or PDFs), the company's complaints, and one page per complaint
with where it stands and, once closed, the resolution."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from shop import ordering
from shop.complaints import rules, service
from shop.ordering.models import Order
from shop.platform import uploads
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.pagination import page_cursor, page_of
from shop.platform.tx import run_in_transaction
from shop.storefront import bp
from shop.storefront.common import apply_errors, current_customer, customer_required

PAGE_SIZE = 20
KINDS = ("pdf", "png", "jpeg")
CATEGORY_LABELS = {"quality": "Quality: the product itself (appearance, purity, contamination, results)",
                   "delivery": "Delivery: damaged packaging, wrong or missing units, late",
                   "documentation": "Documentation: certificate, labels, paperwork",
                   "other": "Something else"}


class ComplaintForm(FlaskForm):
    category = SelectField("What kind of problem", choices=[SelectChoice("", "Choose…")] + [
        SelectChoice(c, CATEGORY_LABELS[c]) for c in rules.CATEGORIES], validate_choice=False)
    # Checked by the service (one of the line's lots), whose message appears beside it.
    lot_number = SelectField("Which lot", validate_choice=False)
    description = TextAreaField("What is wrong", validators=[Length(max=rules.MAX_DESCRIPTION)],
                                render_kw={"rows": 6, "maxlength": rules.MAX_DESCRIPTION})
    attachments = MultipleFileField(f"Photos or PDFs (up to {rules.MAX_ATTACHMENTS}, optional)",
                                    render_kw={"accept": "application/pdf,image/png,image/jpeg"})


def _line(number: str, sku: str) -> tuple[Order, str, list[str]]:
    """The company's order, the line's SKU as the order spells it, and the lots the line drew; 404 otherwise."""
    try:
        order = ordering.get_order(number, company_id=current_customer().company_id)
    except NotFound:
        abort(404, description=f"You have no order {number}.")
    line = next((ln for ln in order.lines if ln.sku.lower() == sku.lower()), None)
    if line is None:
        abort(404, description=f"Order {order.number} has no line {sku}.")
    return order, line.sku, service.line_lots(order.id).get(line.sku, [])


def _form(lots: list[str], *, formdata: bool = True) -> ComplaintForm:
    form = ComplaintForm() if formdata else ComplaintForm(formdata=None)
    form.lot_number.choices = [SelectChoice("", "All of them")] + [SelectChoice(lot, f"Lot {lot}") for lot in lots]
    return form


def _page(order: Order, sku: str, lots: list[str], form: ComplaintForm, status: int = 200,
          leftover: list[str] | None = None):
    return render_template("storefront/complaint_new.html", order=order, sku=sku, lots=lots, form=form,
                           leftover=leftover or []), status


@bp.get("/orders/<number>/lines/<sku>/complaint")
@customer_required()
def complaint_new(number: str, sku: str):
    """The form to report a problem with a line of an order (and so with the lots it drew)."""
    order, sku, lots = _line(number, sku)
    return _page(order, sku, lots, _form(lots, formdata=False))


@bp.post("/orders/<number>/lines/<sku>/complaint")
@uploads.accepts_upload(files=rules.MAX_ATTACHMENTS)
@customer_required()
def complaint_file(number: str, sku: str):
    """File the complaint; every refusal beside its field (a file that is not a PDF or an image by its content
    beside the files), nothing stored."""
    order, sku, lots = _line(number, sku)
    form = _form(lots)
    valid = form.validate_on_submit()
    files, refused = _checked_files()  # checked whatever the other fields hold: every mistake at once
    if refused:
        form.attachments.errors = list(form.attachments.errors) + refused
    if not valid or refused:
        for name, messages in rules.filing_errors(form.category.data, form.description.data).items():
            if not form[name].errors:  # the service's own checks, so that none waits for the next try
                form[name].errors = [*form[name].errors, *messages]
        return _page(order, sku, lots, form, 422)
    try:
        complaint = run_in_transaction(service.file_complaint, current_customer(), order.number, sku,
                                       form.lot_number.data or None, form.category.data, form.description.data,
                                       files)
    except InvalidInput as exc:
        return _page(order, sku, lots, form, 422, apply_errors(form, exc.errors, {"sku": "lot_number"}))
    flash(f"Your complaint {complaint.number} is filed: our quality unit will investigate it, and we e-mail you as "
          "it goes.", "success")
    return redirect(url_for("storefront.complaint_detail", number=complaint.number), 303)


def _checked_files() -> tuple[list[service.NewAttachment], list[str]]:
    """The files sent (a browser sends an empty part when none was chosen), each checked by its content; and why
    any was refused, naming it."""
    sent = [f for f in request.files.getlist("attachments") if f and f.filename]
    if len(sent) > rules.MAX_ATTACHMENTS:
        return [], [f"Attach at most {rules.MAX_ATTACHMENTS} files (you chose {len(sent)})."]
    files, refused = [], []
    for sent_file in sent:
        try:
            upload = uploads.check_upload(sent_file.read(), kinds=KINDS, field="attachments")
        except InvalidInput as exc:
            refused += [f"{sent_file.filename}: {message}" for message in exc.errors["attachments"]]
            continue
        files.append(service.NewAttachment(sent_file.filename, upload.data, upload.content_type, upload.suffix))
    return files, refused


@bp.get("/account/complaints")
@customer_required()
def complaints():
    """The company's complaints, newest first, keyset-paginated."""
    cursor = request.args.get("cursor")
    try:
        after = page_cursor("complaints", cursor) if cursor else None
    except InvalidInput:
        abort(400, description="That page link is damaged. Start again from Complaints.")
    page = page_of("complaints", service.list_complaints(current_customer().company_id, PAGE_SIZE + 1, after),
                   PAGE_SIZE, lambda r: r.key)
    return render_template("storefront/complaints.html", complaints=[r.complaint for r in page.rows],
                           next_cursor=page.next_cursor, first_page=after is None)


@bp.get("/account/complaints/<number>")
@customer_required()
def complaint_detail(number: str):
    """One of the company's complaints: what was filed, where it stands and, once closed, the resolution."""
    try:
        complaint = service.get_complaint(current_customer().company_id, number)
    except NotFound:
        abort(404, description=f"Your company has no complaint {number}.")
    return render_template("storefront/complaint.html", complaint=complaint)
