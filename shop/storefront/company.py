"""The company's own pages under /account: details, members and API keys (admins), invitations, password reset."""
from __future__ import annotations

import functools

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_user

from shop.accounts import companies, links, member_mail, resets
from shop.accounts import people as accounts
from shop.accounts.models import Customer, MemberRole
from shop.ordering import approvals as approval_service
from shop.ordering import shortages
from shop.platform import mail
from shop.platform.confirmation import confirmed, to_confirm
from shop.platform.errors import DomainError, InvalidInput, NotFound
from shop.platform.ratelimits import invitation_rate, register_rate, signin_rate
from shop.platform.security_headers import no_store
from shop.platform.tx import run_in_transaction
from shop.storefront import bp
from shop.storefront.common import apply_errors, current_customer, customer_required
from shop.storefront.forms import (
    ActionForm,
    ApiKeyForm,
    CompanyForm,
    DecisionForm,
    InviteForm,
    MemberRoleForm,
    ResetRequestForm,
    SetPasswordForm,
)


def role_required(role: MemberRole):
    """A signed-in member whose role includes `role`; others get 403 (the page says which role it needs)."""
    def decorator(view):
        @functools.wraps(view)
        @customer_required()
        def wrapped(*args, **kwargs):
            if not current_customer().role.may(role):
                abort(403, f"This page is for a company {role.value}; your role is {current_customer().role.value}.")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _act(work, *args) -> str | None:
    """Run a unit of work; a refusal is flashed and returned as its message, success returns None."""
    try:
        run_in_transaction(work, *args)
    except InvalidInput as exc:
        message = " ".join(m for msgs in exc.errors.values() for m in msgs)
    except DomainError as exc:
        message = exc.message
    else:
        return None
    flash(message, "error")
    return message


@bp.route("/account", methods=["GET", "POST"])
@customer_required()
def account():
    """The company: details (an admin edits them), terms, and links to members, keys and approvals."""
    member = current_customer()
    company = member.company
    form = CompanyForm(obj=company)
    if form.is_submitted():
        if not member.role.may(MemberRole.ADMIN):
            abort(403, "Only a company admin may change the company's details.")
        if form.validate():
            try:
                run_in_transaction(companies.update_details, member, form.name.data, form.vat_id.data,
                                   form.billing())
            except InvalidInput as exc:
                form.form_errors.extend(apply_errors(form, exc.errors))
            else:
                flash("The company's details are saved.", "success")
                return redirect(url_for("storefront.account"))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/account.html", form=form, company=company, member=member), status


@bp.route("/account/members", methods=["GET", "POST"])
@invitation_rate
@role_required(MemberRole.ADMIN)
def members():
    """The company's members with their roles; invite a new one by e-mail."""
    admin = current_customer()
    form = InviteForm()
    if form.validate_on_submit():
        try:
            member = run_in_transaction(companies.invite_member, admin, form.email.data, form.role.data,
                                        form.name.data)
        except InvalidInput as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
        else:
            if member is not None:
                _send_invitation(member, admin)
            # The same words whether or not the address has an account (whose holder is told instead): the page
            # must not tell who is a customer.
            flash(f"{form.email.data.strip().lower()} is invited as {form.role.data}: the e-mail holds a link to "
                  f"set a password (valid {_invitation_days()} days).", "success")
            return redirect(url_for("storefront.members"))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/members.html", form=form, members=companies.members(admin.company_id),
                           me=admin, role_form=MemberRoleForm, action=ActionForm()), status


def _invitation_days() -> int:
    return current_app.config["INVITATION_VALID_DAYS"]


def _send_invitation(member: Customer, inviter: Customer) -> None:
    token = links.make_token(member, links.INVITATION)
    run_in_transaction(member_mail.send_invitation, member, inviter, mail.absolute_url("storefront.join", token=token))


@bp.post("/account/members/<id:member_id>/role")
@role_required(MemberRole.ADMIN)
def member_role(member_id: int):
    form = MemberRoleForm()
    if form.validate_on_submit() and not _act(companies.change_role, current_customer(), member_id, form.role.data):
        flash(f"The role is now {form.role.data}.", "success")
    return redirect(url_for("storefront.members"))


@bp.get("/account/members/<id:member_id>/remove")
@role_required(MemberRole.ADMIN)
def remove_member_confirm(member_id: int):
    """Before removing a member: what happens (signed out, their keys refused, their orders kept), to confirm."""
    member = to_confirm(companies.member_to_remove, current_customer(), member_id)
    return render_template("storefront/remove_member.html", member=member, action=ActionForm())


@bp.post("/account/members/<id:member_id>/remove")
@role_required(MemberRole.ADMIN)
def remove_member(member_id: int):
    """Remove a member, once confirmed on the page that says what happens."""
    if not confirmed():
        return redirect(url_for("storefront.remove_member_confirm", member_id=member_id), 303)
    if ActionForm().validate_on_submit() and not _act(companies.remove_member, current_customer(), member_id):
        flash("The member is removed: signed out everywhere, and the API keys they made no longer work.",
              "success")
    return redirect(url_for("storefront.members"))


