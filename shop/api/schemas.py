"""Marshmallow schemas of /api/v1: each one validates or serialises a payload and documents it in OpenAPI."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_dump, validate

from shop import ordering
from shop.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from shop.api.idempotency import MAX_KEY_LENGTH
from shop.api.pagination import MAX_LIMIT, Cursor
from shop.catalog.models import Product, Variant
from shop.catalog.price_lists import variant_price_steps
from shop.catalog.tiers import Tier
from shop.complaints import rules as complaint_rules
from shop.documents.service import DocumentView
from shop.documents.views import DocumentSchema
from shop.invoicing.views import STATUSES as INVOICE_STATUSES
from shop.invoicing.views import InvoiceSchema
from shop.ordering.checks import (
    ADDRESS_FIELDS,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    MAX_LOT_NUMBER,
    MAX_PURCHASE_ORDER,
    MAX_SHELF_LIFE_DAYS,
)
from shop.ordering.models import OrderStatus
from shop.ordering.views import OrderSchema
from shop.platform.countries import COUNTRY_CODE_MESSAGE, is_country_code
from shop.platform.fields import DecimalString, OutSchema
from shop.platform.pagination import decode_cursor
from shop.quality.coa import Certificate
from shop.quality.models import SIGNER_CAPACITIES
from shop.sales.rules import MAX_NOTE
from shop.sales.views import QuoteSchema

CENT = Decimal("0.01")


# --- Errors -------------------------------------------------------------------------------------------

class ShortLineSchema(OutSchema):
    sku = fields.String(required=True)
    requested = fields.Integer(required=True, metadata={"description": "Units the order asked for."})
    available = fields.Integer(required=True, metadata={"description": "Units that could be allocated now."})
    outside_your_specification = fields.Integer(metadata={
        "description": "Only for a grade your company has a specification of: more units, in lots that do not "
                       "meet it (and are never allocated to you)."})
    lot_number = fields.String(metadata={"description": "Only for a line pinned to a lot: that lot."})
    reason = fields.String(metadata={
        "description": "Why the pinned lot (or, with `single_lot`, any one lot) cannot fill the line."})


class ProblemSchema(OutSchema):
    """An RFC 9457 problem; `type` ends in the problem's name, e.g. /problems/insufficient-stock."""

    type = fields.String(required=True, metadata={
        "format": "uri", "example": "https://shop.example/problems/validation-error",
        "description": "The problem type: its last segment is the problem's name, and the URI opens a page "
                       "(under /problems/) that says what it means and what to do."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "validation-error only: messages by field path, e.g. `lines.0.quantity`."})
    short_lines = fields.List(
        fields.Nested(ShortLineSchema),
        metadata={"description": "insufficient-stock only: every line that cannot be filled."})
    available_credit = fields.String(metadata={
        "description": "credit-limit-exceeded only: the credit the company has left (a decimal string), below "
                       "the order's total.", "example": "1250.00"})


# --- Pagination ---------------------------------------------------------------------------------------

_WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]*")


