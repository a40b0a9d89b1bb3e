"""Helpers shared by the storefront tests (no tests here): sign in, count SQL statements, find field errors."""
from __future__ import annotations

import re

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


def register(client, **overrides):
    data = {"company": "Brand New Nutrition", "email": "new@brand.example", "password": "long enough pw",
            "confirm": "long enough pw"}
    data.update(overrides)
    return client.post("/register", data=data)


def customer_count() -> int:
    count = db.session.scalar(select(func.count()).select_from(Customer))
    db.session.rollback()
    return count


CHECKOUT_ADDRESS = {"name": "Acme Nutrition", "line1": "Hafenstrasse 1", "line2": "", "city": "Hamburg",
           "postal_code": "20457", "country": "DE", "purchase_order": "PO-77", "min_remaining_shelf_life_days": ""}
