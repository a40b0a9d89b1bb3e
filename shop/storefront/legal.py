"""The seller's contact page, terms of sale, privacy policy and imprint: texts an operator replaces.

Each page's text is a Markdown file in LEGAL_TEXTS_DIR (defaults shipped in legal/), read on every request so
that an edited file shows at once. Raw HTML in a file is shown as text, never run: Markdown is all it takes.
`$seller_legal_name`, `$seller_address`, `$seller_vat_id`, `$seller_phone`, `$seller_email`,
`$manufacturing_site_address` and `$shop_name` in a text are replaced by the configured values.
"""
from __future__ import annotations

from pathlib import Path
from string import Template

from flask import current_app, render_template
from markdown_it import MarkdownIt
from markupsafe import Markup

from shop.platform.seller import Seller
from shop.storefront import bp

# CommonMark with raw HTML switched off (it is escaped); markdown-it also refuses javascript: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})

PAGES = {
    "contact": "Contact",
    "terms": "Terms of sale",
    "privacy": "Privacy policy",
    "imprint": "Imprint",
}


def _placeholders(seller: Seller) -> dict[str, str]:
    return {"seller_legal_name": seller.legal_name, "seller_address": seller.one_line_address,
            "seller_vat_id": seller.vat_id, "seller_phone": seller.phone, "seller_email": seller.email,
            "manufacturing_site_address": ", ".join(seller.manufacturing_site),
            "shop_name": current_app.config["SHOP_NAME"]}


def legal_text(name: str) -> Markup:
    """The page's text from its file, with the seller's details filled in, as HTML."""
    raw = (Path(current_app.config["LEGAL_TEXTS_DIR"]) / f"{name}.md").read_text(encoding="utf-8")
    filled = Template(raw).safe_substitute(_placeholders(current_app.extensions["shop_seller"]))
    return Markup(_MARKDOWN.render(filled))


@bp.get("/<any(contact, terms, privacy, imprint):page>")
def legal_page(page: str):
    """The contact page (the seller's address, phone, e-mail, VAT ID and manufacturing site, then its text), the
    terms of sale, the privacy policy or the imprint."""
    return render_template("storefront/legal.html", page=page, title=PAGES[page], text=legal_text(page))