@bp.post("/account/members/<id:member_id>/invite-again")
@invitation_rate
@role_required(MemberRole.ADMIN)
def invite_again(member_id: int):
    """Send a pending member a fresh invitation link; the earlier one stops working."""
    admin = current_customer()
    if not ActionForm().validate_on_submit():
        abort(400, description="The form was not sent from this site; reload the page and try again.")
    try:
        member = run_in_transaction(companies.invite_again, admin, member_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    _send_invitation(member, admin)
    flash(f"A new invitation went to {member.email}.", "success")
    return redirect(url_for("storefront.members"))


@bp.route("/account/api-keys", methods=["GET", "POST"])
@role_required(MemberRole.ADMIN)
def api_keys():
    """The company's API keys: create one (shown once, on this answer only) or revoke one."""
    admin = current_customer()
    form = ApiKeyForm()
    new_key = None
    if form.validate_on_submit():
        try:
            new_key = run_in_transaction(accounts.create_api_key, admin, form.name.data, form.role.data)
        except InvalidInput as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
        else:
            form = ApiKeyForm(formdata=None)
    status = 422 if form.errors or form.form_errors else (201 if new_key else 200)
    return render_template("storefront/api_keys.html", form=form, new_key=new_key,
                           keys=companies.company_keys(admin.company_id), action=ActionForm()), status


@bp.get("/account/api-keys/<id:key_id>/revoke")
@role_required(MemberRole.ADMIN)
def revoke_api_key_confirm(key_id: int):
    """Before revoking a key: which key (its role, maker, last use) and what happens, to confirm."""
    key = to_confirm(companies.company_key, current_customer(), key_id)
    if key.revoked_at is not None:
        flash(f"{key.actor_name} is revoked already.", "info")
        return redirect(url_for("storefront.api_keys"))
    return render_template("storefront/revoke_key.html", key=key, action=ActionForm())


@bp.post("/account/api-keys/<id:key_id>/revoke")
@role_required(MemberRole.ADMIN)
def revoke_api_key(key_id: int):
    """Revoke a key, once confirmed on the page that says what happens."""
    if not confirmed():
        return redirect(url_for("storefront.revoke_api_key_confirm", key_id=key_id), 303)
    if ActionForm().validate_on_submit() and not _act(companies.revoke_company_key, current_customer(), key_id):
        flash("The key is revoked: requests with it are refused from now on.", "success")
    return redirect(url_for("storefront.api_keys"))


@bp.get("/account/approvals")
@role_required(MemberRole.APPROVER)
def approvals():
    """The company's orders awaiting approval, oldest first, each with what it misses (a recall may have left it
    short), Approve and Reject; on an order the member placed (in person or with a key), why another decides it."""
    member = current_customer()
    orders = approval_service.queue(member.company_id)
    return render_template("storefront/approvals.html", orders=orders, form=DecisionForm(formdata=None),
                           own={o.number: approval_service.OWN_ORDER.format(number=o.number)
                                for o in orders if approval_service.placed_by(o, member)},
                           short={o.number: shortages.missing_now(o) for o in orders},
                           recalled={o.number: shortages.recalled(o) for o in orders})


@bp.post("/account/approvals/<number>/<any(approve, reject):decision>")
@role_required(MemberRole.APPROVER)
def decide(number: str, decision: str):
    """Approve or reject one order; the buyer who placed it is told by e-mail."""
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("The note is at most 500 characters.", "error")
        return redirect(url_for("storefront.approvals"))
    work = approval_service.approve if decision == "approve" else approval_service.reject
    try:
        order = run_in_transaction(work, number, current_customer(), form.note.data or "")
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Order {order.number} is {'approved' if decision == 'approve' else 'rejected; its stock is released'}.",
              "success")
    return redirect(url_for("storefront.approvals"))


# --- Links that set a password -------------------------------------------------------------------

def _password_link_page(purpose: str, token: str, template: str, done: str):
    """Show and handle a page that sets a password through a signed link; sign the person in afterwards."""
    try:
        user = run_in_transaction(links.user_for_token, token, purpose)
    except links.LinkRefused as exc:
        return render_template("storefront/link_refused.html", message=exc.message), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = run_in_transaction(links.set_password, token, purpose, form.password.data)
        except InvalidInput as exc:
            form.form_errors.extend(apply_errors(form, exc.errors))
        except links.LinkRefused as exc:
            return render_template("storefront/link_refused.html", message=exc.message), 410
        else:
            login_user(user)
            flash(done, "success")
            return redirect(url_for("storefront.index"))
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, user=user), status


@bp.route("/join/<token>", methods=["GET", "POST"])
@no_store
@register_rate
def join(token: str):
    """Accept an invitation: set a password and become a member of the company."""
    return _password_link_page(links.INVITATION, token, "storefront/join.html", "Welcome: you are a member now.")


@bp.route("/password-reset", methods=["GET", "POST"])
@no_store
@signin_rate
def request_password_reset():
    """Ask for a reset link by e-mail; the answer is the same whether or not the address has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        run_in_transaction(resets.request_customer_reset, form.email.data,
                           lambda token: mail.absolute_url("storefront.reset_password", token=token))
        flash("If an account has this address, a link to reset its password is on its way.", "info")
        return redirect(url_for("storefront.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/reset_request.html", form=form), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@no_store
@signin_rate
def reset_password(token: str):
    """Set a new password from a reset link; every other session of the account ends."""
    return _password_link_page(links.RESET, token, "storefront/reset_password.html",
                               "Your password is changed; every other device was signed out.")

