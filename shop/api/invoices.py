"""/api/v1/invoices: your company's invoices and credit notes, each as JSON, as its Factur-X PDF and as its CII XML."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import RAISE

from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.files import binary_answer, file_response
from shop.api.schemas import InvoicePageSchema, InvoiceQuerySchema, InvoiceSchema
from shop.invoicing import documents, views
from shop.platform.pagination import page_of

invoices_blp = ApiBlueprint(
    "invoices", __name__, url_prefix="/api/v1/invoices",
    description="Your invoices and credit notes: issued when goods ship (one per shipment), numbered without gaps "
                "per calendar year (`INV-2026-000123`, credit notes `CN-2026-000007`), never changed once issued. "
                "Each is also a Factur-X (EN 16931) PDF with its CII XML embedded, and the XML alone.")


@invoices_blp.route("")
class Invoices(MethodView):
    @invoices_blp.doc(operationId="listInvoices")
    @invoices_blp.arguments(InvoiceQuerySchema(), location="query", unknown=RAISE)
    @invoices_blp.response(200, InvoicePageSchema)
    def get(self, args):
        """List your company's invoices and credit notes, newest first

        Newest issue date first; filter with `?status=` (`open`, `paid`, `credited`); cursor-paginated.
        """
        limit = args["limit"]
        rows = views.list_documents(company_id=current_customer().company_id, status=args.get("status"),
                                    limit=limit + 1, after=args.get("cursor"))
        page = page_of("invoices", rows, limit, views.page_key)
        return {"items": page.rows, "next_cursor": page.next_cursor}


@invoices_blp.route("/<string:number>")
class InvoiceDetail(MethodView):
    @invoices_blp.doc(operationId="getInvoice")
    @invoices_blp.response(200, InvoiceSchema)
    @invoices_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your company's invoices or credit notes

        By its number, in any letter case. Another company's is 404.
        """
        return views.get_document(number, current_customer().company_id)


@invoices_blp.route("/<string:number>.pdf")
class InvoicePdf(MethodView):
    @invoices_blp.doc(operationId="getInvoicePdf", responses=binary_answer(
        "application/pdf", "The Factur-X PDF (PDF/A-3, profile EN 16931) with its CII XML embedded as "
                           "`factur-x.xml`.", "%PDF-1.7 …"))
    @invoices_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your invoices or credit notes as its Factur-X PDF

        What you file, and what an ERP reads without typing: the EN 16931 XML is inside. Another company's is 404.
        """
        document = views.get_document(number, current_customer().company_id)
        return file_response(documents.pdf_of(document), "application/pdf", f"{document.number}.pdf")


@invoices_blp.route("/<string:number>.xml")
class InvoiceXml(MethodView):
    @invoices_blp.doc(operationId="getInvoiceXml", responses=binary_answer(
        "application/xml", "The Cross Industry Invoice XML (Factur-X, profile EN 16931), as embedded in the PDF.",
        "<?xml version='1.0' encoding='UTF-8'?>\n<rsm:CrossIndustryInvoice xmlns:rsm=\"urn:un:unece:uncefact:data:"
        "standard:CrossIndustryInvoice:100\">…</rsm:CrossIndustryInvoice>"))
    @invoices_blp.alt_response(404, response="NOT_FOUND")
    def get(self, number: str):
        """Get one of your invoices or credit notes as its CII XML alone

        For systems that want only the XML: what the PDF carries as `factur-x.xml`. Another company's is 404.
        """
        document = views.get_document(number, current_customer().company_id)
        return file_response(documents.xml_of(document), "application/xml", f"{document.number}.xml")