class QueryInteger(fields.Integer):
    """A whole number in a query string, written as JSON writes one: ASCII digits, no leading zero. Python's int()
    would also read " 5", "1_0", "05", "+5" or Arabic-Indic digits, each a guess at what was meant."""

    default_error_messages = {"invalid": "Not a whole number written in digits 0-9 (as 20, not 020, 2_0 or +20)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not (isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class PageQuerySchema(Schema):
    limit = QueryInteger(load_default=20, validate=validate.Range(1, MAX_LIMIT),
                         metadata={"description": f"Items per page, 1 to {MAX_LIMIT}."})


class ProductQuerySchema(PageQuerySchema):
    cursor = Cursor("products")


class UTCTimestamp(fields.AwareDateTime):
    """An RFC 3339 timestamp with its offset, as the instant in UTC; one that falls outside the years 1 to 9999 once
    in UTC (0001-01-01T00:00:00+14:00) is refused like any malformed one, not answered with a 500."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class OrderQuerySchema(PageQuerySchema):
    # Decoded below, as the cursor of the list it continues: newest placed first, or oldest change first.
    cursor = fields.String(metadata={"description": "`next_cursor` of the previous page of the same list (with or "
                                                    "without `updated_since`); empty: the first page."})
    status = fields.Enum(OrderStatus, by_value=True, metadata={"description": "Only orders in this status."})
    updated_since = UTCTimestamp(format="iso", metadata={
        "description": "Only orders changed at or after this time (RFC 3339, with its offset: `Z`, or `+` "
                       "written `%2B` in the URL), listed oldest "
                       "change first by (`updated_at`, `number`'s order): a changed order's `updated_at` moves "
                       "on, so following `next_cursor` meets an order again each time it changes. Changes of the "
                       "last few seconds (EVENTS_FEED_SETTLE_SECONDS, 5 by default) are listed once they are that "
                       "old, so that nothing still committing lands behind a page already read. To stay in sync, "
                       "keep the last page's `next_cursor` (or, on the last page, the last order's `updated_at`) "
                       "and ask again from there. From an `updated_at` the orders changed at that very instant are "
                       "listed again: keep each order's `version` and skip one you hold already.",
        "example": "2026-12-01T08:00:00Z"})

    @post_load
    def _decode_cursor(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        text = (data.pop("cursor", None) or "").strip()
        if text:  # an empty or blank cursor is the first page
            kind = "changed-orders" if "updated_since" in data else "orders"
            try:
                data["cursor"] = decode_cursor(kind, text)
            except ValueError as exc:
                raise ValidationError(str(exc), field_name="cursor") from None
        return data


def _page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "next_cursor": fields.String(required=True, allow_none=True,
                                     metadata={"description": "Pass as `cursor` for the next page; "
                                                              "null on the last page."}),
    }, name=name)


# --- Catalog ------------------------------------------------------------------------------------------

class SpecItemSchema(OutSchema):
    test = fields.String(attribute="name", required=True)
    min = DecimalString(attribute="min_value", allow_none=True, required=True)
    max = DecimalString(attribute="max_value", allow_none=True, required=True)
    unit = fields.String(required=True)
    method = fields.String(required=True)


PRICE_SOURCE = fields.String(required=True, metadata={
    "enum": ["contract", "list"],
    "description": "`contract`: your company's contract price list; `list`: the public price or price break."})


class PriceBreakSchema(OutSchema):
    min_quantity = fields.Integer(required=True)
    unit_price = DecimalString(places=2, required=True)
    price_source = PRICE_SOURCE


class VariantSchema(OutSchema):
    sku = fields.String(required=True)
    pack_size_kg = DecimalString(required=True)
    unit_price = DecimalString(places=2, required=True, metadata={"description": "Your unit price for one unit."})
    price_source = PRICE_SOURCE
    currency = fields.String(required=True, metadata={"example": "EUR"})
    price_breaks = fields.List(fields.Nested(PriceBreakSchema), required=True, metadata={
        "description": "Your unit price from `min_quantity` units up, wherever it changes: your company's "
                       "contract prices where they apply today, else the public price breaks."})
    min_order_quantity = fields.Integer(required=True)
    available_quantity = fields.Integer(required=True, metadata={
        "description": "Units that can be ordered now: released, unexpired lots, on hand minus allocated; for a "
                       "grade your company has a specification of, only lots that meet it."})


@dataclass(frozen=True)
class ProductWithStock:
    """A product together with its live availability per variant id and its current documents, as the API
    answers it."""

    product: Product
    available: dict[int, int]
    currency: str
    contract: dict[int, list[Tier]]  # the caller's contract tiers that apply today, per variant id
    documents: list[DocumentView]  # the current version of each kind


class ProductSchema(OutSchema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    grade = fields.String(required=True)
    cas_number = fields.String(required=True, metadata={"example": "61-90-5"})
    formula = fields.String(required=True, metadata={"example": "C6H13NO2"})
    molecular_weight = DecimalString(required=True, metadata={"example": "131.17"})
    description = fields.String(required=True)
    specification = fields.List(fields.Nested(SpecItemSchema), required=True)
    variants = fields.List(fields.Nested(VariantSchema), required=True)
    documents = fields.List(fields.Nested(DocumentSchema), required=True, metadata={
        "description": "The current version of each kind of document the grade has (the latest issued), in a "
                       "fixed order of kinds; earlier versions stay downloadable at their own `url`."})

    @pre_dump
    def _attach_stock(self, item: ProductWithStock, **kwargs: Any) -> dict[str, Any]:
        p = item.product
        return {
            "slug": p.slug, "name": p.name, "grade": p.grade, "cas_number": p.cas_number, "formula": p.formula,
            "molecular_weight": p.molecular_weight, "description": p.description,
            "specification": p.spec_tests,
            "variants": [_variant(v, item) for v in p.variants if v.active],
            "documents": item.documents,
        }


def _variant(v: Variant, item: ProductWithStock) -> dict[str, Any]:
    first, *rest = variant_price_steps(v, item.contract.get(v.id, ()), start=1)
    return {"sku": v.sku, "pack_size_kg": v.pack_size_kg, "unit_price": first.price.unit_price,
            "price_source": first.price.source, "currency": item.currency,
            "price_breaks": [{"min_quantity": s.min_quantity, "unit_price": s.price.unit_price,
                              "price_source": s.price.source} for s in rest],
            "min_order_quantity": v.min_order_quantity, "available_quantity": item.available.get(v.id, 0)}


ProductPageSchema = _page_schema(ProductSchema, "ProductPage")


class CoaResultSchema(OutSchema):
    test = fields.String(required=True)
    result = fields.String(required=True, allow_none=True,
                           metadata={"description": "As the lab reported it ('99.6', '< 5' below the limit of "
                                                    "quantification, 'conforms')."})
    min = DecimalString(allow_none=True, required=True)
    max = DecimalString(allow_none=True, required=True)
    unit = fields.String(required=True)
    passed = fields.Boolean(required=True)
    your_min = DecimalString(allow_none=True, metadata={
        "description": "Your company's minimum for this test (its specification of the grade); present only on "
                       "the tests your specification tightens, null when it sets only a maximum.",
        "example": "99.0"})
    your_max = DecimalString(allow_none=True, metadata={
        "description": "Your company's maximum for this test; present only on the tests your specification "
                       "tightens, null when it sets only a minimum."})
    meets_your_specification = fields.Boolean(metadata={
        "description": "Whether the result meets your company's limits for this test; present only on the tests "
                       "your specification tightens."})


@dataclass(frozen=True)
class CertificateForCompany:
    """A certificate as one company reads it: with its verdict against the company's specification (None
    without one)."""

    cert: Certificate
    verdict: Any  # shop.specifications.service.LotVerdict | None


class BatchSchema(OutSchema):
    lot_number = fields.String(required=True)
    product = fields.String(required=True, metadata={"description": "The product's slug."})
    manufactured_on = fields.Date(required=True)
    expires_on = fields.Date(required=True, metadata={"description": "The expiry date, or the retest date when "
                                                                     "`date_kind` is `retest`."})
    date_kind = fields.String(required=True, metadata={"enum": ["expiry", "retest"]})
    status = fields.String(required=True, metadata={
        "enum": ["released", "recalled"],
        "description": "`recalled`: the lot was recalled after release and must not be used; its certificate is "
                       "kept, with `recall_note` and `recalled_on`. Lots never released are 404."})
    released_on = fields.Date(required=True, allow_none=True,
                              metadata={"description": "The day of the release; kept after a recall."})
    released_by = fields.String(required=True, allow_none=True,
                                metadata={"description": "Who signed the release (name), null for a lot released "
                                                         "before releases were signed."})
    released_as = fields.String(required=True, allow_none=True, metadata={
        "enum": [*SIGNER_CAPACITIES, None],  # a nullable enum lists null
        "description": "In what capacity the release was signed, as the CoA says it: `quality unit`, or the "
                       "signer's real role for a release signed before only the quality unit could sign, such as "
                       "`admin (not the quality unit)`; null with `released_by`."})
    recall_note = fields.String(required=True, allow_none=True,
                                metadata={"description": "What the recall notice tells customers (the published "
                                                         "note, as on the CoA's RECALLED banner); null unless "
                                                         "`status` is `recalled`."})
    recalled_on = fields.Date(required=True, allow_none=True,
                              metadata={"description": "The day the lot was recalled (UTC); null unless `status` "
                                                       "is `recalled`."})
    results = fields.List(fields.Nested(CoaResultSchema), required=True)
    meets_your_specification = fields.Boolean(required=True, allow_none=True, metadata={
        "description": "Whether the lot meets your company's specification of its grade (every test it tightens; "
                       "see `PUT /api/v1/specifications/{slug}`); null when your company has none for this grade. "
                       "The grade's own verdict is each result's `passed`."})

    @pre_dump
    def _coa(self, item: Certificate | CertificateForCompany, **kwargs: Any) -> dict[str, Any]:
        cert, verdict = (item.cert, item.verdict) if isinstance(item, CertificateForCompany) else (item, None)
        yours = verdict.tests if verdict is not None else {}
        # In specification order, so the CoA reads like the printed one.
        results = [{"test": line.test, "result": line.result, "min": line.minimum, "max": line.maximum,
                    "unit": line.unit, "passed": line.passed,
                    **({"your_min": yours[line.test].min, "your_max": yours[line.test].max,
                        "meets_your_specification": yours[line.test].meets} if line.test in yours else {})}
                   for line in cert.lines]
        release = cert.release
        return {"lot_number": cert.lot_number, "product": cert.product_slug, "manufactured_on": cert.manufactured_on,
                "expires_on": cert.expires_on, "date_kind": cert.date_kind.value, "status": str(cert.status),
                "released_on": cert.released_on, "released_by": (release.name or release.email) if release else None,
                "released_as": release.capacity if release else None,
                "recall_note": cert.recall_note if cert.recalled else None, "recalled_on": cert.recalled_on,
                "results": results, "meets_your_specification": verdict.meets if verdict is not None else None}


# --- Customer specifications ------------------------------------------------------------------------

_LIMIT_VALUE = {"type": "string", "pattern": r"^[+-]?[0-9]{1,10}(\.[0-9]{1,4})?$"}


class LimitInSchema(Schema):
    test = fields.String(required=True, metadata={"description": "A numeric test of the grade's specification, by "
                                                                 "name (any letter case).",
                                                  "example": "Assay (dried basis)"})
    # Raw, not String: shop.specifications.rules.check_limits reads the value and says what is wrong with it
    # (a number instead of a string, a comma, an exponent), by field path.
    min = fields.Raw(allow_none=True, metadata={**_LIMIT_VALUE, "description": "Your minimum, a decimal string "
                                                "within the grade's limits.", "example": "99.0"})
    max = fields.Raw(allow_none=True, metadata={**_LIMIT_VALUE, "description": "Your maximum, a decimal string "
                                                "within the grade's limits.", "example": "101.0"})


class SpecificationInSchema(Schema):
    limits = fields.List(fields.Nested(LimitInSchema), required=True, metadata={
        "description": "Every test you tighten, each once, with a `min`, a `max` or both; they replace the "
                       "specification you had."})


class CustomerLimitSchema(OutSchema):
    test = fields.String(required=True)
    unit = fields.String(required=True)
    min = DecimalString(allow_none=True, required=True, metadata={"description": "Your minimum; null: none."})
    max = DecimalString(allow_none=True, required=True, metadata={"description": "Your maximum; null: none."})
    grade_min = DecimalString(allow_none=True, required=True, metadata={"description": "The grade's minimum."})
    grade_max = DecimalString(allow_none=True, required=True, metadata={"description": "The grade's maximum."})


class SpecificationSchema(OutSchema):
    product = fields.String(required=True, metadata={"description": "The product's slug."})
    limits = fields.List(fields.Nested(CustomerLimitSchema), required=True)
    updated_at = fields.DateTime(required=True)
    updated_by = fields.String(required=True, metadata={"description": "Who set it: a member's name (or e-mail "
                                                                       "address) or an API key's name."})


# --- Complaints ---------------------------------------------------------------------------------------

class ComplaintQuerySchema(PageQuerySchema):
    cursor = Cursor("complaints")


class ComplaintInSchema(Schema):
    # Plain strings: shop.complaints checks the values (an unknown order, SKU or lot, a category that is none of
    # them, an empty or overlong description) and answers every error at once, by field path.
    order = fields.String(required=True, metadata={"description": "The number of one of your company's orders.",
                                                   "example": "LS-2026-04711"})
    sku = fields.String(required=True, metadata={"description": "The SKU of the order's line it is about.",
                                                 "example": "LEU-USP-25KG"})
    lot_number = fields.String(allow_none=True, metadata={
        "description": "Only this one of the lots the line drew (any letter case); without it, all of them.",
        "example": "USP-2501"})
    category = fields.String(required=True, metadata={"enum": list(complaint_rules.CATEGORIES),
                                                      "example": "quality"})
    description = fields.String(required=True, metadata={
        "description": f"What is wrong, and where: 1 to {complaint_rules.MAX_DESCRIPTION} characters.",
        "maxLength": complaint_rules.MAX_DESCRIPTION,
        "example": "Two drums of the lot arrived with torn inner liners; the powder is caked."})


class ComplaintSchema(OutSchema):
    number = fields.String(required=True, metadata={"example": "C-2026-00012"})
    status = fields.String(required=True, metadata={
        "enum": ["open", "investigating", "closed"],
        "description": "`open` when filed, `investigating` once our quality unit works on it, `closed` when it "
                       "signed the resolution."})
    order = fields.String(required=True, metadata={"description": "The order's number."})
    sku = fields.String(required=True)
    lot_numbers = fields.List(fields.String(), required=True, metadata={
        "description": "The lots the complaint is about: the ones the line drew, or the one you named."})
    category = fields.String(required=True, metadata={"enum": list(complaint_rules.CATEGORIES)})
    description = fields.String(required=True)
    filed_at = fields.DateTime(required=True)
    resolution = fields.String(required=True, allow_none=True, metadata={
        "description": "What our quality unit found and did, once it closed the complaint; null until then."})


ComplaintPageSchema = _page_schema(ComplaintSchema, "ComplaintPage")


# --- Invoices -----------------------------------------------------------------------------------------

class InvoiceQuerySchema(PageQuerySchema):
    cursor = Cursor("invoices")
    status = fields.String(validate=validate.OneOf(INVOICE_STATUSES), metadata={
        "enum": list(INVOICE_STATUSES), "description": "Only documents in this status."})


InvoicePageSchema = _page_schema(InvoiceSchema, "InvoicePage")


# --- Orders -------------------------------------------------------------------------------------------

def _country_code(value: str) -> None:
    if not is_country_code(value):
        raise ValidationError(COUNTRY_CODE_MESSAGE)


class JsonBoolean(fields.Boolean):
    """A JSON true or false, nothing else (marshmallow's Boolean also takes "yes", 1, "on"...)."""

    default_error_messages = {"invalid": "true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


_QUANTITY_MESSAGE = "The quantity must be a whole number of units, at least 1."
# A quantity checked as the order and quote rules check it: too few and too many each say their own limit.
_QUANTITY_RANGE = [validate.Range(min=1, error=_QUANTITY_MESSAGE),
                   validate.Range(max=MAX_LINE_QUANTITY, error=f"At most {MAX_LINE_QUANTITY:,} units per line.")]


class LineInSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "LEU-USP-25KG"})
    quantity = fields.Integer(
        required=True, strict=True, validate=_QUANTITY_RANGE,
        error_messages={"invalid": _QUANTITY_MESSAGE},
        metadata={"description": "Units (packs), a JSON integer; at least the variant's minimum order quantity."})
    lot_number = fields.String(
        allow_none=True, validate=validate.Length(1, MAX_LOT_NUMBER),
        metadata={"description": "Draw the line from this lot only (any letter case): a sellable lot of the SKU's "
                                 "product, else 422; 409 `insufficient-stock` when it lacks the units, is too "
                                 "short-dated for the order or does not meet your specification.",
                  "example": "L2611-042"})


class ShippingAddressSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, ADDRESS_FIELDS["name"]))
    line1 = fields.String(required=True, validate=validate.Length(1, ADDRESS_FIELDS["line1"]))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=ADDRESS_FIELDS["line2"]))
    city = fields.String(required=True, validate=validate.Length(1, ADDRESS_FIELDS["city"]))
    postal_code = fields.String(required=True, validate=validate.Length(1, ADDRESS_FIELDS["postal_code"]))
    country = fields.String(required=True, validate=_country_code,
                            metadata={"description": "ISO 3166-1 alpha-2 code.", "example": "DE",
                                      "pattern": "^[A-Za-z]{2}$"})


class OrderInSchema(Schema):
    lines = fields.List(fields.Nested(LineInSchema), required=True,
                        validate=validate.Length(1, MAX_LINES, error=f"An order has 1 to {MAX_LINES} lines."),
                        metadata={"description": "One line per SKU; a SKU on two lines is refused."})
    shipping_address = fields.Nested(ShippingAddressSchema, required=True)
    purchase_order = fields.String(allow_none=True, validate=validate.Length(max=MAX_PURCHASE_ORDER),
                                   metadata={"description": "Your purchase-order reference."})
    min_remaining_shelf_life_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(0, MAX_SHELF_LIFE_DAYS),
        metadata={"description": "Only allocate lots that expire more than this many days from today."})
    single_lot = JsonBoolean(
        load_default=False,
        metadata={"description": "Fill each line from one lot: the earliest-expiring that can fill it whole."})
    allow_backorder = JsonBoolean(
        load_default=False,
        metadata={"description": "Take what is in stock now and backorder the rest of each short line (its "
                                 "`backordered_quantity`) instead of being refused with 409 `insufficient-stock`: "
                                 "backordered units are allocated when a lot is released, oldest order first."})

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """A body refused for its shape also names the lines whose SKU does not exist, so that a client can fix
        every line at once (a body of the right shape gets the same message from the order service)."""
        lines = data.get("lines") if isinstance(data, dict) else None
        messages = error.messages
        if not isinstance(lines, list) or len(lines) > MAX_LINES or not isinstance(messages, dict):
            return
        line_errors = messages.get("lines", {})
        if not isinstance(line_errors, dict):  # the list itself was refused (no lines, too many)
            return
        skus = {i: line.get("sku") for i, line in enumerate(lines)
                if isinstance(line, dict) and "sku" not in line_errors.get(i, {})}
        unknown = ordering.unknown_skus(skus.values())
        for i, sku in skus.items():
            if sku in unknown:
                line_errors.setdefault(i, {})["sku"] = [ordering.unknown_sku_message(sku)]
        if line_errors:
            messages["lines"] = line_errors


