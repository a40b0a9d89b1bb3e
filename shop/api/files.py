"""Answers of the API that are files (PDF, XML), not JSON, and how the OpenAPI document says so."""
from __future__ import annotations

from flask import Response


def binary_answer(mimetype: str, description: str, example: str) -> dict:
    """The OpenAPI 200 of an operation that answers a file, not JSON (`example`: how the file starts)."""
    return {"200": {"description": description,
                    "content": {mimetype: {"schema": {"type": "string", "format": "binary"}, "example": example}}}}


def file_response(data: bytes, mimetype: str, file_name: str) -> Response:
    """A document's file, to save under `file_name`."""
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{file_name}"'})
