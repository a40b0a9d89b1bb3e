"""How a product document version is serialised wherever the shop answers with one (a product, an order)."""
from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import fields, pre_dump

from shop.documents.rules import DocumentKind, Validity
from shop.documents.service import DocumentView
from shop.platform.fields import OutSchema
from shop.platform.mail import absolute_url


class DocumentSchema(OutSchema):
    kind = fields.String(required=True, metadata={
        "enum": [k.value for k in DocumentKind],
        "description": "What the document is: a safety or technical data sheet (`sds`, `tds`), the specification "
                       "sheet, or a certificate (`gmp`, `iso_22000`, `fssc_22000`, `halal`, `kosher`, `non_gmo`, "
                       "`allergen` statement)."})
    title = fields.String(required=True, metadata={"example": "Kosher certificate (OU)"})
    version = fields.String(required=True, metadata={"description": "As the document names it.",
                                                     "example": "2026-1"})
    issued_on = fields.Date(required=True)
    valid_until = fields.Date(required=True, allow_none=True, metadata={
        "description": "The last day the document is valid; null for one without an end (data sheets)."})
    expired = fields.Boolean(required=True, metadata={
        "description": "Whether `valid_until` has passed (today, UTC): a newer version may exist."})
    url = fields.String(required=True, metadata={
        "format": "uri", "example": "https://shop.example/documents/12/l-leucine-usp-kosher-2026-1.pdf",
        "description": "The PDF, answered as `application/pdf` with `Content-Disposition: attachment`; no key "
                       "needed. Each version keeps its address when newer versions exist."})

    @pre_dump
    def _with_url(self, document: DocumentView, **kwargs: Any) -> dict[str, Any]:
        return {"kind": document.kind.value, "title": document.title, "version": document.version,
                "issued_on": document.issued_on, "valid_until": document.valid_until,
                "expired": document.validity(date.today()) == Validity.EXPIRED,
                "url": absolute_url("storefront.document_file", document_id=document.id,
                                    file_name=document.file_name)}
