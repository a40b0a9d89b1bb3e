"""/api/v1/complaints: file a complaint on a line of one of your orders, and follow it to its signed close."""
from __future__ import annotations

from flask import Response, url_for
from flask.views import MethodView
from marshmallow import RAISE

from shop.api import idempotency
from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.pagination import encode_cursor
from shop.api.schemas import (
    ComplaintInSchema,
    ComplaintPageSchema,
    ComplaintQuerySchema,
    ComplaintSchema,
    IdempotencyHeaderSchema,
)
from shop.complaints import service

complaints_blp = ApiBlueprint(
    "complaints", __name__, url_prefix="/api/v1/complaints",
    description="Complaints about a delivery: filed on a line of one of your orders (and so on the lots it drew), "
                "investigated by our quality unit (root cause, corrective and preventive action) and closed with a "
                "signed resolution. Each change is a `complaint.updated` event, and an e-mail to whoever filed it.")

LOCATION_HEADER = {"description": "URL of the new complaint.", "schema": {"type": "string"}}
_COMPLAINT_SCHEMA = ComplaintSchema()


@complaints_blp.route("")
class Complaints(MethodView):
    @complaints_blp.doc(operationId="listComplaints")
    @complaints_blp.arguments(ComplaintQuerySchema(), location="query", unknown=RAISE)
    @complaints_blp.response(200, ComplaintPageSchema)
    def get(self, args):
        """List your company's complaints, newest first

        Cursor-paginated.
        """
        limit, company_id = args["limit"], current_customer().company_id
        rows = service.list_complaints(company_id, limit + 1, args.get("cursor"))
        page, more = rows[:limit], len(rows) > limit
        return {"items": [row.complaint for row in page],
                "next_cursor": encode_cursor("complaints", *page[-1].key) if more else None}

    @complaints_blp.doc(operationId="fileComplaint")
    @complaints_blp.arguments(IdempotencyHeaderSchema(), location="headers")
    @complaints_blp.arguments(ComplaintInSchema(), description="The order line, the lot if only one, and the problem.")
    @complaints_blp.response(201, ComplaintSchema,
                             headers={"Location": LOCATION_HEADER, **idempotency.RESPONSE_HEADERS},
                             description="Filed: `open`, with the lots it is about.")
    def post(self, headers, data):
        """File a complaint

        On a line (`sku`) of one of your orders, about every lot the line drew, or only the one in `lot_number`.
        An unknown order, a SKU the order has no line of, a lot the line did not draw, a `category` that is none of
        `quality`, `delivery`, `documentation`, `other`, and an empty or overlong `description` are 422 with
        `errors` by field path, and nothing is filed; another company's order is answered as an unknown one (422).
        Attach photos or PDFs on the order's page in the shop. Send an `Idempotency-Key` so that a retry never files
        the complaint twice.
        """
        customer = current_customer()

        def file() -> object:
            return _COMPLAINT_SCHEMA.dump(service.file_complaint(customer, data["order"], data["sku"],
                                                                 data.get("lot_number"), data["category"],
                                                                 data["description"]))

        return _located(idempotency.respond(customer.company_id, headers.get("key"), file, 201))


@complaints_blp.route("/<string:number>")
class ComplaintDetail(MethodView):
    @complaints_blp.doc(operationId="getComplaint")
    @complaints_blp.response(200, ComplaintSchema)
    @complaints_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your company's complaints

        `resolution` is null until our quality unit closes it. Another company's complaint is 404.
        """
        return service.get_complaint(current_customer().company_id, number)


def _located(response: Response) -> Response:
    """A new (or replayed) complaint's answer with its Location."""
    if response.status_code == 201:
        response.headers["Location"] = url_for("complaints.ComplaintDetail", number=response.get_json()["number"])
    return response
