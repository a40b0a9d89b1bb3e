"""Storefront catalog pages: the list of grades, a product page, and lot certificates (HTML and PDF)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO

from flask import abort, current_app, render_template, send_file
from markupsafe import Markup

from shop.catalog import price_lists
from shop.catalog import products as catalog
from shop.catalog.models import Product
from shop.catalog.tiers import Tier, price_steps
from shop.documents import service as documents
from shop.inventory import availability
from shop.inventory.models import DateKind
from shop.platform.conditional import conditional_page, rendered_from
from shop.platform.errors import NotFound
from shop.quality import coa
from shop.specifications import availability as company_availability
from shop.specifications import service as specifications
from shop.storefront import bp
from shop.storefront.common import current_customer
from shop.storefront.forms import AddToCartForm

CENT = Decimal("0.01")


@dataclass
class CatalogEntry:
    product: Product
    assay: str | None
    from_price: Decimal | None
    from_pack_kg: Decimal | None
    best_per_kg: Decimal | None
    available_units: int


def _catalog_entry(product: Product, available: dict[int, int], contract: dict[int, list[Tier]]) -> CatalogEntry:
    """A grade's line in the catalog, priced for the signed-in company (`contract`: its tiers by variant id)."""
    variants = [v for v in product.variants if v.active]
    assay = next((t for t in product.spec_tests if t.name.lower().startswith("assay")), None)
    one_unit = {v.id: price_lists.variant_price(v, 1, contract.get(v.id, ())).unit_price for v in variants}
    cheapest = min(variants, key=lambda v: one_unit[v.id], default=None)
    per_kg = [min(step.price.unit_price for step in price_lists.variant_price_steps(v, contract.get(v.id, ()), 1))
              / v.pack_size_kg for v in variants]
    return CatalogEntry(
        product=product,
        assay=assay.limits_text if assay else None,
        from_price=one_unit[cheapest.id] if cheapest else None,
        from_pack_kg=cheapest.pack_size_kg if cheapest else None,
        best_per_kg=min(per_kg).quantize(CENT) if per_kg else None,
        available_units=sum(available.get(v.id, 0) for v in variants),
    )


@bp.get("/")
def index():
    """List the grades on sale with headline assay, price from, and whether they are in stock."""
    products = catalog.list_products()
    customer = current_customer()
    company_id = customer.company_id if customer else None
    variant_ids = [v.id for p in products for v in p.variants]
    # One query for every product on the page (one more for a company with a specification: its lots only).
    available = company_availability.available_by_variant(company_id, variant_ids)
    contract = price_lists.contract_tiers(company_id, variant_ids)
    return render_template("storefront/index.html",
                           entries=[_catalog_entry(p, available, contract) for p in products])


@dataclass
class LotInStock:
    lot_number: str
    manufactured_on: date
    expires_on: date
    date_kind: DateKind
    units: list[tuple[catalog.PackSnapshot, int]] = field(default_factory=list)

    @property
    def days_left(self) -> int:
        return (self.expires_on - date.today()).days


@dataclass(frozen=True)
class CatalogFragments:
    """A product page's catalog-only markup (templates/storefront/_product_static.html), rendered once."""
    snapshot: catalog.ProductSnapshot
    day: date
    top: Markup
    prices: dict[int, Markup]
    spec: Markup
    documents: Markup


def catalog_fragments(product: catalog.ProductSnapshot) -> CatalogFragments:
    """The fragments of this very snapshot, rendered again only when the catalog cache loaded a new one (or on a
    new day, which the documents' validity is judged on), so they never outlive the data they show.

    The product's current documents are read with them (one statement, on a cold cache only): an upload counts
    the product's catalog version up like any other catalog change."""
    cache: dict[str, CatalogFragments] = current_app.extensions.setdefault("storefront_product_fragments", {})
    fragments = cache.get(product.slug)
    today = date.today()
    if fragments is None or fragments.snapshot is not product or fragments.day != today:
        macros = current_app.jinja_env.get_template("storefront/_product_static.html").module
        current = documents.current_documents([product.id]).get(product.id, [])
        fragments = cache[product.slug] = CatalogFragments(
            product, today, macros.top(product), {p.id: macros.price_table(p) for p in product.packs},
            macros.spec(product), macros.documents(current, today))
    return fragments


@bp.get("/products/<slug>")
@conditional_page
def product(slug: str):
    """A grade: identity, specification, pack sizes with price breaks and availability, lots with CoAs."""
    return render_product(slug)


