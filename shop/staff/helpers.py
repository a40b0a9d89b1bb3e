"""What every staff view shares: domain errors beside form fields, and one call that commits."""
from __future__ import annotations

from collections.abc import Mapping

from flask import abort
from flask_wtf import FlaskForm

from ..errors import NotFound


def show_errors(form: FlaskForm, errors: Mapping[str, list[str]], fields: Mapping[str, str] | None = None) -> list[str]:
    """Put a service's field errors beside the form's fields; return those no field shows.

    `fields` maps a service path ('units.LEU-USP-1KG') to a form field name ('units_3') where they differ.
    """
    fields = fields or {}
    leftover: list[str] = []
    for path, messages in errors.items():
        name = fields.get(path, path)
        field = form._fields.get(name)
        if field is None:
            leftover.extend(messages)
        else:
            field.errors = [*field.errors, *messages]  # errors may be a tuple until validate() runs
    return leftover


def or_404(call, *args, **kwargs):
    """Call a service reader; a NotFound becomes the staff 404 page."""
    try:
        return call(*args, **kwargs)
    except NotFound as exc:
        abort(404, description=exc.message)
