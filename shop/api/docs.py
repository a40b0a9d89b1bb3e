"""/api/v1/docs: a self-contained human page rendered on the server from the OpenAPI document."""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, render_template
from markupsafe import Markup, escape

from shop.api.openapi import STATUSES
from shop.platform.extensions import rest_api

docs_bp = Blueprint("api_docs_page", __name__)
DOCS_PATH = "/api/v1/docs"

_METHODS = ("get", "post", "put", "patch", "delete")
_FENCE = re.compile(r"^```(\w+)\n(.*?)\n```$", re.S | re.M)


@docs_bp.get(DOCS_PATH)
def docs_page():
    """The API reference and guide, from the same OpenAPI document that clients generate code from."""
    spec = rest_api.spec.to_dict()
    components = spec.get("components", {})
    return render_template("api/docs.html", info=spec["info"], operations=_operations(spec, components),
                           schemas=_schemas(components), schemes=components.get("securitySchemes", {}),
                           webhooks=_webhooks(spec),
                           md=_markdown, inline=lambda text: Markup(_inline(text or "")))


def _webhooks(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each event type a webhook delivers: its summary, headers and example body (pretty JSON)."""
    out = []
    for event_type, item in spec.get("webhooks", {}).items():
        post = item["post"]
        media = post["requestBody"]["content"]["application/json"]
        out.append({"type": event_type, "id": "webhook-" + re.sub(r"[^a-z0-9]+", "-", event_type),
                    "headers": [p for p in post.get("parameters", []) if p["in"] == "header"],
                    "example": json.dumps(media.get("example"), indent=2, ensure_ascii=False)})
    return out


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's type for display: {"text": "...", "ref": schema name or None}."""
    if "$ref" in schema:
        return {"text": _ref_name(schema["$ref"]), "ref": _ref_name(schema["$ref"])}
    if schema.get("type") == "array":
        inner = _type(schema.get("items", {}))
        return {"text": "array of " + inner["text"], "ref": inner["ref"]}
    types = schema.get("type", "")
    types = [types] if isinstance(types, str) else list(types)  # OpenAPI 3.1: ["string", "null"]
    nullable = "null" in types
    text = " or ".join(t for t in types if t != "null")
    if "enum" in schema:
        text = (text + " " if text else "") + "one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    elif schema.get("format"):
        text += f" ({schema['format']})"
    if schema.get("type") == "object" and "additionalProperties" in schema \
            and isinstance(schema["additionalProperties"], dict):
        text = "object of " + _type(schema["additionalProperties"])["text"]
    if nullable:
        text += " or null"
    return {"text": text, "ref": None}


def _limits(schema: dict[str, Any]) -> str:
    parts = []
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤"),
                       ("minItems", "items ≥"), ("maxItems", "items ≤")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "default" in schema:
        parts.append(f"default {schema['default']}")
    return ", ".join(parts)


def _schemas(components: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name, schema in components.get("schemas", {}).items():
        required = set(schema.get("required", []))
        out[name] = [
            {"name": prop, "type": _type(sub), "required": prop in required, "limits": _limits(sub),
             "description": sub.get("description", "")}
            for prop, sub in schema.get("properties", {}).items()
        ]
    return out


def _response(status: str, response: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        response = components["responses"][_ref_name(response["$ref"])]
    content = response.get("content", {})
    media, body = next(iter(content.items()), (None, {}))
    return {"status": status, "description": response.get("description", ""), "media": media,
            "type": _type(body.get("schema", {})) if body else None, "headers": response.get("headers", {})}


def _operations(spec: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody")
            body_schema = next(iter(body["content"].values()))["schema"] if body else None
            operations.append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "").strip("-"),
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                "parameters": [
                    {"name": p["name"], "in": p["in"], "required": p.get("required", False),
                     "type": _type(p.get("schema", {})), "limits": _limits(p.get("schema", {})),
                     "description": p.get("description", "")}
                    for p in [*shared, *op.get("parameters", [])]
                ],
                "body": {"type": _type(body_schema), "description": body.get("description", "")} if body else None,
                "responses": [_response(status, r, components)
                              for status, r in sorted(op.get("responses", {}).items()) if int(status) < 400],
                # The problems in one line, each explained under Errors; only an operation's own words in full.
                "problems": [{"status": status, "own": r.get("description", "")
                              if r.get("description") != STATUSES.get(int(status), ("",))[0] else ""}
                             for status, r in sorted(op.get("responses", {}).items()) if int(status) >= 400],
            })
    return operations


def _markdown(text: str) -> Markup:
    """The little Markdown the descriptions and the guide use: paragraphs, `* ` lists, `### ` headings, fenced
    code blocks (```python), `code` and **bold**."""
    html: list[str] = []
    position = 0
    for fence in _FENCE.finditer(text):
        html.append(_blocks(text[position:fence.start()]))
        html.append(f'<pre><code class="language-{fence[1]}">{escape(fence[2])}</code></pre>')
        position = fence.end()
    html.append(_blocks(text[position:]))
    return Markup("".join(html))


def _blocks(text: str) -> str:
    html: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        if not block.strip():
            continue
        if lines[0].startswith("### "):
            title = lines[0][4:].strip()
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            html.append(f'<h3 id="guide-{slug}">{_inline(title)}</h3>')
            if len(lines) > 1:
                html.append(_blocks("\n".join(lines[1:])))
        elif lines[0].startswith("* "):
            items, current = [], ""
            for line in lines:
                if line.startswith("* "):
                    if current:
                        items.append(current)
                    current = line[2:]
                else:
                    current += " " + line.strip()
            items.append(current)
            html.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        else:
            html.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "".join(html)


def _inline(text: str) -> str:
    escaped = str(escape(text))
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    # Links only to this site's pages (the problem types): a description never sends a reader elsewhere.
    escaped = re.sub(r"\[([^\]]+)\]\((/[^)\s]*)\)", r'<a href="\2">\1</a>', escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
