"""Finance pages: invoices and credit notes (filter by company, status, overdue), one invoice with its PDF, its
payments and credit notes, recording a payment, issuing a credit note, the ageing summary and a company's
statement; the prepaid orders awaiting payment (recorded on the order's page). Finance staff and admins only."""
from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from shop import ordering
from shop.accounts.models import Company, StaffRole
from shop.fulfilment import billing, prepaid
from shop.invoicing import ageing, documents, payments, statement, views
from shop.invoicing.models import Invoice
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.pagination import page_cursor, page_of
from shop.platform.tx import run_in_transaction
from shop.platform.wording import money
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import AgeingForm, CreditNoteForm, InvoiceFilterForm, PaymentForm, StatementForm
from shop.staff.helpers import filtered_page, or_404, page_link_args, show_errors

PAGE = 30


@bp.get("/invoices")
@role_required(StaffRole.FINANCE)
def invoices():
    """Invoices and credit notes newest first, filtered by company, status and overdue; keyset pages."""
    form = InvoiceFilterForm(request.args)
    form.company.choices += [(str(company_id), name) for company_id, name in views.invoiced_companies()]
    page, status = filtered_page(form, lambda: _invoice_page(form))
    return render_template("staff/invoices.html", form=form, page=page, args=page_link_args(), views=views,
                           today=views.today()), status


def _invoice_page(form: InvoiceFilterForm):
    cursor = request.args.get("cursor")
    rows = views.list_documents(company_id=int(form.company.data) if form.company.data else None,
                                status=form.status.data or None,
                                overdue_on=views.today() if form.overdue.data else None, limit=PAGE + 1,
                                after=page_cursor("invoices", cursor) if cursor else None)
    return page_of("invoices", rows, PAGE, views.page_key)


def render_invoice(number: str, *, payment: PaymentForm | None = None, credit: CreditNoteForm | None = None,
                   line_errors: dict[str, list[str]] | None = None, status: int = 200):
    """The invoice page, with the payment and credit-note forms as given (their errors beside their fields)."""
    found = or_404(views.document_page, number)
    return render_template("staff/invoice.html", found=found, document=found.document, views=views,
                           payment=payment or PaymentForm(formdata=None, paid_on=views.today()),
                           credit=credit or CreditNoteForm(formdata=None), line_errors=line_errors or {},
                           typed=request.form if credit is not None else {}), status


@bp.get("/invoices/<number>")
@role_required(StaffRole.FINANCE)
def invoice(number: str):
    """One invoice or credit note: its lines and totals, what is paid and due, its payments and credit notes."""
    return render_invoice(number)


@bp.get("/invoices/<number>.pdf")
@role_required(StaffRole.FINANCE)
def invoice_pdf(number: str):
    """The document's Factur-X PDF, as the buyer got it."""
    document = or_404(views.get_document, number)
    return send_file(BytesIO(documents.pdf_of(document)), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.number}.pdf")


@bp.get("/ageing")
@role_required(StaffRole.FINANCE)
def ageing_summary():
    """What each company owes on a day (today by default), by how long overdue, with totals."""
    form, today = AgeingForm(request.args), views.today()
    summary = ageing.ageing_summary(form.on.data or today) if form.validate() else None
    return render_template("staff/ageing.html", form=form, summary=summary, buckets=ageing.BUCKETS, today=today), \
        200 if summary else 400


@bp.get("/companies/<id:company_id>/statement")
@role_required(StaffRole.FINANCE)
def company_statement(company_id: int):
    """A company's statement for a period (by default from the first of the month a year ago to today): the balance
    brought forward, then its invoices, credit notes and payments in date order, with the running balance."""
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404, description=f"No company {company_id}.")
    form = StatementForm(request.args)
    if not form.validate():
        return render_template("staff/statement.html", company=company, form=form, statement=None), 400
    today = views.today()
    end = form.date_to.data or max(today, form.date_from.data or today)
    start = form.date_from.data or date(end.year - 1, end.month, 1)
    form.date_from.data, form.date_to.data = start, end
    return render_template("staff/statement.html", company=company, form=form,
                           statement=statement.company_statement(company_id, start, end))


@bp.post("/invoices/<number>/payments")
@role_required(StaffRole.FINANCE)
def record_payment(number: str):
    """Record money received against the invoice; an amount that is not plain ("1,500"), negative or more than is
    due is shown beside its field, and nothing is recorded."""
    form = PaymentForm()
    if not form.validate_on_submit():
        return render_invoice(number, payment=form, status=422)
    given = payments.PaymentInput(form.amount.data, form.paid_on.data, form.reference.data or "")
    staff = current_staff()
    try:
        payment = run_in_transaction(billing.record_invoice_payment, number, given, staff)
    except InvalidInput as refused:
        db.session.rollback()
        for message in show_errors(form, refused.errors):
            flash(message, "error")
        return render_invoice(number, payment=form, status=422)
    except NotFound as missing:
        abort(404, description=missing.message)
    invoice = db.session.get(Invoice, payment.invoice_id)  # in the session already: no statement
    flash(f"Payment of {money(payment.amount, invoice.currency)} recorded against {invoice.number}.", "success")
    return redirect(url_for("staff.invoice", number=number))


@bp.post("/invoices/<number>/credit-notes")
@role_required(StaffRole.FINANCE)
def issue_credit_note(number: str):
    """Issue a credit note of the whole invoice, or of the units typed per line; more than is left to credit is
    refused beside the line, and nothing is issued. What the note gives back of what was paid is the order's to
    refund: the message says so."""
    form = CreditNoteForm()
    if not form.validate_on_submit():
        return render_invoice(number, credit=form, status=422)
    lines = None if form.whole.data else _typed_quantities()
    try:
        note = run_in_transaction(billing.issue_credit_note, number, lines, current_staff())
    except InvalidInput as refused:
        db.session.rollback()
        return render_invoice(number, credit=form, line_errors=refused.errors, status=422)
    except NotFound as missing:
        abort(404, description=missing.message)
    back = billing.refundable(ordering.get_order(note.order_number))
    flash(f"Credit note {note.number} of {money(note.gross, note.currency)} issued."
          + (f" Order {note.order_number} now holds {money(back, note.currency)} paid that no invoice has taken: its "
             "next invoice takes it, or it is refunded on the order's page." if back else ""), "success")
    return redirect(url_for("staff.invoice", number=note.number))


def _typed_quantities() -> dict[int, object]:
    """{line position: units} from the `quantity_<position>` fields that are filled in: whole numbers as ints,
    anything else as typed, for the service to refuse beside its line (never guessed at)."""
    typed: dict[int, object] = {}
    for name, value in request.form.items():
        position = name.removeprefix("quantity_")
        if name.startswith("quantity_") and position.isdigit() and value.strip():
            text = value.strip()
            typed[int(position)] = int(text) if text.isdigit() and text.isascii() else text
    return typed


@bp.get("/payments/orders")
@role_required(StaffRole.FINANCE)
def orders_awaiting_payment():
    """Prepaid orders still open and not paid in full, oldest first: each waits for finance before it ships."""
    return render_template("staff/awaiting_payment.html", orders=prepaid.awaiting_payment())
