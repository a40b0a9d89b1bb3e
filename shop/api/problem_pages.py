"""/problems/<name>: the page behind each problem+json `type` URI, and /problems/ listing them all."""
from __future__ import annotations

import json

from flask import Blueprint, abort, render_template
from markupsafe import Markup

from shop.api.docs import _inline
from shop.api.problem_types import PROBLEM_TYPES

problems_bp = Blueprint("problems", __name__, url_prefix="/problems")

STANDARD_MEMBERS = (
    ("type", "This page's address: the problem's name is its last segment. Compare names, not whole URIs."),
    ("title", "A short summary that is the same for every occurrence of the problem."),
    ("status", "The HTTP status code of the answer."),
    ("detail", "What went wrong with this request, in words for a person."),
)


@problems_bp.app_template_filter("api_text")
def api_text(text: str) -> Markup:
    """The API texts' little Markdown (`code`, **bold**, [links](/problems/)) as HTML."""
    return Markup(_inline(text))


@problems_bp.get("/")
def index():
    """Every problem type, by status."""
    problems = sorted(PROBLEM_TYPES.values(), key=lambda p: (p.status, p.name))
    return render_template("problems/index.html", problems=problems)


@problems_bp.get("/<name>")
def problem(name: str):
    """One problem type: when it is answered, its members, an example and what to do."""
    found = PROBLEM_TYPES.get(name)
    if found is None:
        abort(404, description=f"The API has no problem type '{name}'. All of them are listed at /problems/.")
    example = {"type": f"https://shop.example{found.path}", "title": found.title, "status": found.status,
               "detail": found.meaning.split(". ")[0]} | found.example
    return render_template("problems/problem.html", problem=found, members=STANDARD_MEMBERS + found.fields,
                           example=json.dumps(example, indent=2, ensure_ascii=False))
