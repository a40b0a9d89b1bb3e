"""The company's invoices and credit notes (newest first, with what is due and overdue), each as its Factur-X PDF;
a prepaid order's pro-forma."""
from __future__ import annotations

from io import BytesIO

from flask import abort, render_template, request, send_file

from shop import ordering
from shop.fulfilment import proforma
from shop.invoicing import documents, views
from shop.ordering.views import has_proforma
from shop.platform.errors import NotFound
from shop.platform.pagination import decode_cursor, page_of
from shop.storefront import bp
from shop.storefront.common import current_customer, customer_required

PAGE_SIZE = 20


@bp.get("/invoices")
@customer_required()
def invoice_list():
    """The company's invoices and credit notes, newest first (`?status=` open, paid or credited), what it owes."""
    status = request.args.get("status") or None
    if status not in (None, *views.STATUSES):
        abort(400, description="Choose open, paid or credited invoices.")
    try:
        after = decode_cursor("invoices", request.args["after"]) if request.args.get("after") else None
    except ValueError:
        abort(400, description="That page link is damaged. Start again from Invoices.")
    company_id = current_customer().company_id
    page = page_of("invoices", views.list_documents(company_id=company_id, status=status, limit=PAGE_SIZE + 1,
                                                    after=after), PAGE_SIZE, views.page_key)
    return render_template("storefront/invoices.html", documents=page.rows, next_cursor=page.next_cursor,
                           status=status, first_page=after is None, owed=views.owed(company_id), views=views)


@bp.get("/invoices/<number>.pdf")
@customer_required()
def invoice_pdf(number: str):
    """One of the company's documents as its Factur-X PDF (the XML inside); anyone else's is 404."""
    try:
        document = views.get_document(number, current_customer().company_id)
    except NotFound:
        abort(404, description=f"You have no invoice or credit note {number}.")
    return send_file(BytesIO(documents.pdf_of(document)), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.number}.pdf")


@bp.get("/orders/<number>/proforma.pdf")
@customer_required()
def order_proforma(number: str):
    """A prepaid order's pro-forma invoice; an order on net terms has none, and anyone else's is 404."""
    try:
        order = ordering.get_order(number, current_customer().company_id, with_products=True)
    except NotFound:
        abort(404, description=f"You have no order {number}.")
    if not has_proforma(order):
        abort(404, description=f"Order {order.number} has no pro-forma: it is on {order.payment_terms} terms, awaits "
                               "approval or was cancelled.")
    return send_file(BytesIO(proforma.proforma_pdf_of(order)), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{order.number}-proforma.pdf")
