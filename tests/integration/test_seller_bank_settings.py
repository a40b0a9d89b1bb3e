"""#24 (settings): the seller's bank account (SELLER_IBAN, SELLER_BIC) that invoices and e-invoices print is
checked at start-up: a malformed one refuses to start, naming the setting, rather than send buyers' money astray."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shop.platform.config import ConfigError
from shop.platform.seller import Seller

ROOT = Path(__file__).resolve().parents[2]


def _start(**settings: str) -> subprocess.CompletedProcess:
    """Import wsgi (build the app, as gunicorn does) in development with `settings` in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELLER_")}
    env.update(SECRET_KEY="test-secret", SHOP_ENV="development", **settings)
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_mistyped_iban_refuses_to_start_naming_the_setting():
    refused = _start(SELLER_IBAN="DE89370400440532013001")  # last digit wrong: the check digits catch it
    assert refused.returncode != 0
    assert "SELLER_IBAN must be an IBAN" in refused.stderr and "Traceback" not in refused.stderr
    assert _start(SELLER_IBAN="DE89 3704 0044 0532 0130 00").returncode == 0


@pytest.mark.parametrize("name, value", [("SELLER_IBAN", "DE00 1234"), ("SELLER_IBAN", "  "),
                                         ("SELLER_BIC", "COBADE"), ("SELLER_BIC", "12345678")])
def test_an_unusable_bank_setting_stops_start_up_naming_it(make_app, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        make_app()


def test_the_seller_carries_the_configured_account_in_compact_form(make_app, monkeypatch):
    monkeypatch.setenv("SELLER_IBAN", "de44 5001 0517 5407 3249 31")
    monkeypatch.setenv("SELLER_BIC", "INGDDEFFXXX")
    seller = Seller.from_config(make_app().config)
    assert (seller.iban, seller.bic) == ("DE44500105175407324931", "INGDDEFFXXX")
    assert seller.iban_grouped == "DE44 5001 0517 5407 3249 31"
