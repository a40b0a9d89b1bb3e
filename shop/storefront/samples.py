"""Samples as pages: "Request a sample" from a product page (grams, a note, where to send it), the company's sample
requests, and one page per request with where it stands: the lot it shipped from (and its CoA) and the tracking
reference, or why it was declined."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from shop.catalog import products as catalog
from shop.catalog.models import Product
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.form_fields import WholeNumberField
from shop.platform.pagination import page_cursor
from shop.platform.tx import run_in_transaction
from shop.sales import samples
from shop.storefront import bp
from shop.storefront.cart import starting_address
from shop.storefront.common import apply_errors, current_customer, customer_required
from shop.storefront.forms import ShippingAddressForm

PAGE_SIZE = 20


class SampleForm(ShippingAddressForm):
    quantity_g = WholeNumberField("Grams", default=100, validators=[
        InputRequired(samples.GRAMS_MESSAGE), NumberRange(1, samples.MAX_GRAMS, samples.GRAMS_MESSAGE)])
    note = TextAreaField("Note for our sales team (optional)", validators=[Length(max=samples.MAX_NOTE)],
                         render_kw={"rows": 3, "maxlength": samples.MAX_NOTE})


def _product(slug: str) -> Product:
    try:
        return catalog.get_product(slug)
    except NotFound:
        abort(404, description=f"We have no product '{slug}'. It may have been withdrawn from sale.")


def _page(product: Product, form: SampleForm, status: int = 200, leftover: list[str] | None = None):
    return render_template("storefront/sample_new.html", product=product, form=form, max_grams=samples.MAX_GRAMS,
                           leftover=leftover or []), status


@bp.get("/products/<slug>/sample")
@customer_required()
def sample_new(slug: str):
    """The form to ask for a sample of a grade, to the address checkout would start from."""
    product = _product(slug)
    customer = current_customer()
    address = starting_address(customer)
    return _page(product, SampleForm(formdata=None, data={**address, "name": address.get("name") or
                                                          customer.company.name}))


@bp.post("/products/<slug>/sample")
@customer_required()
def sample_request(slug: str):
    """Ask for the sample; every refusal beside its field, nothing stored."""
    product = _product(slug)
    form = SampleForm()
    if not form.validate_on_submit():
        return _page(product, form, 422)
    try:
        sample = run_in_transaction(samples.request_sample, current_customer(), product.slug, form.quantity_g.data,
                                    form.note.data, form.address())
    except InvalidInput as exc:
        return _page(product, form, 422, apply_errors(form, exc.errors))
    flash(f"Your sample request {sample.number} is with our sales team: we e-mail you when it ships.", "success")
    return redirect(url_for("storefront.sample_detail", number=sample.number), 303)


@bp.get("/account/samples")
@customer_required()
def sample_list():
    """The company's sample requests, newest first, keyset-paginated."""
    cursor = request.args.get("cursor")
    try:
        after = page_cursor("samples", cursor) if cursor else None
    except InvalidInput:
        abort(400, description="That page link is damaged. Start again from Samples.")
    page = samples.list_samples(current_customer().company_id, PAGE_SIZE, after)
    return render_template("storefront/samples.html", page=page, first_page=after is None)


@bp.get("/account/samples/<number>")
@customer_required()
def sample_detail(number: str):
    """One of the company's sample requests: what was asked for and where it stands."""
    try:
        sample = samples.get_sample(number, current_customer().company_id)
    except NotFound:
        abort(404, description=f"Your company has no sample request {number}.")
    return render_template("storefront/sample.html", sample=sample)
