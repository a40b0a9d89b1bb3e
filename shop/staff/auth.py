"""Staff sign-in and sign-out, the role check every staff view goes through, and staff error pages."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from shop.accounts import people as accounts
from shop.accounts.models import StaffRole, StaffUser
from shop.platform import metrics
from shop.platform.errors import InvalidInput
from shop.platform.extensions import login_manager
from shop.platform.ratelimits import signin_rate, signin_throttle
from shop.platform.security_headers import no_store
from shop.platform.tx import run_in_transaction
from shop.staff import bp
from shop.staff.forms import ActionForm, ChangePasswordForm, LoginForm
from shop.staff.helpers import show_errors

ANY_STAFF: tuple[StaffRole, ...] = ()


def current_staff() -> StaffUser | None:
    """The signed-in staff user, or None (anonymous, or a customer: customers are never staff)."""
    user = current_user._get_current_object()
    return user if isinstance(user, StaffUser) and user.is_authenticated else None


def role_required(*roles: StaffRole | str, admin_may: bool = True):
    """Let a view run only for signed-in staff holding one of `roles` (any staff when none; admin always, unless
    `admin_may` is false: a QC signature needs the quality role itself).

    Others are sent to the staff sign-in page; staff without the role get 403 before the view runs, so a
    refused action changes nothing.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                if current_user.is_authenticated:
                    flash("You are signed in as a customer. Sign in with a staff account to use the staff "
                          "pages.", "info")
                return login_manager.unauthorized()
            if not admin_may and not any(staff.holds(StaffRole(r)) for r in roles):
                needed = " or ".join(str(r) for r in roles)
                abort(403, description=f"This needs the {needed} role itself (admin alone is not enough); you are "
                                       f"signed in as {staff.role_names}.")
            if roles and not staff.has_role(*roles):
                needed = " or ".join(str(r) for r in roles)
                abort(403, description=f"This needs the {needed} role; you are signed in as {staff.role_names}.")
            return view(*args, **kwargs)

        wrapped.staff_roles = roles  # read by the tests that walk every staff route
        return wrapped
    return decorator


def can(*roles: StaffRole | str) -> bool:
    """Whether the signed-in staff user may do what `roles` allow (for showing or hiding controls)."""
    staff = current_staff()
    return staff is not None and staff.has_role(*roles)


def holds(role: StaffRole) -> bool:
    """Whether the signed-in staff user holds `role` itself (a QC signature needs quality: admin is not enough)."""
    staff = current_staff()
    return staff is not None and staff.holds(role)


@bp.app_context_processor
def staff_template_globals() -> dict:
    return {"staff_can": can, "staff_holds": holds, "current_staff": current_staff, "StaffRole": StaffRole}


def _safe_next(target: str | None) -> str:
    # Only a path inside the staff pages: an absolute URL here would be an open redirect.
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/") and "\\" not in target:
            return target
    return url_for("staff.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@no_store
@signin_rate
def login():
    """Sign in with a staff account; repeated failures for one account from one address are throttled (429)."""
    if current_staff() is not None:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        throttle = signin_throttle("staff", form.email.data)
        throttle.check()
        staff = run_in_transaction(accounts.authenticate, StaffUser, form.email.data, form.password.data)
        if staff is None:
            throttle.record_failure()
            metrics.signin_failed("staff")
            form.password.errors.append("Email or password is wrong.")
        else:
            login_user(staff)
            flash(f"Signed in as {staff.email} ({staff.role_names}).", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("staff/login.html", form=form), 422 if request.method == "POST" else 200


@bp.post("/logout")
def logout():
    """Sign out (a POST with a CSRF token, so that a link elsewhere cannot sign staff out); every session of
    the staff user ends, so a copy of the session cookie is worthless afterwards."""
    form = ActionForm()
    staff = current_staff()
    if form.validate_on_submit() and staff is not None:
        run_in_transaction(accounts.sign_out_everywhere, staff)
        logout_user()
        flash("Signed out.", "info")
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
@signin_rate
@role_required(*ANY_STAFF)
def change_password():
    """Change one's own password; every other session of this staff user is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        staff = current_staff()
        try:
            run_in_transaction(accounts.change_password, staff, form.current_password.data, form.password.data)
        except InvalidInput as exc:
            for message in show_errors(form, exc.errors):
                flash(message, "error")
        else:
            login_user(staff)  # this session carries the new session token
            flash("Your password is changed; your other sessions are signed out.", "success")
            return redirect(url_for("staff.dashboard"))
    return render_template("staff/password.html", form=form), 422 if request.method == "POST" else 200


@bp.errorhandler(HTTPException)
def staff_http_error(error: HTTPException):
    """Errors inside the staff pages keep the staff navigation."""
    return render_template("staff/error.html", code=error.code, title=error.name,
                           message=error.description), error.code
