"""Helpers shared by the storefront tests (no tests here): sign in, count SQL statements, find field errors."""
from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event

from shop.platform.extensions import db


def sign_in(client, email: str = "buyer@example.com", password: str = "correct horse", **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def field_error(html: str, field_id: str) -> str | None:
    """The error text shown right under the field with this id, or None if there is none."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None


@contextmanager
def count_statements():
    """Count every SQL statement the app sends while the block runs (a list, so it can be read after)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


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
