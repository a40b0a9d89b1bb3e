"""The demo catalog: four grades of L-Leucine with specifications, pack sizes, price breaks, lots and supplier
documents (an SDS, a specification sheet and certificates per grade, as real PDFs); a company on net terms with a
history of invoices in every ageing bucket, a partial payment and a credit note."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from sqlalchemy import select, update

from shop import fulfilment, ordering
from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import Customer, StaffRole, StaffUser
from shop.catalog.models import PriceBreak, Product, SpecTest, Variant
from shop.documents import service as documents
from shop.documents.models import ProductDocument
from shop.documents.rules import DocumentKind
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, DateKind
from shop.invoicing import issuing, payments
from shop.invoicing.models import Invoice
from shop.lab.models import CoaResult, CoaResultRevision
from shop.ordering.models import Order, OrderStatus
from shop.platform import outbox, pdf
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.pdf import escape
from shop.platform.uploads import check_upload
from shop.quality import release
from shop.quality.coa import Issuer, issuer
from shop.quality.models import SignedAction
from shop.quality.signatures import Signature, meaning

D = Decimal

# (name, min, max, unit, method); None for no limit on that side, both None for a pass/fail test.
USP_SPEC = [
    ("Appearance", None, None, "", "Visual: white crystalline powder"),
    ("Identification (IR)", None, None, "", "USP <197K>"),
    ("Assay (dried basis)", D("98.5"), D("101.5"), "%", "USP titration"),
    ("Specific rotation", D("14.9"), D("17.3"), "°", "USP <781S>"),
    ("Loss on drying", None, D("0.2"), "%", "USP <731>"),
    ("Residue on ignition", None, D("0.4"), "%", "USP <281>"),
    ("Chloride", None, D("0.05"), "%", "USP <221>"),
    ("Sulfate", None, D("0.03"), "%", "USP <221>"),
    ("Iron", None, D("30"), "ppm", "USP <241>"),
    # Elemental impurities, not the heavy-metals test of USP <231> (withdrawn in 2018): the limits of USP <232>
    # and ICH Q3D (Option 1) for an oral drug product taken up to 10 g a day, in ppm (µg/g), measured as <233> says.
    ("Lead (Pb)", None, D("0.5"), "ppm", "ICP-MS, USP <233>"),
    ("Arsenic (As)", None, D("1.5"), "ppm", "ICP-MS, USP <233>"),
    ("Cadmium (Cd)", None, D("0.5"), "ppm", "ICP-MS, USP <233>"),
    ("Mercury (Hg)", None, D("3"), "ppm", "ICP-MS, USP <233>"),
]
EP_SPEC = [
    ("Appearance", None, None, "", "Visual"),
    ("Identification (IR)", None, None, "", "Ph. Eur. 2.2.24"),
    ("Assay (dried basis)", D("98.5"), D("101.0"), "%", "Ph. Eur. titration"),
    ("Specific optical rotation", D("14.5"), D("16.5"), "°", "Ph. Eur. 2.2.7"),
    ("Loss on drying", None, D("0.2"), "%", "Ph. Eur. 2.2.32"),
    ("Sulfated ash", None, D("0.1"), "%", "Ph. Eur. 2.4.14"),
    ("Chlorides", None, D("200"), "ppm", "Ph. Eur. 2.4.4"),
    ("Sulfates", None, D("300"), "ppm", "Ph. Eur. 2.4.13"),
    ("Iron", None, D("10"), "ppm", "Ph. Eur. 2.4.9"),
]
FCC_SPEC = [
    ("Appearance", None, None, "", "Visual"),
    ("Assay (dried basis)", D("98.5"), D("101.5"), "%", "FCC titration"),
    ("Specific rotation", D("14.5"), D("16.5"), "°", "FCC"),
    ("Loss on drying", None, D("0.2"), "%", "FCC"),
    ("Residue on ignition", None, D("0.1"), "%", "FCC"),
    ("Lead", None, D("1"), "mg/kg", "ICP-MS"),
]
FEED_SPEC = [
    ("Appearance", None, None, "", "Visual: white to off-white powder"),
    ("Assay", D("98.0"), None, "%", "HPLC"),
    ("Loss on drying", None, D("0.5"), "%", "Gravimetric"),
    ("Residue on ignition", None, D("0.5"), "%", "Gravimetric"),
    ("Arsenic", None, D("2"), "mg/kg", "ICP-MS"),
    ("Lead", None, D("5"), "mg/kg", "ICP-MS"),
]

PRODUCTS = [
    {
        "slug": "l-leucine-usp", "name": "L-Leucine USP", "grade": "USP", "spec": USP_SPEC,
        "description": "Pharmaceutical-grade L-Leucine tested to the current USP monograph. For clinical "
                       "nutrition, parenteral and enteral formulations and amino-acid infusions where every "
                       "lot must be traceable to its Certificate of Analysis.",
        "variants": [("LEU-USP-1KG", "1", "96.00", 1, [(10, "89.00")]),
                     ("LEU-USP-5KG", "5", "430.00", 1, [(4, "405.00"), (10, "385.00")]),
                     ("LEU-USP-25KG", "25", "1950.00", 1, [(4, "1850.00"), (10, "1760.00")])],
    },
    {
        "slug": "l-leucine-ep", "name": "L-Leucine Ph. Eur.", "grade": "EP", "spec": EP_SPEC,
        "description": "L-Leucine meeting the European Pharmacopoeia monograph, released by our quality unit "
                       "for medicinal products and food supplements sold in the EU.",
        "variants": [("LEU-EP-1KG", "1", "92.00", 1, [(10, "86.00")]),
                     ("LEU-EP-5KG", "5", "415.00", 1, [(4, "392.00")]),
                     ("LEU-EP-25KG", "25", "1890.00", 1, [(4, "1795.00"), (10, "1700.00")])],
    },
    {
        "slug": "l-leucine-fcc", "name": "L-Leucine FCC food grade", "grade": "FCC", "spec": FCC_SPEC,
        "description": "Food-grade L-Leucine to the Food Chemicals Codex, for sports-nutrition powders, "
                       "BCAA blends and ready-to-mix drinks. Also used as flavour enhancer E641.",
        "variants": [("LEU-FCC-1KG", "1", "48.00", 1, [(10, "44.00")]),
                     ("LEU-FCC-5KG", "5", "215.00", 1, [(4, "204.00")]),
                     ("LEU-FCC-25KG", "25", "980.00", 1, [(4, "930.00"), (20, "880.00")])],
    },
    {
        "slug": "l-leucine-feed", "name": "L-Leucine feed grade", "grade": "Feed", "spec": FEED_SPEC,
        "description": "Feed-grade L-Leucine for premixes and compound feed. Supplied in 25 kg bags and "
                       "500 kg big bags; minimum order of two bags.",
        "variants": [("LEU-FEED-25KG", "25", "610.00", 2, [(10, "575.00"), (40, "540.00")]),
                     ("LEU-FEED-500KG", "500", "11500.00", 1, [(4, "11000.00")])],
    },
]

# (product slug, lot number, months since manufacture, shelf life months, units per SKU, fate); FD-2504 carries
# a retest date rather than an expiry date, and FCC-2406 (two months left) is sold only on request.
LOTS = [
    ("l-leucine-usp", "USP-2501", 14, 36, {"LEU-USP-1KG": 40, "LEU-USP-5KG": 20, "LEU-USP-25KG": 12}, "released"),
    ("l-leucine-usp", "USP-2507", 8, 36, {"LEU-USP-1KG": 60, "LEU-USP-5KG": 30, "LEU-USP-25KG": 24}, "released"),
    ("l-leucine-usp", "USP-2611", 1, 36, {"LEU-USP-25KG": 40}, "quarantine"),
    ("l-leucine-ep", "EP-2503", 12, 36, {"LEU-EP-1KG": 50, "LEU-EP-5KG": 20, "LEU-EP-25KG": 16}, "released"),
    ("l-leucine-ep", "EP-2509", 6, 36, {"LEU-EP-5KG": 20, "LEU-EP-25KG": 30}, "released"),
    ("l-leucine-fcc", "FCC-2502", 13, 24, {"LEU-FCC-1KG": 80, "LEU-FCC-5KG": 40, "LEU-FCC-25KG": 60}, "released"),
    ("l-leucine-fcc", "FCC-2508", 7, 24, {"LEU-FCC-1KG": 80, "LEU-FCC-25KG": 80}, "released"),
    ("l-leucine-fcc", "FCC-2510", 4, 24, {"LEU-FCC-25KG": 30}, "rejected"),
    ("l-leucine-feed", "FD-2504", 10, 24, {"LEU-FEED-25KG": 120, "LEU-FEED-500KG": 8}, "released"),
    ("l-leucine-fcc", "FCC-2406", 22, 24, {"LEU-FCC-25KG": 10}, "released"),
]
RETEST_LOTS = {"FD-2504"}
ON_REQUEST_LOTS = {"FCC-2406"}
# Elemental impurities as ICP-MS finds them in L-leucine: below the limit of quantification, far under the 30 %
# of the limit above which ICH Q3D asks for further controls (the generic in-spec value would be 40 %).
DEMO_RESULTS = {"Lead (Pb)": "< 0.05", "Arsenic (As)": "< 0.05", "Cadmium (Cd)": "< 0.02", "Mercury (Hg)": "< 0.05"}
# The results of the demo lots come from the laboratory system; the quality user releases them.
DEMO_LAB_SYSTEM = "LIMS (demo data)"

# Weight of one pack's packaging by pack size (kg): PE bag in a carton, fibre drum with liner, big bag (FIBC).
DEMO_TARE_KG = {"1": D("0.12"), "5": D("0.35"), "25": D("2.4"), "500": D("2.6")}

# (email, roles, name): the admin holds no quality role, so signs no QC decision (give it on the Staff page).
DEMO_STAFF = [("admin@leucine.example", ["admin"], "Admin"),
              ("warehouse@leucine.example", ["warehouse"], "Warehouse"),
              ("quality@leucine.example", ["quality"], "Quality"),
              # a second quality user: a lot is released by someone other than who recorded its results
              ("quality2@leucine.example", ["quality"], "Second quality"),
              ("fulfilment@leucine.example", ["fulfilment"], "Fulfilment"),
              ("finance@leucine.example", ["finance"], "Finance")]
# (kind, title, version, issued months ago, valid for months (None: no end), issuer); per grade below. The USP
# grade's Kosher certificate has an older version, and the FCC grade's Halal certificate ends within 60 days of
# the demo's today, so that the staff dashboard shows a flag.
_COMMON_DOCUMENTS = [
    (DocumentKind.SDS, "Safety data sheet (EC 1907/2006)", "4.2", 9, None, None),
    (DocumentKind.SPECIFICATION, "Product specification", "7", 5, None, None),
    (DocumentKind.GMP, "GMP certificate", "GMP-2026-118", 4, 32, "Landesamt für Arzneimittelsicherheit (demo)"),
    (DocumentKind.ALLERGEN, "Allergen statement", "2026", 3, 12, None),
]
DEMO_DOCUMENTS = {
    "l-leucine-usp": _COMMON_DOCUMENTS + [
        (DocumentKind.KOSHER, "Kosher certificate", "2025", 14, 12, "Kashrus Council Europe (demo)"),
        (DocumentKind.KOSHER, "Kosher certificate", "2026", 2, 12, "Kashrus Council Europe (demo)"),
        (DocumentKind.HALAL, "Halal certificate", "HC-2026-31", 3, 12, "Halal Certification Europe (demo)"),
        (DocumentKind.NON_GMO, "Non-GMO statement of origin", "2026", 6, 24, None)],
    "l-leucine-ep": _COMMON_DOCUMENTS + [
        (DocumentKind.ISO_22000, "ISO 22000 certificate", "ISO-22000-4471", 10, 36, "TÜV Lebensmittel (demo)"),
        (DocumentKind.KOSHER, "Kosher certificate", "2026", 2, 12, "Kashrus Council Europe (demo)")],
    "l-leucine-fcc": _COMMON_DOCUMENTS + [
        (DocumentKind.FSSC_22000, "FSSC 22000 certificate", "FSSC-C-77120", 11, 36, "SGS Food Safety (demo)"),
        # Issued 330 days ago for 375 days: ends in 45 days, flagged on the staff dashboard.
        (DocumentKind.HALAL, "Halal certificate", "HC-2025-207", 11, 12.5, "Halal Certification Europe (demo)"),
        (DocumentKind.KOSHER, "Kosher certificate", "2026", 2, 12, "Kashrus Council Europe (demo)")],
    "l-leucine-feed": _COMMON_DOCUMENTS[:2] + [
        (DocumentKind.FSSC_22000, "FAMI-QS / FSSC 22000 certificate", "FQS-3310", 7, 36, "SGS Food Safety (demo)"),
        (DocumentKind.NON_GMO, "Non-GMO statement of origin", "2026", 6, 24, None)],
}
DEMO_PASSWORD = "lantern-demo-2026"
DEMO_CUSTOMER = ("buyer@nutrition.example", "Northwind Nutrition GmbH")
# A feed mill that buys on net_30 terms against a credit limit: its history fills every ageing bucket.
DEMO_NET_CUSTOMER = ("accounts@hansefeed.example", "Hanse Feed Mills GmbH")
DEMO_NET_COMPANY = {"vat_id": "DE136695976", "billing": {
    "billing_line1": "Kehrwieder 12", "billing_city": "Hamburg", "billing_postal_code": "20457",
    "billing_country": "DE"}, "terms": "net_30", "credit_limit": "60000"}
DEMO_NET_ADDRESS = {"name": "Hanse Feed Mills GmbH, goods in", "line1": "Kehrwieder 12", "city": "Hamburg",
                    "postal_code": "20457", "country": "DE"}
# Its orders: (days ago they shipped, drums of feed grade, purchase order). Due 30 days after shipping, on the
# demo's today they are: not yet due, 1–30, 31–60, 61–90 and over 90 days overdue.
DEMO_NET_ORDERS = [(140, 4, "HFM-PO-2026-031"), (105, 6, "HFM-PO-2026-044"), (75, 4, "HFM-PO-2026-052"),
                   (45, 8, "HFM-PO-2026-067"), (10, 4, "HFM-PO-2026-081")]


def in_spec_value(test: SpecTest) -> str:
    """A plausible passing result: the middle of a range, half of a maximum, just above a minimum."""
    if test.qualitative:
        return "conforms"
    if test.min_value is not None and test.max_value is not None:
        return str(((test.min_value + test.max_value) / 2).quantize(D("0.01")))
    if test.max_value is not None:
        # format "f": normalize() alone writes 100 as "1E+2", which is not how a lab writes a result.
        return format((test.max_value * D("0.4")).quantize(D("0.001")).normalize(), "f")
    return str((test.min_value + D("1.2")).quantize(D("0.1")))


def seed_demo(today: date | None = None) -> dict[str, int]:
    """Load the demo catalog, lots and accounts; what exists already is left as it is. Returns what was added."""
    today = today or date.today()
    added = {"products": 0, "lots": 0, "staff": 0, "customers": 0, "documents": 0}
    for position, spec in enumerate(PRODUCTS):
        if db.session.scalar(select(Product.id).where(Product.slug == spec["slug"])) is None:
            product = Product(slug=spec["slug"], name=spec["name"], grade=spec["grade"], cas_number="61-90-5",
                              formula="C6H13NO2", molecular_weight=D("131.17"), description=spec["description"],
                              position=position)
            for i, (name, lo, hi, unit, method) in enumerate(spec["spec"]):
                product.spec_tests.append(SpecTest(position=i, name=name, min_value=lo, max_value=hi, unit=unit,
                                                   method=method))
            for sku, size, price, moq, breaks in spec["variants"]:
                variant = Variant(sku=sku, pack_size_kg=D(size), unit_price=D(price), min_order_quantity=moq,
                                  tare_kg=DEMO_TARE_KG[size])
                variant.price_breaks = [PriceBreak(min_quantity=n, unit_price=D(p)) for n, p in breaks]
                product.variants.append(variant)
            db.session.add(product)
            added["products"] += 1
    for email, roles, name in DEMO_STAFF:
        if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is None:
            accounts.create_staff(email, DEMO_PASSWORD, roles, name=name)
            added["staff"] += 1
    db.session.flush()
    quality = db.session.scalar(select(StaffUser).where(StaffUser.email == "quality@leucine.example"))
    for slug, lot, age_months, shelf_months, units, fate in LOTS:
        if db.session.scalar(select(Batch.id).where(inventory.lot_number_is(lot))) is not None:
            continue
        made = today - timedelta(days=30 * age_months)
        batch = inventory.receive_batch(slug, lot, made, made + timedelta(days=30 * shelf_months), units,
                                        date_kind=DateKind.RETEST if lot in RETEST_LOTS else DateKind.EXPIRY)
        results = {t.name: DEMO_RESULTS.get(t.name) or in_spec_value(t) for t in batch.product.spec_tests}
        if fate == "rejected":
            assay = next(t for t in batch.product.spec_tests if t.name.startswith("Assay"))
            results[assay.name] = str(assay.min_value - D("1.1"))
        # Tested and released as it would have been: eight and ten days after it was made (never after now).
        released_at = min(datetime.combine(made + timedelta(days=10), time(12), UTC), utcnow())
        if fate != "quarantine":
            release.record_results(batch, results, source=DEMO_LAB_SYSTEM)
            tested_at = {"recorded_at": released_at - timedelta(days=2)}
            db.session.execute(update(CoaResult).where(CoaResult.batch_id == batch.id).values(tested_at))
            db.session.execute(update(CoaResultRevision).where(CoaResultRevision.batch_id == batch.id)
                               .values(tested_at))
        if fate == "released":
            release.release_batch(batch, _signed(quality, SignedAction.RELEASE, lot, released_at))
        elif fate == "rejected":
            release.reject_batch(batch, "Assay below specification", _signed(quality, SignedAction.REJECT, lot))
        if lot in ON_REQUEST_LOTS:
            inventory.set_on_request(lot, True)
        added["lots"] += 1
    if db.session.scalar(select(Customer.id).where(Customer.email == DEMO_CUSTOMER[0])) is None:
        accounts.create_customer(DEMO_CUSTOMER[0], DEMO_PASSWORD, DEMO_CUSTOMER[1])
        added["customers"] += 1
    added["documents"] = _seed_documents(today)
    added["invoices"] = _seed_invoices(today)
    db.session.flush()
    return added


def _seed_invoices(today: date) -> int:
    """The net-terms company's history, made as it would have happened: orders placed, confirmed and shipped on
    past days (each shipment invoiced that day), a partial payment of the oldest invoice and a credit note of one
    drum of the 61–90-day one. Left alone once the company exists. The number of invoices issued."""
    email, name = DEMO_NET_CUSTOMER
    if db.session.scalar(select(Customer.id).where(Customer.email == email)) is not None:
        return 0
    buyer = accounts.create_customer(email, DEMO_PASSWORD, name)
    companies.update_details(buyer, name, DEMO_NET_COMPANY["vat_id"], DEMO_NET_COMPANY["billing"])
    companies.set_terms(buyer.company, DEMO_NET_COMPANY["terms"], DEMO_NET_COMPANY["credit_limit"])
    invoices = []
    for days_ago, drums, purchase_order in DEMO_NET_ORDERS:
        shipped_on = today - timedelta(days=days_ago)
        order = ordering.place_order(buyer, [{"sku": "LEU-FEED-25KG", "quantity": drums}], DEMO_NET_ADDRESS,
                                     purchase_order, placed_at=_noon_before_shipping(shipped_on, OrderStatus.PENDING))
        ordering.confirm_order(order.number)
        outbox.write_announced()  # its order.confirmed shows the confirmed order, not the shipped one
        shipped = fulfilment.ship_order(order.number, f"JJD00990{days_ago:04d}", carrier="DHL Freight", on=shipped_on)
        _dated_history(shipped, shipped_on)
        invoices.append(db.session.scalar(select(Invoice).where(Invoice.order_id == order.id)))
    oldest, older = invoices[0], invoices[2]
    paid_on = today - timedelta(days=100)
    payments.record_invoice_payment(oldest.number, payments.PaymentInput(
        str((oldest.gross / 2).quantize(D("0.01"))), paid_on, f"HFM payment run {paid_on:%Y-%m}"),
        db.session.get(Order, oldest.order_id).placed_at.date(), today)
    issuing.issue_credit_note(older.number, {1: 1}, today - timedelta(days=60))
    return len(invoices)


# How long before it shipped each step of a demo order's history happened.
_DAYS_BEFORE_SHIPPING = {OrderStatus.PENDING: 3, OrderStatus.CONFIRMED: 2, OrderStatus.SHIPPED: 0}


def _noon_before_shipping(shipped_on: date, status: OrderStatus) -> datetime:
    return datetime.combine(shipped_on, time(12), UTC) - timedelta(days=_DAYS_BEFORE_SHIPPING.get(status, 0))


def _dated_history(order: Order, shipped_on: date) -> None:
    """Date a demo order's history as it would have happened: placed three days before it shipped (placing takes
    that time: the order's number carries its date), confirmed two (confirming writes the present time; the
    shipment and its invoice take their day)."""
    for change in order.history:
        change.at = _noon_before_shipping(shipped_on, change.to_status)
    order.updated_at = _noon_before_shipping(shipped_on, OrderStatus.SHIPPED)


def _seed_documents(today: date) -> int:
    """The demo documents of each demo product that has none yet, stored as PDFs through documents.add_document
    (storage included); how many."""
    products = db.session.scalars(select(Product).where(Product.slug.in_(DEMO_DOCUMENTS))).all()
    with_documents = set(db.session.scalars(select(ProductDocument.product_id).distinct()))
    maker, added = issuer(), 0
    for product in products:
        if product.id in with_documents:
            continue
        for kind, title, version, months_ago, valid_months, body in DEMO_DOCUMENTS[product.slug]:
            issued = today - timedelta(days=30 * months_ago)
            valid_until = issued + timedelta(days=round(30 * valid_months)) if valid_months else None
            content = _document_pdf(maker, product, kind, title, version, issued, valid_until, body)
            documents.add_document(product_id=product.id, kind=kind.value, title=f"{title} {product.name}",
                                   version=version, issued_on=issued, valid_until=valid_until,
                                   upload=check_upload(content), uploaded_by="Quality (demo data)", today=today)
            added += 1
    return added


def _document_pdf(maker: Issuer, product: Product, kind: DocumentKind, title: str, version: str, issued: date,
                  valid_until: date | None, body: str | None) -> bytes:
    """A demo document as an A4 PDF in the CoA's layout: the manufacturer and the document's version in the
    header, 'Page n of N' in the footer; a specification sheet lists the grade's tests."""
    def frame(canvas, page: int, pages: int) -> None:
        width, height = pdf.WIDTH, pdf.HEIGHT
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(pdf.MARGIN, height - 12 * mm, maker.legal_name)
        canvas.setFont("Helvetica", 8)
        canvas.drawString(pdf.MARGIN, height - 16 * mm, ", ".join(maker.address))
        canvas.drawRightString(width - pdf.MARGIN, height - 12 * mm, kind.label)
        canvas.drawRightString(width - pdf.MARGIN, height - 16 * mm, f"Version {version}, issued {issued.isoformat()}")
        canvas.line(pdf.MARGIN, height - 18 * mm, width - pdf.MARGIN, height - 18 * mm)
        canvas.line(pdf.MARGIN, 16 * mm, width - pdf.MARGIN, 16 * mm)
        canvas.drawString(pdf.MARGIN, 12 * mm, "Demo document: generated for the Leucine Shop demo data")
        canvas.drawRightString(width - pdf.MARGIN, 12 * mm, f"Page {page} of {pages}")
        canvas.restoreState()

    def story() -> list:
        styles = getSampleStyleSheet()
        small = styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)
        identity = [["Product", product.name, "Version", version],
                    ["Grade", product.grade, "Issued on", issued.isoformat()],
                    ["CAS number", product.cas_number, "Valid until",
                     valid_until.isoformat() if valid_until else "until superseded"],
                    ["Issued by", body or maker.legal_name, "", ""]]
        table = Table(identity, colWidths=[32 * mm, 55 * mm, 32 * mm, 55 * mm])
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                                   ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
                                   ("FONTSIZE", (0, 0), (-1, -1), 9), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
        parts = [Paragraph(escape(f"{title} — {product.name}"), styles["Title"]), table, Spacer(1, 5 * mm)]
        if kind is DocumentKind.SPECIFICATION:
            rows = [["Test", "Limits", "Method"]] + [
                [Paragraph(escape(t.name), small), Paragraph(escape(_limits(t)), small),
                 Paragraph(escape(t.method), small)] for t in product.spec_tests]
            spec = Table(rows, colWidths=[60 * mm, 40 * mm, 74 * mm], repeatRows=1)
            spec.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                                      ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                                      ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f4")),
                                      ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa8b1"))]))
            parts.append(spec)
        else:
            parts.append(Paragraph(escape(_DEMO_TEXT.get(kind, _CERTIFICATE_TEXT).format(
                product=product.name, body=body or maker.legal_name, maker=maker.legal_name)), styles["BodyText"]))
        return parts

    return pdf.render_a4(story, frame, title=f"{title} {product.name}", author=maker.legal_name,
                         subject=f"{kind.label}, version {version}")


