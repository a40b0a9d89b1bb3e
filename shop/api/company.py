"""/api/v1/company: the caller's company, its terms and its open exposure."""
from __future__ import annotations

from flask.views import MethodView

from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.schemas import CompanySchema
from shop.ordering import exposure

company_blp = ApiBlueprint("company", __name__, url_prefix="/api/v1/company",
                           description="Your company: its terms, credit and approval threshold.")


@company_blp.route("")
class CompanyDetail(MethodView):
    @company_blp.doc(operationId="getCompany")
    @company_blp.response(200, CompanySchema)
    def get(self):
        """Get your company

        Its legal name, VAT ID, payment terms, credit limit, approval threshold, open exposure and available
        credit.
        """
        return exposure.company_view(current_customer().company_id)
