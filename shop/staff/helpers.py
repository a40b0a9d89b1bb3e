"""What every staff view shares: domain errors beside form fields, 404s from services, filtered list pages."""
from __future__ import annotations

from collections.abc import Mapping

from flask import abort, request
from flask_wtf import FlaskForm

from shop.platform.errors import InvalidInput, NotFound


def show_errors(form: FlaskForm, errors: Mapping[str, list[str]], fields: Mapping[str, str] | None = None,
                *, keep_form_errors: bool = False) -> list[str]:
    """Put a service's field errors beside the form's fields; return those no field shows.

    `fields` maps a service path ('units.LEU-USP-1KG') to a form field name ('units_3') where they differ.
    With `keep_form_errors`, a field the form's own validation already flagged keeps only that message.
    """
    fields = fields or {}
    leftover: list[str] = []
    for path, messages in errors.items():
        name = fields.get(path, path)
        field = form._fields.get(name)
        if field is None:
            leftover.extend(messages)
        elif not (keep_form_errors and field.errors):
            field.errors = [*field.errors, *messages]  # errors may be a tuple until validate() runs
    return leftover


def validate_with(form: FlaskForm, errors: Mapping[str, list[str]], fields: Mapping[str, str] | None = None
                  ) -> tuple[bool, list[str]]:
    """Validate a posted form together with the service's own check of the same values (`errors`), so that
    every mistake shows in one answer: (whether both passed, the service's messages no field shows)."""
    valid = form.validate_on_submit()
    leftover = show_errors(form, errors, fields, keep_form_errors=True)
    return valid and not errors, leftover


def or_404(call, *args, **kwargs):
    """Call a service reader; a NotFound becomes the staff 404 page."""
    try:
        return call(*args, **kwargs)
    except NotFound as exc:
        abort(404, description=exc.message)


def filtered_page(form: FlaskForm, fetch):
    """Validate a GET filter form, then fetch one page with it: (page, 200), or (None, 400) for a bad filter.

    A filter or page link the service refuses shows its messages beside the form's submit button.
    """
    if not form.validate():
        return None, 400
    try:
        return fetch(), 200
    except InvalidInput as exc:
        form.submit.errors = [m for msgs in exc.errors.values() for m in msgs]
        return None, 400


def page_link_args() -> dict[str, str]:
    """The request's query arguments without the cursor: what the next page's link carries over."""
    return {k: v for k, v in request.args.items() if k != "cursor"}
