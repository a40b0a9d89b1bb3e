"""The API's Blueprint: flask-smorest's, with bearer-key auth and problem+json errors on every route."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from .auth import authenticate
from .problems import domain_problem, http_problem


class ApiBlueprint(Blueprint):
    """A resource of /api/v1: every request needs an API key; every error is problem+json."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)
        # Blueprint handlers run before the app's: they see webargs' field errors, which the app's
        # generic HTTPException handler (and flask-smorest's, which it replaces) would not turn into paths.
        self.register_error_handler(HTTPException, http_problem)
        self.register_error_handler(DomainError, domain_problem)
