"""The company's specifications as pages of the account: every member reads them, company approvers and admins
set a grade's limits (a min and/or a max beside each numeric test's own) or remove them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from shop.catalog import products as catalog
from shop.catalog.models import Product, SpecTest
from shop.platform.confirmation import confirmed
from shop.platform.errors import Forbidden, InvalidInput, NotFound
from shop.platform.tx import run_in_transaction
from shop.specifications import service
from shop.storefront import bp
from shop.storefront.common import current_customer, customer_required
from shop.storefront.forms import ActionForm


def _numeric(product: Product) -> list[SpecTest]:
    return [t for t in product.spec_tests if t.min_value is not None or t.max_value is not None]


def _limits_form(product: Product, spec: service.Specification | None, formdata: bool) -> FlaskForm:
    """A form with an optional min and max per numeric test of the grade (`min_<test id>`, `max_<test id>`),
    filled in with the stored limits unless it is the one sent."""

    class LimitsForm(FlaskForm):
        pass

    stored = {limit.test: limit for limit in spec.limits} if spec else {}
    data = {}
    for test in _numeric(product):
        unit = f" ({test.unit})" if test.unit else ""
        setattr(LimitsForm, f"min_{test.id}", StringField(f"{test.name}: your minimum{unit}",
                                                          validators=[Length(max=20)]))
        setattr(LimitsForm, f"max_{test.id}", StringField(f"{test.name}: your maximum{unit}",
                                                          validators=[Length(max=20)]))
        limit = stored.get(test.name)
        data[f"min_{test.id}"] = _plain(limit.min) if limit and limit.min is not None else ""
        data[f"max_{test.id}"] = _plain(limit.max) if limit and limit.max is not None else ""
    return LimitsForm() if formdata else LimitsForm(formdata=None, data=data)


def _plain(value) -> str:
    return format(value.normalize(), "f")


def _grade(slug: str) -> Product:
    try:
        return catalog.get_product(slug)
    except NotFound:
        abort(404, description=f"We have no product '{slug}'.")


def _stored(slug: str) -> service.Specification | None:
    try:
        return service.get_specification(current_customer().company_id, slug)
    except NotFound:
        return None


@bp.get("/account/specifications")
@customer_required()
def specifications():
    """Every grade, with the company's limits where it has set some."""
    customer = current_customer()
    mine = {spec.product: spec for spec in service.company_specifications(customer.company_id)}
    return render_template("storefront/specifications.html", products=catalog.list_products(), mine=mine,
                           may_edit=service.may_edit(customer.role))


def _page(product: Product, spec: service.Specification | None, form: FlaskForm, status: int = 200,
          leftover: list[str] | None = None):
    return render_template("storefront/specification.html", product=product, spec=spec, form=form,
                           tests=_numeric(product), leftover=leftover or [], action=ActionForm(),
                           may_edit=service.may_edit(current_customer().role)), status


@bp.get("/account/specifications/<slug>")
@customer_required()
def specification(slug: str):
    """A grade's tests with the company's limits beside the grade's: a form for approvers and admins."""
    product = _grade(slug)
    spec = _stored(slug)
    return _page(product, spec, _limits_form(product, spec, formdata=False))


@bp.post("/account/specifications/<slug>")
@customer_required()
def specification_save(slug: str):
    """Replace the company's limits of the grade with the ones filled in; errors beside their fields."""
    customer = current_customer()
    if not service.may_edit(customer.role):
        abort(403, description="Only a company approver or admin may set a specification; you may read it.")
    product = _grade(slug)
    form = _limits_form(product, None, formdata=True)
    if not form.validate_on_submit():
        return _page(product, _stored(slug), form, 422)
    limits, fields_of = [], []
    for test in _numeric(product):
        low, high = ((form[f"{end}_{test.id}"].data or "").strip() for end in ("min", "max"))
        if low or high:
            limits.append({"test": test.name, **({"min": low} if low else {}), **({"max": high} if high else {})})
            fields_of.append((test, bool(low)))
    try:
        run_in_transaction(service.put_specification, customer.company_id, slug, limits, customer.actor_name)
    except Forbidden as exc:
        abort(403, description=exc.message)
    except InvalidInput as exc:
        return _page(product, _stored(slug), form, 422, _place_errors(form, exc.errors, fields_of))
    flash(f"Your specification of {product.name} is saved: availability, your orders and certificates follow it "
          "from now on.", "success")
    return redirect(url_for("storefront.specification", slug=slug), 303)


def _place_errors(form: FlaskForm, errors: dict[str, list[str]], fields_of: list[tuple[SpecTest, bool]]) -> list[str]:
    """Put each error by field path (`limits.N.min`) beside the input it is about; return those of no input."""
    leftover = []
    for path, messages in errors.items():
        parts = path.split(".")
        if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) >= len(fields_of):
            leftover.extend(["Fill in at least one minimum or maximum; to remove the specification, use "
                             "Remove specification."] if path == "limits" else messages)
            continue
        test, has_min = fields_of[int(parts[1])]
        end = parts[2] if len(parts) > 2 and parts[2] in ("min", "max") else ("min" if has_min else "max")
        field = form[f"{end}_{test.id}"]
        field.errors = list(field.errors) + list(messages)
    return leftover


@bp.get("/account/specifications/<slug>/remove")
@customer_required()
def specification_remove_confirm(slug: str):
    """Before removing the company's specification of a grade: what happens, to confirm."""
    if not service.may_edit(current_customer().role):
        abort(403, description="Only a company approver or admin may remove a specification.")
    product = _grade(slug)
    spec = _stored(slug)
    if spec is None:
        abort(404, description=f"Your company has no specification of {product.name}.")
    return render_template("storefront/remove_specification.html", product=product, spec=spec,
                           action=ActionForm())


@bp.post("/account/specifications/<slug>/remove")
@customer_required()
def specification_remove(slug: str):
    """Remove the company's specification of a grade, once confirmed on the page that says what happens."""
    customer = current_customer()
    if not service.may_edit(customer.role):
        abort(403, description="Only a company approver or admin may remove a specification.")
    if not confirmed():
        return redirect(url_for("storefront.specification_remove_confirm", slug=slug), 303)
    product = _grade(slug)
    if ActionForm().validate_on_submit():
        run_in_transaction(service.delete_specification, customer.company_id, slug)
        flash(f"Your specification of {product.name} is removed: the grade's own limits apply.", "success")
    return redirect(url_for("storefront.specifications"), 303)