def _limits(test: SpecTest) -> str:
    if test.min_value is not None and test.max_value is not None:
        return f"{test.min_value} – {test.max_value} {test.unit}".strip()
    if test.max_value is not None:
        return f"≤ {test.max_value} {test.unit}".strip()
    if test.min_value is not None:
        return f"≥ {test.min_value} {test.unit}".strip()
    return "conforms"


_CERTIFICATE_TEXT = ("{body} certifies that {product}, made by {maker}, was audited and meets the requirements of "
                     "the scheme named above for the period stated.")
_DEMO_TEXT = {
    DocumentKind.SDS: "Safety data sheet of {product} according to Regulation (EC) No 1907/2006 (REACH), Annex II: "
                      "identification, hazards (not classified), composition, first aid, fire-fighting, handling "
                      "and storage (dry, below 25 °C), exposure controls, physical and chemical properties, "
                      "stability, toxicology, ecology, disposal, transport (not regulated) and regulatory "
                      "information.",
    DocumentKind.ALLERGEN: "{maker} states that {product} contains none of the allergens of Annex II of Regulation "
                           "(EU) No 1169/2011 and is made on a line that handles none of them.",
    DocumentKind.NON_GMO: "{maker} states that {product} is made by fermentation with a strain that is not "
                          "genetically modified and from raw materials of non-GMO origin.",
}

def _signed(staff: StaffUser, action: SignedAction, lot_number: str, at: datetime | None = None) -> Signature:
    """The demo quality user's signature on a demo lot (at `at`, now by default): demo data has no one at a
    keyboard to type a password."""
    return Signature(staff_id=staff.id, name=staff.name, email=staff.email, role=StaffRole.QUALITY, action=action,
                     lot_number=lot_number, meaning=meaning(action, lot_number), signed_at=at or utcnow())
