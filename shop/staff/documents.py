"""Product documents, for quality: upload a new version of an SDS, specification sheet or certificate, and every
version of every product's documents, the current one marked and certificates near their end flagged."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from shop.accounts.models import StaffRole
from shop.catalog import products as catalog
from shop.catalog.models import Product
from shop.documents import library
from shop.documents.rules import FLAG_DAYS
from shop.platform.errors import InvalidInput
from shop.platform.tx import run_in_transaction
from shop.platform.uploads import accepts_upload, check_upload
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import DocumentForm
from shop.staff.helpers import show_errors


def _render(form: DocumentForm, products: list[Product], status: int = 200):
    form.product.choices = [SelectChoice("", "Choose a product…")] + [
        SelectChoice(p.slug, f"{p.name} ({p.grade})" + ("" if p.active else ", withdrawn")) for p in products]
    return render_template("staff/documents.html", form=form, products=library.library(), today=date.today(),
                           flag_days=FLAG_DAYS), status


@bp.get("/documents")
@role_required(StaffRole.QUALITY)
def documents():
    """Every product's documents, every version, and the form to upload a new one."""
    return _render(DocumentForm(formdata=None), catalog.list_products(active_only=False))


@bp.post("/documents")
@role_required(StaffRole.QUALITY)
@accepts_upload
def upload_document():
    """Store a new version of a product's document: a PDF, read and checked by its content; every refusal beside
    its field, and nothing stored."""
    products = catalog.list_products(active_only=False)
    form = DocumentForm()
    valid = form.validate_on_submit()
    product = next((p for p in products if p.slug == form.product.data), None)
    if form.product.data and product is None:
        form.product.errors = [*form.product.errors, "Choose a product of the catalog."]
    upload = None
    if not form.file.errors:
        try:
            upload = check_upload(form.file.data.read())
        except InvalidInput as exc:
            show_errors(form, exc.errors)
    if valid and product is not None and upload is not None:
        try:
            document = run_in_transaction(
                library.publish, current_staff(), product_id=product.id, kind=form.kind.data,
                title=form.title.data, version=form.version.data, issued_on=form.issued_on.data,
                valid_until=form.valid_until.data, upload=upload)
        except InvalidInput as exc:
            form.form_errors.extend(show_errors(form, exc.errors))
        else:
            flash(f"{document.kind_label} version {document.version} of {document.product_name} is stored.",
                  "success")
            return redirect(url_for("staff.documents", _anchor=f"documents-{document.product_slug}"))
    return _render(form, products, 422)
