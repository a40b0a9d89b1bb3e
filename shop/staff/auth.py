"""Staff sign-in and sign-out, the role check every staff view goes through, and staff error pages."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException

from ..extensions import login_manager
from ..models import StaffRole, StaffUser
from ..services import accounts
from ..services.tx import run_in_transaction
from . import bp
from .forms import ActionForm, LoginForm

ANY_STAFF: tuple[StaffRole, ...] = ()


def current_staff() -> StaffUser | None:
    """The signed-in staff user, or None (anonymous, or a customer: customers are never staff)."""
    user = current_user._get_current_object()
    return user if isinstance(user, StaffUser) and user.is_authenticated else None


def role_required(*roles: StaffRole | str):
    """Let a view run only for signed-in staff holding one of `roles` (any staff when none; admin always).

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
            if roles and not staff.has_role(*roles):
                needed = " or ".join(str(r) for r in roles)
                abort(403, description=f"This needs the {needed} role; you are signed in as {staff.role}.")
            return view(*args, **kwargs)

        wrapped.staff_roles = roles  # read by the tests that walk every staff route
        return wrapped
    return decorator


def can(*roles: StaffRole | str) -> bool:
    """Whether the signed-in staff user may do what `roles` allow (for showing or hiding controls)."""
    staff = current_staff()
    return staff is not None and staff.has_role(*roles)


@bp.app_context_processor
def staff_template_globals() -> dict:
    return {"staff_can": can, "current_staff": current_staff, "StaffRole": StaffRole}


def _safe_next(target: str | None) -> str:
    # Only a path inside the staff pages: an absolute URL here would be an open redirect.
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/") and "\\" not in target:
            return target
    return url_for("staff.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with a staff account."""
    if current_staff() is not None:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            # Committed even when the password is wrong, so that failed attempts count towards the lock-out.
            staff = run_in_transaction(accounts.authenticate, StaffUser, form.email.data, form.password.data)
        except accounts.LockedOut as exc:
            form.password.errors.append(str(exc))
        else:
            if staff is None:
                form.password.errors.append("Email or password is wrong.")
            else:
                login_user(staff)
                flash(f"Signed in as {staff.email} ({staff.role}).", "success")
                return redirect(_safe_next(request.args.get("next")))
    return render_template("staff/login.html", form=form), 422 if request.method == "POST" else 200


@bp.post("/logout")
def logout():
    """Sign out (a POST with a CSRF token, so that a link elsewhere cannot sign staff out)."""
    form = ActionForm()
    if form.validate_on_submit() and current_staff() is not None:
        logout_user()
        flash("Signed out.", "info")
    return redirect(url_for("staff.login"))


@bp.errorhandler(HTTPException)
def staff_http_error(error: HTTPException):
    """Errors inside the staff pages keep the staff navigation."""
    return render_template("staff/error.html", code=error.code, title=error.name,
                           message=error.description), error.code
