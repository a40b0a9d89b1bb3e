"""Helpers shared by the storefront views: the signed-in customer, safe redirects, form errors."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import flash, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError

from shop.accounts.models import Customer, MemberRole

CART_KEY = "cart"
CHECKOUT_TOKEN_KEY = "checkout_token"
# SKU -> [order number, unit price then] for cart lines that "Order again" put there, to flag price changes.
REORDER_KEY = "reordered"


def current_customer() -> Customer | None:
    """The signed-in customer, or None (signed out, or signed in as staff: staff cannot shop)."""
    user = current_user._get_current_object()
    return user if isinstance(user, Customer) and user.is_authenticated else None


def customer_required(next_endpoint: str | None = None):
    """Send anyone who is not a signed-in customer to the sign-in page, to come back afterwards.

    `next_endpoint` overrides where they come back to (checkout sends them back to the cart to review it).
    """
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if current_customer() is None:
                if current_user.is_authenticated:
                    flash("You are signed in as staff. Sign in with a customer account to shop.", "info")
                else:
                    flash("Please sign in to continue.", "info")
                target = url_for(next_endpoint) if next_endpoint else request.full_path.rstrip("?")
                return redirect(url_for("storefront.login", next=target))
            return view(*args, **kwargs)
        return wrapped
    return decorator


def safe_next(target: str | None, default: str) -> str:
    """Only follow a `next` that is a path on this site: never another host, scheme or '//' URL, and nothing with a
    control character (a line break cannot go into the Location header, and urlsplit reads past it)."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 32 or ord(c) == 127 for c in target)):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def apply_errors(form: FlaskForm, errors: dict[str, list[str]], aliases: dict[str, str] | None = None,
                 *, keep_form_errors: bool = False) -> list[str]:
    """Put a service's field errors beside the matching form fields; return those no field can show.

    With `keep_form_errors`, a field the form's own validation already flagged keeps only that message (the
    service's check of the same field would say the same again).
    """
    leftover = []
    for path, messages in errors.items():
        name = (aliases or {}).get(path, path.rsplit(".", 1)[-1])
        field = getattr(form, name, None) if name in form._fields else None
        if field is None:
            leftover.extend(messages)
        elif not (keep_form_errors and field.errors):
            field.errors = list(field.errors) + list(messages)
    return leftover


def cart_lines() -> int:
    """The number of lines in the cart: its units are of unlike pack sizes (a 25 kg drum, a 500 kg big bag), so
    their sum would mean nothing."""
    cart = session.get(CART_KEY) or {}
    return sum(1 for q in cart.values() if isinstance(q, int) and q > 0)


def storefront_globals() -> dict:
    """What every page's navigation needs: the customer, and the number of lines in the cart."""
    try:
        customer = current_customer()
    except SQLAlchemyError:
        # Rendering an error page must never fail in turn: with the database down, show it signed out.
        customer = None
    return {"current_customer": customer, "cart_lines": cart_lines(), "MemberRole": MemberRole}