# The request header of a conditional GET (platform.conditional reads it), for the document: as a parameter of its own
# where the operation has no other (a header schema, blp.arguments, would also document a 422 that no If-None-Match can
# bring), else in ConditionalHeaderSchema beside the operation's other arguments.
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "The `ETag` of an answer you hold: while the answer would be the same bytes, it is "
                                "`304 Not Modified` without a body.",
                 "example": '"3f2a9c0d5e1b7a4f6c8d9e0a1b2c3d4e5f6a7b8c"'}


class ConditionalHeaderSchema(Schema):
    if_none_match = fields.String(data_key="If-None-Match", metadata={
        key: IF_NONE_MATCH[key] for key in ("description", "example")})


# The response header of a conditional GET's 200.
ETAG_HEADER = {"ETag": {"description": "A strong tag of this very body, for `If-None-Match`.",
                        "schema": {"type": "string"}}}
NOT_MODIFIED = "Not Modified: the answer is still the one whose `ETag` was sent in `If-None-Match` (no body)."


class IdempotencyHeaderSchema(Schema):
    key = fields.String(
        data_key=IDEMPOTENCY_HEADER, validate=validate.Length(1, MAX_KEY_LENGTH),
        metadata={"description": "Any unique string (a UUID is ideal). A retry with the same key and body gets "
                                 "the first answer again, with `Idempotent-Replayed: true`, for 24 hours. The key "
                                 "belongs to your company across operations: any of its API keys sending it again "
                                 "with the same request gets that answer, and the same key with another body or "
                                 "on another operation is 422 `idempotency-key-reused`; other companies' keys "
                                 "never meet yours. An answer of 400, 413, 415 or 422 (the request failed "
                                 "validation) is not kept, so the corrected request may use the same key; a "
                                 "refusal found by running the request (409, 403, 404) is kept and replayed.",
                  "example": "5f0c6d1e-8a53-4b8e-9c1f-2d7e0a9b4c31"})


