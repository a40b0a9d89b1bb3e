"""JSON API /api/v1: flask-smorest blueprints, bearer-key auth, problem+json errors."""
from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    """Register the /api/v1 resources on the app's flask-smorest Api."""
