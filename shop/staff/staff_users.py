"""Staff accounts, for admins: the list of staff, and a password reset link sent to one of them by e-mail.

The link (accounts.links, STAFF_RESET) expires after PASSWORD_RESET_VALID_MINUTES, works once, and ends every
session of the account when it is used. The admin never sees or sets the password.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_user
from sqlalchemy import select

from shop.accounts import links, member_mail
from shop.accounts.models import StaffRole, StaffUser
from shop.platform import mail
from shop.platform.audit import audit
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.ratelimits import signin_rate
from shop.platform.tx import run_in_transaction
from shop.staff import bp
from shop.staff.auth import current_staff, role_required
from shop.staff.forms import ActionForm, SetPasswordForm
from shop.staff.helpers import show_errors


@bp.get("/staff-users")
@role_required(StaffRole.ADMIN)
def staff_users():
    """Every staff account with its role, each with a button that e-mails it a password reset link."""
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("staff/staff_users.html", users=users, action=ActionForm(formdata=None))


@bp.post("/staff-users/<id:staff_id>/reset-password")
@role_required(StaffRole.ADMIN)
def send_staff_reset(staff_id: int):
    """E-mail a staff member a link to set a new password (audited)."""
    user = db.session.get(StaffUser, staff_id)
    if user is None or not user.active or not ActionForm().validate_on_submit():
        abort(404)
    link = mail.absolute_url("staff.reset_password", token=links.make_token(user, links.STAFF_RESET))
    run_in_transaction(audit, current_staff(), "staff.password_reset_sent", f"staff {user.email}")
    run_in_transaction(member_mail.send_password_reset, user, link)
    flash(f"A password reset link went to {user.email}.", "success")
    return redirect(url_for("staff.staff_users"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
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
