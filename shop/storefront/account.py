"""Customer accounts on the storefront: register, sign in (with lock-out), sign out."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy.exc import IntegrityError

from ..errors import InvalidInput
from ..models import Customer
from ..services import accounts
from ..services.tx import run_in_transaction
from . import bp
from .common import CART_KEY, CHECKOUT_TOKEN_KEY, apply_errors, current_customer, safe_next
from .forms import RegisterForm, SignInForm


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Open a customer account and sign it in."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            customer = run_in_transaction(accounts.create_customer, form.email.data, form.password.data,
                                          form.company.data)
        except InvalidInput as exc:
            for message in apply_errors(form, exc.errors):
                form.form_errors.append(message)
        except IntegrityError:
            # Two registrations with one email at the same moment: the unique index decided.
            form.email.errors = ["An account with this email already exists. Sign in instead."]
        else:
            login_user(customer)
            flash(f"Welcome, {customer.company}. Your account is ready.", "success")
            return redirect(safe_next(request.args.get("next"), url_for("storefront.index")))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/register.html", form=form), status


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    """Sign a customer in; after repeated failures the account is locked for a while."""
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            # Committed even when the password is wrong: that is how failed attempts are counted.
            customer = run_in_transaction(accounts.authenticate, Customer, form.email.data, form.password.data)
        except accounts.LockedOut as exc:
            form.form_errors.append(f"Too many failed sign-ins for this account. Try again after "
                                    f"{exc.until:%H:%M} UTC.")
        else:
            if customer is None:
                # One message for an unknown email and a wrong password, so accounts cannot be probed.
                form.password.errors = ["The email or password is not right."]
            else:
                login_user(customer)
                flash(f"Signed in as {customer.company}.", "success")
                return redirect(safe_next(form.next.data, url_for("storefront.index")))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/login.html", form=form, signed_in=current_customer()), status


@bp.post("/sign-out")
def logout():
    """Sign out (POST only, with the CSRF token: a link or an image cannot sign anyone out)."""
    logout_user()
    # The cart and checkout state are this buyer's: on a shared computer the next person must not inherit them.
    for key in (CART_KEY, CHECKOUT_TOKEN_KEY):
        session.pop(key, None)
    flash("You are signed out.", "info")
    return redirect(url_for("storefront.index"))
