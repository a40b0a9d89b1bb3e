"""Companies, for admins: find one, set its payment terms, credit limit and approval threshold, and keep its
contract price lists (created and replaced from CSV, deleted, once confirmed, while no order was priced from
them)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from shop.accounts import companies
from shop.accounts.models import StaffRole
from shop.catalog import price_lists
from shop.ordering import exposure
from shop.platform.confirmation import confirmed, to_confirm
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.tx import run_in_transaction
from shop.specifications import service as specifications
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import ActionForm, CompanyFilterForm, CompanyTermsForm, PriceListForm, ReplacePriceListForm
from shop.staff.helpers import show_errors


@bp.get("/companies")
@role_required(StaffRole.ADMIN)
def companies_list():
    """Companies by name with their terms; `?q=` finds names that start with it, `?after=` pages on."""
    form = CompanyFilterForm(request.args)
    if not form.validate():
        abort(400, description="That filter is not valid; start again from the companies page.")
    after = _after(request.args.get("after_name"), request.args.get("after_id", ""))
    rows, next_after = companies.company_page(form.q.data or "", after)
    return render_template("staff/companies.html", form=form, companies=rows, next_after=next_after)


def _after(name: str | None, raw_id: str) -> tuple[str, int] | None:
    if name is None:
        return None
    if not raw_id.isdigit() or len(raw_id) > 10 or len(name) > 200:
        abort(400, description="That page link is not valid; start again from the companies page.")
    return name, int(raw_id)


def _company_or_404(company_id: int):
    try:
        return companies.get_company(company_id)
    except NotFound as exc:
        abort(404, description=exc.message)


def _render(company, terms=None, new_list=None, status: int = 200):
    terms = terms or CompanyTermsForm(formdata=None, obj=company)
    return render_template("staff/company.html", company=company, terms=terms,
                           new_list=new_list or PriceListForm(formdata=None),
                           members=companies.members(company.id), lists=price_lists.lists_of(company.id),
                           replace_form=ReplacePriceListForm(formdata=None),
                           specifications=specifications.company_specifications(company.id),
                           credit=exposure.company_view(company.id)), status


@bp.route("/companies/<id:company_id>", methods=["GET", "POST"])
@role_required(StaffRole.ADMIN)
def company(company_id: int):
    """One company: its members, terms (editable) and contract price lists."""
    company = _company_or_404(company_id)
    form = CompanyTermsForm()
    if form.validate_on_submit():
        try:
            run_in_transaction(companies.set_terms, company, form.payment_terms.data, form.credit_limit.data,
                               form.approval_threshold.data, staff=current_staff())
        except InvalidInput as exc:
            form.form_errors.extend(show_errors(form, exc.errors))
        else:
            flash("Terms saved.", "success")
            return redirect(url_for("staff.company", company_id=company_id))
    return _render(company, terms=form if form.is_submitted() else None,
                   status=422 if form.is_submitted() else 200)


def _csv_text(form) -> str | None:
    try:
        return form.csv_file.data.read(2_000_000).decode("utf-8")
    except UnicodeDecodeError:
        form.csv_file.errors = ["The file is not UTF-8 text: save it as CSV (UTF-8)."]
        return None


@bp.post("/companies/<id:company_id>/price-lists")
@role_required(StaffRole.ADMIN)
def create_price_list(company_id: int):
    """A new contract price list from a CSV file; refused whole when any row is wrong."""
    company = _company_or_404(company_id)
    form = PriceListForm()
    text = _csv_text(form) if form.validate_on_submit() else None
    if text is not None:
        try:
            run_in_transaction(price_lists.create_price_list, company, form.name.data, text, form.valid_from.data,
                               form.valid_to.data, staff=current_staff())
        except InvalidInput as exc:
            form.form_errors.extend(show_errors(form, exc.errors))
        else:
            flash(f"Price list '{form.name.data}' created.", "success")
            return redirect(url_for("staff.company", company_id=company_id))
    return _render(company, new_list=form, status=422)


@bp.post("/companies/<id:company_id>/price-lists/<id:list_id>/replace")
@role_required(StaffRole.ADMIN)
def replace_price_list(company_id: int, list_id: int):
    """Replace a list's prices and dates from a CSV file; the list stays as it was when anything is refused."""
    company = _company_or_404(company_id)
    form = ReplacePriceListForm()
    text = _csv_text(form) if form.validate_on_submit() else None
    if text is not None:
        try:
            run_in_transaction(lambda: price_lists.replace_items(
                price_lists.get_price_list(company_id, list_id), text, form.valid_from.data, form.valid_to.data,
                staff=current_staff()))
        except NotFound as exc:
            abort(404, description=exc.message)
        except InvalidInput as exc:
            messages = [m for msgs in exc.errors.values() for m in msgs]
            flash("The list was not changed: " + " ".join(messages), "error")
        else:
            flash("The prices are replaced.", "success")
    else:
        flash("The list was not changed: " + " ".join(m for msgs in form.errors.values() for m in msgs), "error")
    return redirect(url_for("staff.company", company_id=company.id))


@bp.get("/companies/<id:company_id>/price-lists/<id:list_id>/delete")
@role_required(StaffRole.ADMIN)
def delete_price_list_confirm(company_id: int, list_id: int):
    """Before deleting a list: its prices and dates, and what the company pays without it, to confirm."""
    price_list = to_confirm(price_lists.get_price_list, company_id, list_id)
    return render_template("staff/delete_price_list.html", price_list=price_list, action=ActionForm(formdata=None))


@bp.post("/companies/<id:company_id>/price-lists/<id:list_id>/delete")
@role_required(StaffRole.ADMIN)
def delete_price_list(company_id: int, list_id: int):
    """Delete a list that no order was priced from, once confirmed."""
    if not confirmed():
        return redirect(url_for("staff.delete_price_list_confirm", company_id=company_id, list_id=list_id), 303)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    try:
        run_in_transaction(lambda: price_lists.delete_price_list(price_lists.get_price_list(company_id, list_id),
                                                                 staff=current_staff()))
    except NotFound as exc:
        abort(404, description=exc.message)
    except InvalidInput as exc:
        flash(" ".join(m for msgs in exc.errors.values() for m in msgs), "error")
    else:
        flash("The price list is deleted.", "success")
    return redirect(url_for("staff.company", company_id=company_id))
