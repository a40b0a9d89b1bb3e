"""Staff accounts, for admins: the list of staff with the roles each holds (set here, a check box per role), and
a password reset link sent to one of them by e-mail.

The link (accounts.links, STAFF_RESET) expires after PASSWORD_RESET_VALID_MINUTES, works once, and ends every
session of the account when it is used. The admin never sees or sets the password.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_user
from sqlalchemy import select

from shop.accounts import links, resets
from shop.accounts import people as accounts
from shop.accounts.models import StaffRole, StaffUser, sorted_roles
from shop.platform import mail
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.ratelimits import signin_rate
from shop.platform.security_headers import no_store
from shop.platform.tx import run_in_transaction
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import ActionForm, SetPasswordForm, StaffRolesForm
from shop.staff.helpers import show_errors


def _roles_form(user: StaffUser, formdata=None) -> StaffRolesForm:
    return StaffRolesForm(prefix=f"user{user.id}", formdata=formdata,
                          data={"roles": [r.value for r in sorted_roles(user.roles)]})


def _render_staff_users(posted: StaffRolesForm | None = None, posted_for: int | None = None, status: int = 200):
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    forms = {u.id: posted if u.id == posted_for else _roles_form(u) for u in users}
    return render_template("staff/staff_users.html", users=users, roles=forms,
                           action=ActionForm(formdata=None)), status


@bp.get("/staff-users")
@role_required(StaffRole.ADMIN)
def staff_users():
    """Every staff account with its roles (a check box each) and a button that e-mails it a password reset link."""
    return _render_staff_users()


@bp.post("/staff-users/<id:staff_id>/roles")
@role_required(StaffRole.ADMIN)
def set_staff_roles(staff_id: int):
    """Give a staff user the roles ticked (audited): at least one, and one active admin always remains."""
    user = db.session.get(StaffUser, staff_id)
    if user is None:
        abort(404)
    form = StaffRolesForm(prefix=f"user{staff_id}")
    if not form.validate_on_submit():
        return _render_staff_users(form, staff_id, 422)
    try:
        user = run_in_transaction(lambda: accounts.set_staff_roles(db.session.get(StaffUser, staff_id),
                                                                   form.roles.data or [], current_staff()))
    except InvalidInput as exc:
        show_errors(form, exc.errors)
        return _render_staff_users(form, staff_id, 422)
    flash(f"{user.email} now holds {user.role_names}.", "success")
    return redirect(url_for("staff.staff_users", _anchor=f"user{staff_id}"))


@bp.post("/staff-users/<id:staff_id>/reset-password")
@role_required(StaffRole.ADMIN)
def send_staff_reset(staff_id: int):
    """E-mail a staff member a link to set a new password (audited)."""
    user = db.session.get(StaffUser, staff_id)
    if user is None or not user.active or not ActionForm().validate_on_submit():
        abort(404)
    if run_in_transaction(resets.send_staff_reset, user, current_staff(),
                          lambda token: mail.absolute_url("staff.reset_password", token=token)):
        flash(f"A password reset link went to {user.email}.", "success")
    else:
        flash(f"As many reset links went to {user.email} as are allowed for now "
              f"({current_app.config['RATELIMIT_RESET_PER_ADDRESS']}). Nothing was sent: the latest link still works.",
              "error")
    return redirect(url_for("staff.staff_users"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@no_store
@signin_rate
def reset_password(token: str):
    """Set a new staff password from a reset link; every session of the account ends, this one is signed in."""
    try:
        user = run_in_transaction(links.user_for_token, token, links.STAFF_RESET)
    except links.LinkRefused as exc:
        abort(410, description=exc.message)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = run_in_transaction(links.set_password, token, links.STAFF_RESET, form.password.data)
        except InvalidInput as exc:
            form.form_errors.extend(show_errors(form, exc.errors))
        except links.LinkRefused as exc:
            abort(410, description=exc.message)
        else:
            login_user(user)
            flash("Your password is set; every other session was signed out.", "success")
            return redirect(url_for("staff.dashboard"))
    return render_template("staff/reset_password.html", form=form, user=user), 422 if form.is_submitted() else 200
