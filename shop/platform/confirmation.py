"""A destructive action offered in a list (revoke, remove, deactivate, delete) acts only from the page that first
says what will happen: its form alone sends `confirm=yes`, so the one-click button of old, a crafted post or a
double click on the list changes nothing. No JavaScript is needed (as cancelling an order asks)."""
from __future__ import annotations

from flask import request


def confirmed() -> bool:
    """Whether this post came from a confirmation page's "Yes, …" button (templates/_confirm.html)."""
    return request.form.get("confirm") == "yes"
