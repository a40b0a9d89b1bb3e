"""Finding 7: who the seller is, from configuration, on every page's footer, a contact page, terms of sale,
privacy policy and imprint (texts from files an operator replaces), order pages and packing slips."""
from __future__ import annotations

import pytest

from shop.platform.config import ConfigError
from tests.support.factories import make_lot
from tests.support.staff import place, text_of
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in

SELLER_ENV = {
    "SELLER_LEGAL_NAME": "Aminowerk Testingen GmbH",
    "SELLER_ADDRESS": "Werkstraße 7;12345 Testingen;Germany",
    "SELLER_VAT_ID": "DE999999999",
    "SELLER_PHONE": "+49 30 1234567",
    "SELLER_EMAIL": "vertrieb@aminowerk.example",
    "MANUFACTURING_SITE_ADDRESS": "Chemiepark 3;06237 Leuna;Germany",
}
TRUST_LINKS = ('href="/contact"', 'href="/terms"', 'href="/privacy"', 'href="/imprint"')


@pytest.fixture
def seller_app(make_app, monkeypatch):
    for name, value in SELLER_ENV.items():
        monkeypatch.setenv(name, value)
    app = make_app()
    with app.app_context():
        yield app


def test_every_page_footer_names_the_seller_and_links_the_trust_pages(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    for url in ("/", "/products/l-leucine-usp", "/cart", "/sign-in", "/register", "/coa/L-1", "/contact",
                "/no-such-page", "/staff/login", "/api/v1/docs", "/problems/not-found"):
        footer = client.get(url).text.split('<footer', 1)[-1]
        for link in TRUST_LINKS:
            assert link in footer, (url, link)
        assert app.config["SELLER_LEGAL_NAME"] in footer, url


def test_contact_page_shows_the_configured_seller(seller_app):
    page = seller_app.test_client().get("/contact")
    assert page.status_code == 200
    text = text_of(page.text)
    for part in ("Aminowerk Testingen GmbH", "Werkstraße 7", "12345 Testingen", "DE999999999", "+49 30 1234567",
                 "vertrieb@aminowerk.example", "Chemiepark 3", "06237 Leuna"):
        assert part in text, part
    assert 'href="mailto:vertrieb@aminowerk.example"' in page.text
    assert 'href="tel:+49301234567"' in page.text


def test_manufacturing_site_defaults_to_the_seller_address(make_app, monkeypatch):
    monkeypatch.setenv("SELLER_ADDRESS", "Hauptstraße 1;99999 Irgendwo;Germany")
    monkeypatch.delenv("MANUFACTURING_SITE_ADDRESS", raising=False)
    app = make_app()
    assert app.config["MANUFACTURING_SITE_ADDRESS"] == app.config["SELLER_ADDRESS"]


def test_terms_privacy_and_imprint_come_from_files_the_operator_replaces(make_app, monkeypatch, tmp_path):
    for name in ("terms", "privacy", "imprint", "contact"):
        (tmp_path / f"{name}.md").write_text(f"# Our {name}\n\nOperator text for *{name}* by $seller_legal_name."
                                             "\n\n<script>alert(1)</script>\n")
    monkeypatch.setenv("LEGAL_TEXTS_DIR", str(tmp_path))
    monkeypatch.setenv("SELLER_LEGAL_NAME", "Replaced GmbH")
    client = make_app().test_client()
    for url, name in (("/terms", "terms"), ("/privacy", "privacy"), ("/imprint", "imprint"), ("/contact", "contact")):
        page = client.get(url)
        assert page.status_code == 200
        assert f"Operator text for <em>{name}</em> by Replaced GmbH." in page.text, url
        assert "<script>alert" not in page.text  # the file's text is Markdown, never raw HTML


def test_the_shipped_default_texts_name_the_seller(seller_app):
    client = seller_app.test_client()
    for url in ("/terms", "/privacy", "/imprint"):
        page = client.get(url)
        assert page.status_code == 200
        assert "Aminowerk Testingen GmbH" in text_of(page.text), url
    assert "DE999999999" in text_of(client.get("/imprint").text)


def test_a_missing_legal_texts_folder_stops_start_up_naming_the_setting(make_app, monkeypatch, tmp_path):
    monkeypatch.setenv("LEGAL_TEXTS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="LEGAL_TEXTS_DIR"):
        make_app()


def test_order_page_and_packing_slip_carry_the_seller(seller_app, product, customer):
    from tests.support.staff import StaffClient

    seller_app.test_client_class = StaffClient
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    number = place(customer, "LEU-USP-25KG", 2).number
    buyer = seller_app.test_client()
    sign_in(buyer)
    order_page = text_of(buyer.get(f"/orders/{number}").text)
    assert "Sold by Aminowerk Testingen GmbH Werkstraße 7 12345 Testingen Germany" in order_page
    assert "VAT ID DE999999999" in order_page.split("Sold by")[1]
    staff = seller_app.test_client()
    staff_sign_in(staff, "fulfilment")
    slip = text_of(staff.get(f"/staff/orders/{number}/packing-slip").text)
    assert "Shipper Aminowerk Testingen GmbH" in slip and "Werkstraße 7" in slip


@pytest.mark.parametrize("name, value", [("SELLER_EMAIL", "sales at example"), ("SELLER_LEGAL_NAME", "  "),
                                         ("SELLER_PHONE", "call us"), ("SELLER_ADDRESS", ";;")])
def test_an_unusable_seller_setting_stops_start_up_naming_it(make_app, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        make_app()
