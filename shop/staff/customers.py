"""Customers, for admins: find one, see its API keys, revoke a key, deactivate or reactivate the account (revoking
and deactivating first show what will happen, and act only once confirmed)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from shop.accounts import people as accounts
from shop.accounts.models import StaffRole
from shop.platform.bounds import is_row_id
from shop.platform.confirmation import confirmed, to_confirm
from shop.platform.errors import NotFound
from shop.platform.tx import run_in_transaction
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import ActionForm, CustomerFilterForm


@bp.get("/customers")
@role_required(StaffRole.ADMIN)
def customers():
    """Customers newest first with their API keys; `?q=` filters by email or company, `?after=` pages on."""
    form = CustomerFilterForm(request.args)
    after = request.args.get("after", "")
    after_id = int(after) if after.isdigit() and len(after) <= 10 else None
    if (after and not is_row_id(after_id)) or not form.validate():
        abort(400, description="That filter or page link is not valid; start again from the customers page.")
    rows, next_after = accounts.customer_page(form.q.data or "", after_id)
    return render_template("staff/customers.html", form=form, customers=rows, next_after=next_after,
                           action=ActionForm(formdata=None))


def _act(work, done: str):
    """Run one account action posted from the customers page and go back to it."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    try:
        result = run_in_transaction(work)
    except NotFound as exc:
        abort(404, description=exc.message)
    flash(done.format(result), "success")
    return redirect(url_for("staff.customers"))


@bp.get("/customers/<id:customer_id>/deactivate")
@role_required(StaffRole.ADMIN)
def deactivate_customer_confirm(customer_id: int):
    """Before deactivating a customer: what happens (signed out, its keys refused, its orders kept), to confirm."""
    customer = to_confirm(accounts.customer_to_deactivate, customer_id)
    if not customer.active:
        flash(f"{customer.email} is deactivated already.", "info")
        return redirect(url_for("staff.customers"))
    return render_template("staff/deactivate_customer.html", customer=customer, action=ActionForm(formdata=None))


@bp.post("/customers/<id:customer_id>/deactivate")
@role_required(StaffRole.ADMIN)
def deactivate_customer(customer_id: int):
    """Deactivate a customer, once confirmed: its sessions end, sign-in and its API keys are refused; orders stay
    as they are."""
    if not confirmed():
        return redirect(url_for("staff.deactivate_customer_confirm", customer_id=customer_id), 303)
    return _act(lambda: accounts.set_customer_active(False, customer_id=customer_id, staff=current_staff()),
                "{0.company.name} ({0.email}) is deactivated: signed out everywhere, its API keys refused.")


@bp.post("/customers/<id:customer_id>/activate")
@role_required(StaffRole.ADMIN)
def activate_customer(customer_id: int):
    """Let a deactivated customer sign in and use its (unrevoked) API keys again."""
    return _act(lambda: accounts.set_customer_active(True, customer_id=customer_id, staff=current_staff()),
                "{0.company.name} ({0.email}) is active again.")


@bp.get("/api-keys/<id:key_id>/revoke")
@role_required(StaffRole.ADMIN)
def revoke_api_key_confirm(key_id: int):
    """Before revoking a key: which key (company, role, maker, last use) and what happens, to confirm."""
    key = to_confirm(accounts.key_to_revoke, key_id)
    if key.revoked_at is not None:
        flash(f"API key {key.prefix}… is revoked already.", "info")
        return redirect(url_for("staff.customers"))
    return render_template("staff/revoke_key.html", key=key, action=ActionForm(formdata=None))


@bp.post("/api-keys/<id:key_id>/revoke")
@role_required(StaffRole.ADMIN)
def revoke_api_key(key_id: int):
    """Revoke one API key for good, once confirmed: the next request with it is 401."""
    if not confirmed():
        return redirect(url_for("staff.revoke_api_key_confirm", key_id=key_id), 303)
    return _act(lambda: accounts.revoke_api_key(key_id=key_id, staff=current_staff()),
                "API key {0.prefix}… is revoked.")
