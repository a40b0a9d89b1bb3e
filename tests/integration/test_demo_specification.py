"""The demo USP specification states elemental impurities as USP <232>/<233> and ICH Q3D do for an oral ingredient
(lead, arsenic, cadmium, mercury in ppm, by ICP-MS), not the withdrawn heavy-metals test of USP <231>; every
released demo lot's CoA shows them, in specification."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from shop.inventory.models import Batch, BatchStatus
from shop.platform.extensions import db
from shop.quality.coa import get_certificate
from tests.support.staff import text_of

# USP <232> Table 2 / ICH Q3D Option 1: an oral drug product taken up to 10 g a day.
ELEMENTS = {"Lead (Pb)": ("≤ 0.5 ppm", Decimal("0.5")), "Arsenic (As)": ("≤ 1.5 ppm", Decimal("1.5")),
            "Cadmium (Cd)": ("≤ 0.5 ppm", Decimal("0.5")), "Mercury (Hg)": ("≤ 3 ppm", Decimal("3"))}
METHOD = "ICP-MS, USP <233>"


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["shop", "seed-demo"])
    assert result.exit_code == 0, result.output


def test_the_usp_product_page_states_the_four_elemental_impurities_and_no_usp_231(client, demo):
    page = text_of(client.get("/products/l-leucine-usp").text)
    for name, (limits, _) in ELEMENTS.items():
        assert f"{name} {limits} {METHOD}" in page
    assert "<231>" not in page and "Heavy metals" not in page


def test_every_released_demo_lot_meets_the_elemental_impurity_limits_on_its_coa(client, demo):
    released = db.session.scalars(select(Batch.lot_number).where(Batch.status == BatchStatus.RELEASED)).all()
    assert "USP-2501" in released
    for lot in released:
        cert = get_certificate(lot)
        assert cert.all_passed, lot
        assert all("231" not in line.method and line.test != "Heavy metals" for line in cert.lines), lot
    lines = {line.test: line for line in get_certificate("USP-2501").lines}
    for name, (limits, maximum) in ELEMENTS.items():
        line = lines[name]
        assert (line.limits, line.method, line.passed) == (limits, METHOD, True)
        # measured (here: below the limit of quantification) under ICH Q3D's control threshold, 30 % of the limit
        assert line.result.startswith("< ") and Decimal(line.result[2:]) <= maximum * Decimal("0.3")
    page = text_of(client.get("/coa/USP-2501").text)
    assert f"Lead (Pb) ≤ 0.5 ppm {METHOD}" in page and "<231>" not in page
