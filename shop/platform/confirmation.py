"""A destructive action offered in a list (revoke, remove, deactivate, delete) acts only from the page that first
says what will happen: its form alone sends `confirm=yes`, so the one-click button of old or a post from
elsewhere changes nothing. No JavaScript is needed (as cancelling an order asks)."""
from __future__ import annotations

from flask import abort, request

from shop.platform.errors import NotFound


def confirmed() -> bool:
    """Whether this post came from a confirmation page's "Yes, …" button (templates/_confirm.html)."""
    return request.form.get("confirm") == "yes"


def to_confirm(find, *args):
    """What `find(*args)` finds, for a confirmation page; NotFound (unknown, another company's) is a plain 404."""
    try:
        return find(*args)
    except NotFound as exc:
        abort(404, description=exc.message)