OrderPageSchema = _page_schema(OrderSchema, "OrderPage")


class CompanySchema(OutSchema):
    name = fields.String(required=True, metadata={"description": "The company's legal name."})
    vat_id = fields.String(required=True, metadata={"description": "The VAT ID, compact (`DE136695976`); '' if none."})
    payment_terms = fields.String(required=True, metadata={
        "description": "`prepaid` (the default) or `net_<days>` (`net_30`): new orders are placed on these terms."})
    credit_limit = DecimalString(places=2, allow_none=True, required=True, metadata={
        "description": "On net terms, orders whose `total` (VAT included) would take the open exposure above this "
                       "are refused (409 `credit-limit-exceeded`); null: no limit."})
    approval_threshold = DecimalString(places=2, allow_none=True, required=True, metadata={
        "description": "Orders by a buyer whose `total` (VAT included) is above this wait for an approver; "
                       "null: none wait."})
    open_exposure = DecimalString(places=2, required=True, metadata={
        "description": "What the company owes or will owe: the gross totals of its orders neither cancelled nor "
                       "fully invoiced (their uninvoiced part) plus what is still due on its invoices. Payments "
                       "and credit notes lower it; below zero, a credit note gave back money the company had paid "
                       "that is not refunded yet."})
    available_credit = DecimalString(places=2, allow_none=True, required=True, metadata={
        "description": "Credit limit minus open exposure (below zero when a limit was lowered under it); null "
                       "without a limit."})


