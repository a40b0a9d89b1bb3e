"""Customer accounts on the storefront: register (by an e-mailed link), sign in (throttled), sign out, change the
password."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy.exc import IntegrityError

from shop.accounts import links, registration
from shop.accounts import people as accounts
from shop.accounts.models import Customer
from shop.platform import mail, metrics
from shop.platform.errors import InvalidInput
from shop.platform.ratelimits import register_rate, signin_rate, signin_throttle
from shop.platform.security_headers import no_store
from shop.platform.tx import run_in_transaction
from shop.storefront import bp
from shop.storefront.common import (
    CART_KEY,
    CHECKOUT_TOKEN_KEY,
    REORDER_KEY,
    apply_errors,
    current_customer,
    customer_required,
    safe_next,
)
from shop.storefront.forms import ChangePasswordForm, OpenAccountForm, RegisterForm, SignInForm


@bp.route("/register", methods=["GET", "POST"])
@no_store
@register_rate
def register():
    """Ask for a customer account: a link that opens it is e-mailed to the address. The answer is the same whether
    or not the address has an account (accounts.registration)."""
    form = RegisterForm()
    if form.is_submitted():
        # The form's checks and the account rules run together, so that every mistake is shown in one answer.
        valid = form.validate()
        errors = registration.request_errors(form.email.data, form.company.data)
        form.form_errors.extend(apply_errors(form, errors, keep_form_errors=True))
        if valid and not errors:
            run_in_transaction(registration.request_registration, form.email.data, form.company.data,
                               safe_next(request.args.get("next"), ""),
                               lambda token: mail.absolute_url("storefront.open_account", token=token))
            return render_template("storefront/register_sent.html", email=form.email.data.strip())
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/register.html", form=form), status


@bp.route("/register/<token>", methods=["GET", "POST"])
@no_store
@register_rate
def open_account(token: str):
    """The page a registration link opens: check the company's name, choose a password, and the account is open
    and signed in."""
    try:
        asked = run_in_transaction(links.registration_for_token, token)
    except links.LinkRefused as exc:
        return _refused(exc.message)
    form = OpenAccountForm(company=asked.company)
    if form.is_submitted():
        # The form's checks and the account rules run together, so that every mistake is shown in one answer.
        valid = form.validate()
        errors = registration.open_errors(asked.email, form.company.data, form.password.data)
        form.form_errors.extend(apply_errors(form, errors, keep_form_errors=True))
        if valid and not errors:
            try:
                customer = run_in_transaction(registration.open_account, token, form.company.data,
                                              form.password.data)
            except InvalidInput as exc:
                form.form_errors.extend(apply_errors(form, exc.errors))
            except links.LinkRefused as exc:
                return _refused(exc.message)
            except IntegrityError:  # the same link sent twice at the same moment: the unique index decided
                return _refused(links.REGISTRATION_USED)
            else:
                login_user(customer)
                flash(f"Welcome, {customer.company.name}. Your account is ready.", "success")
                return redirect(safe_next(asked.next_page, url_for("storefront.index")))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/open_account.html", form=form, email=asked.email,
                           invited_by=registration.pending_invitation(asked.email)), status


def _refused(message: str):
    return render_template("storefront/link_refused.html", message=message, registration=True), 410


@bp.route("/sign-in", methods=["GET", "POST"])
@no_store
@signin_rate
def login():
    """Sign a customer in; repeated failures for one account from one address are throttled (429)."""
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        throttle = signin_throttle("customer", form.email.data)
        throttle.check()
        customer = run_in_transaction(accounts.authenticate, Customer, form.email.data, form.password.data)
        if customer is None:
            throttle.record_failure()
            metrics.signin_failed("customer")
            # One message for an unknown email and a wrong password, so accounts cannot be probed.
            form.password.errors = ["The email or password is not right."]
        else:
            login_user(customer)
            flash(f"Signed in as {customer.company.name}.", "success")
            return redirect(safe_next(form.next.data, url_for("storefront.index")))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/login.html", form=form, signed_in=current_customer()), status


@bp.post("/sign-out")
def logout():
    """Sign out (POST only, with the CSRF token: a link or an image cannot sign anyone out).

    Every session of the customer ends, so that a copy of the session cookie is worthless afterwards."""
    customer = current_customer()
    if customer is not None:
        run_in_transaction(accounts.sign_out_everywhere, customer)
    logout_user()
    # The cart and checkout state are this buyer's: on a shared computer the next person must not inherit them.
    for key in (CART_KEY, CHECKOUT_TOKEN_KEY, REORDER_KEY):
        session.pop(key, None)
    flash("You are signed out.", "info")
    return redirect(url_for("storefront.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@signin_rate
@customer_required()
def change_password():
    """Change the password; every other session of the customer is signed out, this one stays signed in."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        customer = current_customer()
        try:
            run_in_transaction(accounts.change_password, customer, form.current_password.data, form.password.data)
        except InvalidInput as exc:
            for message in apply_errors(form, exc.errors):
                form.form_errors.append(message)
        else:
            login_user(customer)  # this session carries the new session token
            flash("Your password is changed. Any other device signed in to your account has been signed out.",
                  "success")
            return redirect(url_for("storefront.order_list"))
    status = 422 if form.is_submitted() else 200
    return render_template("storefront/password.html", form=form), status
