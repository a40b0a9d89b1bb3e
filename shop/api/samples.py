"""/api/v1/sample-requests: ask for a sample of a grade (idempotently), and follow it until it ships from a lot."""
from __future__ import annotations

from flask import Response, url_for
from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from shop.api import idempotency
from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.pagination import Cursor
from shop.api.schemas import IdempotencyHeaderSchema, PageQuerySchema, ShippingAddressSchema, _page_schema
from shop.ordering.views import AddressOutSchema
from shop.platform.fields import OutSchema
from shop.sales import samples
from shop.sales.models import SampleStatus

samples_blp = ApiBlueprint(
    "samples", __name__, url_prefix="/api/v1/sample-requests",
    description="Samples of a grade for your lab: ask for some grams, and we ship them from a released lot (its "
                "lot number and tracking reference once shipped) or tell you why we cannot. Each answer is also "
                "e-mailed to whoever asked (for an API key: its maker).")

LOCATION_HEADER = {"description": "URL of the new sample request.", "schema": {"type": "string"}}


class SampleQuerySchema(PageQuerySchema):
    cursor = Cursor("samples")


class SampleInSchema(Schema):
    product = fields.String(required=True, validate=validate.Length(1, 80), metadata={
        "description": "The grade's slug, as `GET /api/v1/products` lists it.", "example": "l-leucine-usp"})
    quantity_g = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, samples.MAX_GRAMS, error=samples.GRAMS_MESSAGE),
        error_messages={"invalid": samples.GRAMS_MESSAGE},
        metadata={"description": f"Grams, a JSON integer from 1 to {samples.MAX_GRAMS}.", "example": 250})
    note = fields.String(allow_none=True, validate=validate.Length(max=samples.MAX_NOTE), metadata={
        "description": "For our sales team: what the sample is for, who in your lab receives it."})
    shipping_address = fields.Nested(ShippingAddressSchema, required=True)


class SampleSchema(OutSchema):
    number = fields.String(required=True, metadata={"example": "S-2026-00007"})
    status = fields.String(required=True, metadata={
        "enum": [s.value for s in SampleStatus],
        "description": "`requested` until our sales team answers; then `shipped` (from `lot_number`) or "
                       "`declined` (`decline_reason` says why)."})
    product = fields.String(required=True, metadata={"description": "The grade's slug."})
    quantity_g = fields.Integer(required=True, metadata={"description": "Grams asked for."})
    note = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    shipping_address = fields.Nested(AddressOutSchema, required=True)
    lot_number = fields.String(required=True, allow_none=True, metadata={
        "description": "The lot the sample came from (its CoA: `GET /api/v1/batches/<lot_number>`); null until "
                       "shipped."})
    shipped_at = fields.DateTime(required=True, allow_none=True)
    tracking_reference = fields.String(required=True, allow_none=True, metadata={
        "description": "The carrier's reference; null until shipped."})
    decline_reason = fields.String(required=True, allow_none=True, metadata={
        "description": "Why we cannot send it; null unless declined."})


SamplePageSchema = _page_schema(SampleSchema, "SamplePage")
_SAMPLE_SCHEMA = SampleSchema()


@samples_blp.route("")
class SampleRequests(MethodView):
    @samples_blp.doc(operationId="listSampleRequests")
    @samples_blp.arguments(SampleQuerySchema(), location="query", unknown=RAISE)
    @samples_blp.response(200, SamplePageSchema)
    def get(self, args):
        """List your company's sample requests, newest first

        Cursor-paginated.
        """
        page = samples.list_samples(current_customer().company_id, args["limit"], args.get("cursor"))
        return {"items": page.rows, "next_cursor": page.next_cursor}

    @samples_blp.doc(operationId="requestSample")
    @samples_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @samples_blp.arguments(SampleInSchema(), description="The grade, how many grams, and where to send them.")
    @samples_blp.response(201, SampleSchema, headers={"Location": LOCATION_HEADER, **idempotency.RESPONSE_HEADERS},
                          description="Asked for: `requested`, waiting for our sales team.")
    def post(self, headers, data):
        """Ask for a sample of a grade

        An unknown `product`, grams that are not a whole number from 1 to 5000, an overlong `note` and a bad
        address are 422 with `errors` by field path, and nothing is stored. Send an `Idempotency-Key` so that a
        retry never asks twice.
        """
        customer = current_customer()

        def ask() -> object:
            return _SAMPLE_SCHEMA.dump(samples.request_sample(customer, data["product"], data["quantity_g"],
                                                              data.get("note"), data["shipping_address"]))

        response = idempotency.respond(customer.company_id, headers.get("key"), ask, 201)
        return _located(response)


def _located(response: Response) -> Response:
    """A new (or replayed) request's answer with its Location."""
    if response.status_code == 201:
        number = response.get_json()["number"]
        response.headers["Location"] = url_for("samples.SampleRequestDetail", number=number)
    return response


@samples_blp.route("/<string:number>")
class SampleRequestDetail(MethodView):
    @samples_blp.doc(operationId="getSampleRequest")
    @samples_blp.response(200, SampleSchema)
    @samples_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your company's sample requests

        `lot_number`, `shipped_at` and `tracking_reference` once it shipped. Another company's is 404.
        """
        return samples.get_sample(number, current_customer().company_id)
