"""/api/v1/specifications: your company's own, tighter limits on a grade's numeric tests."""
from __future__ import annotations

from flask.views import MethodView

from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.schemas import SpecificationInSchema, SpecificationSchema
from shop.platform.extensions import db
from shop.specifications import service

specifications_blp = ApiBlueprint(
    "specifications", __name__, url_prefix="/api/v1/specifications",
    description="Your company's specification of a grade: a minimum and/or maximum on any numeric test, within the "
                "grade's own limits. Your orders are filled only from lots that meet it, `available_quantity` "
                "counts only those, and a lot's certificate says whether it meets it (`meets_your_specification`). "
                "Every key reads it; setting or removing it needs a key with the `approver` or `admin` role.")
EDITING = ("Needs a key with the `approver` or `admin` role; a buyer key gets 403 `forbidden` and changes nothing.")


@specifications_blp.route("/<string:slug>")
class Specification(MethodView):
    @specifications_blp.doc(operationId="getSpecification")
    @specifications_blp.response(200, SpecificationSchema)
    @specifications_blp.alt_response(404, response="NOT_FOUND")
    def get(self, slug: str):
        """Get your company's specification of a grade

        Each limit with the grade's own beside it. 404 when the grade is unknown or your company has none.
        """
        return service.get_specification(current_customer().company_id, slug)

    @specifications_blp.doc(operationId="putSpecification")
    @specifications_blp.arguments(SpecificationInSchema())
    @specifications_blp.response(200, SpecificationSchema)
    @specifications_blp.alt_response(403, description=EDITING)
    @specifications_blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, slug: str):
        """Set your company's specification of a grade

        The limits replace the ones you had. Each names a numeric test of the grade and gives a `min`, a `max`
        or both as decimal strings, within the grade's own limits (a specification only tightens it). An unknown
        test, a test without numeric limits ('conforms'), a number that is not a decimal string, a min above the
        max or a limit looser than the grade's is 422 with `errors` by field path (`limits.0.min`), and nothing
        changes. It applies at once: to availability, to the lots your next orders are filled from, and to
        certificates. Needs a key with the `approver` or `admin` role (else 403).
        """
        customer = current_customer()
        service.check_may_edit(customer.role)
        spec = service.put_specification(customer.company_id, slug, data["limits"], customer.actor_name)
        db.session.commit()
        return spec

    @specifications_blp.doc(operationId="deleteSpecification")
    @specifications_blp.response(204, description="Removed (or there was none): the grade's own limits apply.")
    @specifications_blp.alt_response(403, description=EDITING)
    @specifications_blp.alt_response(404, response="NOT_FOUND")
    def delete(self, slug: str):
        """Remove your company's specification of a grade

        204 also when there was none; 404 for an unknown grade. Needs a key with the `approver` or `admin` role
        (else 403).
        """
        customer = current_customer()
        service.check_may_edit(customer.role)
        service.delete_specification(customer.company_id, slug)
        db.session.commit()
        return ""
