"""The API's Blueprint: flask-smorest's, with bearer-key auth and problem+json errors on every route."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from shop.api.auth import authenticate
from shop.api.problems import domain_problem, http_problem, problem_response
from shop.platform.errors import DomainError


class ApiBlueprint(Blueprint):
    """A resource of /api/v1: every request needs an API key; every error is problem+json."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)
        self.before_request(refuse_bodies_that_are_not_json)
        # Blueprint handlers run before the app's: they see webargs' field errors, which the app's
        # generic HTTPException handler (and flask-smorest's, which it replaces) would not turn into paths.
        self.register_error_handler(HTTPException, http_problem)
        self.register_error_handler(DomainError, domain_problem)


def refuse_bodies_that_are_not_json() -> Response | None:
    """A request body must be JSON: anything else is 415, not a guess at what it meant (nor a 422 that
    reports every field missing)."""
    if request.content_length == 0 or request.is_json or not (request.content_length or request.get_data(cache=True)):
        return None
    return problem_response(415, "unsupported-media-type", "Unsupported Media Type",
                            "Send the request body as JSON, with `Content-Type: application/json`.")
