"""Files that people upload: checked by what they contain, never by their name or the browser's content type, and
bounded in size (`UPLOAD_MAX_BYTES`, 20 MB unless configured).

A PDF must begin as a PDF and parse as one with at least one page, unencrypted (a buyer must be able to open it); an
image must decode as PNG or JPEG. An HTML page or a script named `.pdf` is refused with a sentence for the field.

The app refuses request bodies over MAX_CONTENT_LENGTH (1 MiB) before any view runs; a view that takes files wears
`@accepts_upload(files=n)`, which raises that limit for its own requests only, before the form (and the CSRF token
in it) is read."""
from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from shop.platform.errors import InvalidInput

# What a person may upload, by the kind read from the content: the type it is served as and the stored name's end.
KINDS = {"pdf": ("application/pdf", ".pdf"), "png": ("image/png", ".png"), "jpeg": ("image/jpeg", ".jpg")}
KIND_WORDS = {"pdf": "a PDF", "png": "a PNG image", "jpeg": "a JPEG image"}
MAX_IMAGE_PIXELS = 50_000_000  # a photo of a torn bag needs far fewer; more is a decompression bomb
FORM_ROOM_BYTES = 64 * 1024  # the form's other fields and the multipart boundaries around the files


@dataclass(frozen=True, slots=True)
class Upload:
    """A checked file: its bytes, its kind ('pdf', 'png', 'jpeg'), the content type to serve it with and the
    suffix of the name to store it under."""

    data: bytes
    kind: str
    content_type: str
    suffix: str


def check_upload(data: bytes, *, kinds: Collection[str] = ("pdf",), field: str = "file",
                 max_bytes: int | None = None) -> Upload:
    """`data` as an Upload when it is one of `kinds` by its content and within the size limit; else InvalidInput
    naming `field`."""
    limit = max_bytes if max_bytes is not None else current_app.config["UPLOAD_MAX_BYTES"]
    expected = " or ".join(KIND_WORDS[kind] for kind in kinds)
    if not data:
        raise InvalidInput({field: ["The file is empty: choose the file again."]})
    if len(data) > limit:
        raise InvalidInput({field: [f"The file is {_megabytes(len(data))}; at most {_megabytes(limit)} is "
                                    f"accepted."]})
    kind = _kind(data)
    if kind is None or kind not in kinds:
        raise InvalidInput({field: [f"This file is not {expected} (it was read, not judged by its name)."]})
    problem = _pdf_problem(data) if kind == "pdf" else _image_problem(data, kind)
    if problem:
        raise InvalidInput({field: [problem]})
    content_type, suffix = KINDS[kind]
    return Upload(data=data, kind=kind, content_type=content_type, suffix=suffix)


def _kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def _pdf_problem(data: bytes) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about repairable flaws; a readable PDF is accepted
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                return "This PDF is password-protected: upload one that anyone can open."
            if len(reader.pages) < 1:
                return "This PDF has no pages."
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return "This file begins like a PDF but is not one that can be read: export it again as PDF."
    return None


def _image_problem(data: bytes, kind: str) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return f"This image has {width}×{height} pixels; at most {MAX_IMAGE_PIXELS:,} are accepted."
            if image.format != {"png": "PNG", "jpeg": "JPEG"}[kind]:
                return f"This file is not {KIND_WORDS[kind]}."
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return f"This file begins like {KIND_WORDS[kind]} but cannot be read: save it again and retry."
    return None


def _megabytes(size: int) -> str:
    """A file size as people read it: '20.0 MB', '2.0 kB' (decimal units, as file browsers show them)."""
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def accepts_upload(view: Callable[..., Any] | None = None, *, files: int = 1) -> Any:
    """Mark a view as taking up to `files` uploaded files: its requests may carry that many files of
    UPLOAD_MAX_BYTES each, plus the form around them. Use as `@accepts_upload` or `@accepts_upload(files=3)`."""
    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def marked(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

        marked.upload_files = files  # type: ignore[attr-defined]
        return marked

    return mark(view) if view is not None else mark


def init_uploads(app: Flask) -> None:
    """Raise the body limit for the views marked with accepts_upload; registered before CSRF protection, which
    reads the form in its own before_request."""

    @app.before_request
    def allow_upload_body() -> None:
        files = getattr(app.view_functions.get(request.endpoint or ""), "upload_files", 0)
        if files:
            request.max_content_length = files * app.config["UPLOAD_MAX_BYTES"] + FORM_ROOM_BYTES
