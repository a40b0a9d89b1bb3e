"""Helpers shared by the storefront tests (no tests here): sign in, count SQL statements, find field errors."""
from __future__ import annotations

import re

from flask import has_app_context
from sqlalchemy import func, select

from shop.accounts.models import Customer
from shop.platform.extensions import db


def sign_in(client, email: str = "buyer@example.com", password: str = "correct horse", **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def field_error(html: str, field_id: str) -> str | None:
    """The error text shown right under the field with this id, or None if there is none."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None


def pdf_strings(data: bytes) -> list[str]:
    """The text-showing strings of a reportlab PDF (its streams are ASCII85 + Flate encoded)."""
    import base64
    import zlib

    text = b""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = match.group(1).strip().removesuffix(b"~>")
        text += zlib.decompress(base64.a85decode(raw))
    return [s.decode("latin-1").replace("\\(", "(").replace("\\)", ")")
            for s in re.findall(rb"\((.*?)(?<!\\)\) Tj", text)]


def client_at(app, address: str):
    """A test client whose requests come from `address` (rate limits and throttles count per client address)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def ask_to_register(client, **overrides):
    """The registration page's POST: a company's name and an address (`csrf_token` too, when given)."""
    return client.post("/register", data={"company": "Brand New Nutrition", "email": "new@brand.example", **overrides})


def registration_link(email: str) -> str | None:
    """The path of the link to open an account last e-mailed to `email` (the worker sends the e-mail first), or None
    when none was."""
    from tests.support.mail import drain, outbox_mail

    drain()
    links = [re.search(r"https?://[^/\s]+(/register/\S+)", m.body) for m in outbox_mail() if email in m.to]
    return next((link.group(1) for link in reversed(links) if link), None)


def register(client, password: str = "long enough pw", confirm: str | None = None, **overrides):
    """Register as a buyer does: ask on the registration page, follow the link e-mailed to the address and choose
    the password there (with the company's name as asked, unless `open_as` names another). The answer of the last
    step taken: the registration page's when it refused, or when no link came (the address has an account)."""
    open_as = overrides.pop("open_as", None)
    asked = ask_to_register(client, **overrides)
    email = overrides.get("email", "new@brand.example").strip().lower()
    if has_app_context():
        link = registration_link(email)
    else:
        with client.application.app_context():
            link = registration_link(email)
    if asked.status_code != 200 or link is None:
        return asked
    page = client.get(link).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"company": open_as or overrides.get("company", "Brand New Nutrition"), "password": password,
            "confirm": password if confirm is None else confirm}
    return client.post(link, data={**data, **({"csrf_token": token.group(1)} if token else {})})


def customer_count() -> int:
    count = db.session.scalar(select(func.count()).select_from(Customer))
    db.session.rollback()
    return count


CHECKOUT_ADDRESS = {"name": "Acme Nutrition", "line1": "Hafenstrasse 1", "line2": "", "city": "Hamburg",
           "postal_code": "20457", "country": "DE", "purchase_order": "PO-77", "min_remaining_shelf_life_days": ""}
