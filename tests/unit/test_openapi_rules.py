"""The OpenAPI plugin's rules over any operation it may be given (whatever a later view declares), and the docs
page's code blocks, which a reader copies as they are."""
from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from shop.api.docs import _markdown
from shop.api.openapi import ShopOpenAPIPlugin, error_statuses

PARAMETERS = [{"in": "query", "name": "limit"}, {"in": "header", "name": "Idempotency-Key"},
              {"in": "header", "name": "X-Other"}]

operations = st.fixed_dictionaries({
    "method": st.sampled_from(["get", "post", "put", "patch", "delete"]),
    "path": st.sampled_from(["/api/v1/things", "/api/v1/things/{id}", "/api/v1/things/{id}/do"]),
    "parameters": st.lists(st.sampled_from(PARAMETERS), unique_by=lambda p: p["name"]),
    "body": st.booleans(),
    "public": st.booleans(),
    "declared": st.sets(st.sampled_from([403, 404, 409, 410, 422, 429])),
    "default": st.booleans(),
})


def _operation(drawn: dict) -> dict:
    responses: dict = {"200": {"description": "OK", "content": {"application/json": {"schema": {}}}}}
    responses.update({str(s): {"description": f"declared {s}"} for s in drawn["declared"]})
    if drawn["default"]:
        responses["default"] = {"description": "anything"}
    op: dict = {"responses": responses, "parameters": list(drawn["parameters"])}
    if drawn["body"]:
        op["requestBody"] = {"content": {"application/json": {"schema": {}}}}
    if drawn["public"]:
        op["security"] = []
    return op


@given(operations)
def test_the_statuses_follow_from_what_the_operation_does(drawn):
    op = _operation(drawn)
    statuses = error_statuses(drawn["method"], drawn["path"], op)
    assert drawn["declared"] | {400} <= statuses
    if drawn["public"]:
        assert 401 not in statuses
    else:
        assert {401, 429} <= statuses
    if drawn["body"]:
        assert {413, 415, 422} <= statuses
    elif drawn["method"] in ("post", "put", "patch"):
        assert {413, 415} <= statuses
    assert (404 in statuses) == ("{" in drawn["path"] or 404 in drawn["declared"])
    if any(p["name"] == "Idempotency-Key" for p in drawn["parameters"]):
        assert {409, 422} <= statuses
    assert all(400 <= s < 500 for s in statuses)


@given(operations)
def test_every_error_becomes_a_problem_with_an_example_and_no_default_survives(drawn):
    op = _operation(drawn)
    expected = error_statuses(drawn["method"], drawn["path"], op)
    ShopOpenAPIPlugin().operation_helper(path=drawn["path"], operations={drawn["method"]: op})
    responses = op["responses"]
    assert "default" not in responses
    assert {int(s) for s in responses if int(s) >= 400} == expected
    for status, response in responses.items():
        if int(status) < 400:
            continue
        media = response["content"]["application/problem+json"]
        examples = [media["example"]] if "example" in media else [e["value"] for e in media["examples"].values()]
        assert examples and all(e["status"] == int(status) and e["type"].endswith(
            "/problems/" + e["type"].rsplit("/", 1)[1]) for e in examples), status
        if int(status) in drawn["declared"]:
            assert response["description"] == f"declared {status}"  # the view's own words are kept
        assert ("Retry-After" in response.get("headers", {})) == (status == "429")
    limited = 429 in drawn["declared"]
    assert ("RateLimit-Policy" in responses["200"].get("headers", {})) == limited


code = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda t: "```" not in t)
prose = st.text(alphabet="abc *`\n", max_size=40).filter(lambda t: "```" not in t)


@given(code, prose)
def test_a_code_block_is_shown_exactly_as_written(snippet, prose):
    page = str(_markdown(f"{prose}\n\n```python\n{snippet}\n```\n\n{prose}"))
    blocks = re.findall(r'<pre><code class="language-python">(.*?)</code></pre>', page, re.S)
    assert [html.unescape(b) for b in blocks] == [snippet]