def render_product(slug: str, forms: dict[str, AddToCartForm] | None = None, status: int = 200):
    """Render a product page; `forms` replaces the add-to-cart form of a SKU (to show its errors).

    The catalog data comes from the app's cache (catalog.product_snapshot), the stock live from one query that also
    reads the product's catalog version: a warm page costs one statement however many lots there are, and a cached
    snapshot whose version has moved on is loaded again before the page is rendered.
    """
    customer = current_customer()
    company_id = customer.company_id if customer else None
    product = catalog.product_snapshot(slug)
    in_stock = company_availability.product_lots_in_stock(company_id, product.id) if product else None
    if product is not None and in_stock.catalog_version != product.version:
        changed = catalog.load_product_snapshot(slug)
        if changed is not None and changed.id != product.id:  # the slug now names another product
            in_stock = company_availability.product_lots_in_stock(company_id, changed.id)
        product = changed
    if product is None:
        abort(404, description=f"We have no product '{slug}'. It may have been withdrawn from sale.")
    packs = {p.id: p for p in product.packs}
    # Availability is summed from the same sellable stock rows that list the lots, instead of a second
    # query (availability.available_by_variant): same definition, and the page cost stays flat however many lots.
    # A signed-in company with a specification of the grade sees only the lots that meet it.
    available: dict[int, int] = defaultdict(int)
    lots: dict[int, LotInStock] = {}
    for batch_id, lot_number, made, expires, variant_id, units, kind in in_stock.rows:
        pack = packs.get(variant_id)
        if pack is None:  # a pack size withdrawn from sale
            continue
        available[variant_id] += units
        lot = lots.get(batch_id)
        if lot is None:
            lot = lots[batch_id] = LotInStock(lot_number, made, expires, kind)
        lot.units.append((pack, units))
    return render_template("storefront/product.html", product=product, static=catalog_fragments(product),
                           available=available, lots=list(lots.values()), forms=forms or {},
                           withheld_lots=in_stock.withheld,
                           contract_prices=_contract_price_tables(product),
                           shelf_days=availability.default_shelf_life_days()), status


def _contract_price_tables(product: catalog.ProductSnapshot) -> dict[int, Markup]:
    """The price table of each pack the signed-in customer's company has contract prices for (one statement,
    whatever the number of lists), by variant id; the others keep the public table."""
    customer = current_customer()
    if customer is None:
        return {}
    tiers = price_lists.contract_tiers(customer.company_id, [p.id for p in product.packs])
    macros = current_app.jinja_env.get_template("storefront/_product_static.html").module
    tables = {}
    for pack in product.packs:
        if pack.id in tiers:
            public = [Tier(step.min_quantity, step.unit_price) for step in pack.prices[1:]]
            steps = price_steps(pack.min_order_quantity, pack.prices[0].unit_price, public, tiers[pack.id])
            tables[pack.id] = macros.contract_price_table(pack, steps)
    return tables


def _certificate(lot_number: str) -> coa.Certificate:
    try:
        return coa.get_certificate(lot_number)
    except NotFound:
        abort(404, description=f"There is no published Certificate of Analysis for lot '{lot_number}'. "
                               "Certificates are published once a lot is released by Quality.")


@bp.get("/coa/<lot_number>")
@conditional_page
def certificate(lot_number: str):
    """A released lot's Certificate of Analysis as a page; to a member of a company with a specification of the
    grade, it also says whether the lot meets it."""
    cert = _certificate(lot_number)
    customer = current_customer()
    verdict = specifications.judge_lot(customer.company_id, cert.product_id, cert.results) if customer else None
    return render_template("storefront/coa.html", cert=cert, yours=verdict)


@bp.get("/coa/<lot_number>.pdf")
def certificate_pdf(lot_number: str):
    """A released lot's Certificate of Analysis as a PDF download."""
    cert = _certificate(lot_number)
    # send_file encodes any lot number safely into the Content-Disposition header. No max-age: a recall reissues
    # the certificate, so a cache asks again every time (no-cache) and gets a 304 while the certificate is unchanged.
    return rendered_from(lambda: send_file(BytesIO(coa.certificate_pdf(cert)), mimetype="application/pdf",
                                           as_attachment=True, download_name=f"CoA-{cert.lot_number}.pdf",
                                           etag=False), cert)