class CancelInSchema(Schema):
    """A cancellation takes no members yet; an unknown one is refused (422), never silently dropped."""


class DecisionInSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500),
                         metadata={"description": "Told to the buyer who placed the order."})


# --- Quotes -------------------------------------------------------------------------------------------

class QuoteQuerySchema(PageQuerySchema):
    # Passed on as sent: shop.sales decodes it, and a damaged one is 422 at `cursor`.
    cursor = fields.String(metadata={"description": "`next_cursor` of the previous page; empty or absent: the "
                                                    "first page."})


class QuoteLineInSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "LEU-USP-25KG"})
    quantity = fields.Integer(
        required=True, strict=True, validate=_QUANTITY_RANGE,
        error_messages={"invalid": _QUANTITY_MESSAGE},
        metadata={"description": "Units (packs) to be quoted for, a JSON integer."})


class QuoteInSchema(Schema):
    # The shapes only: shop.sales checks the values (an unknown SKU, a SKU twice, `needed_by` in the past, an
    # overlong note) and answers every error at once, by field path.
    lines = fields.List(fields.Nested(QuoteLineInSchema), required=True,
                        validate=validate.Length(1, MAX_LINES, error=f"A quote has 1 to {MAX_LINES} lines."),
                        metadata={"description": "One line per SKU; a SKU on two lines is refused."})
    min_remaining_shelf_life_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(0, MAX_SHELF_LIFE_DAYS),
        metadata={"description": "The shelf life the goods must have left, in days: a hold sets aside only lots "
                                 "that expire later than that."})
    needed_by = fields.Date(allow_none=True, metadata={"description": "When you need the goods (today or later).",
                                                       "example": "2026-04-15"})
    note = fields.String(allow_none=True, metadata={"description": "Anything sales should know (delivery schedule, "
                                                                   f"documents needed), up to {MAX_NOTE} characters.",
                                                    "maxLength": MAX_NOTE})


class AcceptQuoteInSchema(Schema):
    shipping_address = fields.Nested(ShippingAddressSchema, required=True)
    purchase_order = fields.String(allow_none=True, validate=validate.Length(max=MAX_PURCHASE_ORDER),
                                   metadata={"description": "Your purchase-order reference."})


class DeclineQuoteInSchema(Schema):
    """A decline takes no members; an unknown one is refused (422), never silently dropped."""


QuotePageSchema = _page_schema(QuoteSchema, "QuotePage")
