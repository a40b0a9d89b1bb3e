"""Batches on the staff pages: receipt, CoA results, release and its refusals, reject, adjustments, ledger."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shop.accounts.models import StaffUser
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus, MovementKind, Stock, StockMovement
from shop.lab.models import CoaResult
from shop.platform.audit import AuditEntry
from shop.platform.extensions import db
from shop.reporting import reports
from tests.support.factories import good_results, make_lot
from tests.support.staff import place, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")


def _results_form(product, results: dict[str, str]) -> dict[str, str]:
    ids = {t.name: t.id for t in product.spec_tests}
    return {f"result_{ids[name]}": value for name, value in results.items()}


SIGN = {"confirm": "y", "password": "staff password"}


def reviewer(app):
    """A second quality user, signed in on a client of their own: the one who releases (two-person rule)."""
    other = app.test_client()
    sign_in(other, "quality", email="reviewer@shop.example")
    return other


def row_of(html: str, test: str) -> str:
    """The visible text of the results table's row of one test."""
    rows = [text_of(row) for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.DOTALL)]
    return next(row for row in rows if row.startswith(test + " "))


def test_warehouse_receives_a_lot_into_quarantine_with_units_per_pack_size(client, product):
    staff = sign_in(client, "warehouse")
    chooser = client.get("/staff/batches/receive")
    assert '<label for="product">Product</label>' in chooser.text
    form = client.get("/staff/batches/receive?product=l-leucine-usp")
    ids = {v.sku: v.id for v in product.variants}
    assert f'<label for="units_{ids["LEU-USP-25KG"]}">LEU-USP-25KG (25 kg packs): units</label>' in form.text
    assert ">Receive lot<" in form.text or 'value="Receive lot"' in form.text
    page = client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "lot_number": "USP-2701", "manufactured_on": (date.today() - timedelta(days=5)).isoformat(),
        "expires_on": (date.today() + timedelta(days=1000)).isoformat(),
        f"units_{ids['LEU-USP-25KG']}": "12", f"units_{ids['LEU-USP-1KG']}": "0"}, follow_redirects=True)
    assert page.request.path == "/staff/batches/USP-2701"
    assert "Lot USP-2701 received into quarantine." in page.text
    batch = db.session.scalar(select(Batch).where(Batch.lot_number == "USP-2701"))
    assert batch.status == BatchStatus.QUARANTINE and batch.received_by_id == staff.id
    assert [(s.variant.sku, s.on_hand) for s in batch.stocks] == [("LEU-USP-25KG", 12)]
    receipt = db.session.scalar(select(StockMovement).where(StockMovement.kind == MovementKind.RECEIPT))
    assert receipt.staff_id == staff.id and receipt.on_hand_delta == 12


def test_receipt_errors_show_beside_their_fields_and_nothing_is_booked(client, product):
    make_lot(product, "USP-DUP", {"LEU-USP-1KG": 1})
    sign_in(client, "warehouse")
    page = client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "lot_number": "USP-DUP", "manufactured_on": "2026-01-10", "expires_on": "2025-01-01"})
    assert page.status_code == 422
    text = text_of(page.text)
    assert "Lot USP-DUP has been received already." in text
    assert "The expiry date must come after the manufacturing date." in text
    assert 'id="lot_number-error"' in page.text and 'id="expires_on-error"' in page.text
    assert db.session.scalar(select(func.count(Batch.id))) == 1


def test_quality_records_results_each_shown_pass_or_fail_against_its_limit(client, product):
    batch = make_lot(product, "L-COA", {"LEU-USP-25KG": 4}, status="quarantine")
    staff = sign_in(client, "quality")
    results = good_results(product) | {"Loss on drying": "0.35"}
    page = client.post(f"/staff/batches/{batch.lot_number}/results", data=_results_form(product, results),
                       follow_redirects=True)
    assert "13 results saved for lot L-COA." in page.text
    assert re.match(r"Loss on drying USP <731> ≤ 0.2 % 0.35 % quality@shop.example, .* fail",
                    row_of(page.text, "Loss on drying"))
    assert re.match(r"Iron USP <241> ≤ 30 ppm 12 ppm quality@shop.example, .* pass", row_of(page.text, "Iron"))
    assert db.session.scalar(select(func.count(CoaResult.id)).where(CoaResult.recorded_by_id == staff.id)) == 13


def test_a_result_that_is_not_a_number_is_shown_beside_its_test(client, product):
    batch = make_lot(product, "L-NAN", {"LEU-USP-25KG": 4}, status="quarantine")
    sign_in(client, "quality")
    page = client.post(f"/staff/batches/{batch.lot_number}/results",
                       data=_results_form(product, {"Iron": "lots", "Chloride": "0.01"}))
    assert page.status_code == 422
    iron = next(t for t in product.spec_tests if t.name == "Iron")
    assert (f'<p class="field-error" id="result_{iron.id}-error">&#39;lots&#39; is not a number: enter a plain number '
            "with a point, e.g. 1500, 0.08 or 15.2, or &#39;&lt; 5&#39; for a result below the limit of "
            "quantification.</p>") in page.text
    assert db.session.scalar(select(func.count(CoaResult.id))) == 0  # the good one was not half-saved


def test_release_refused_for_a_missing_result_names_it_and_the_lot_stays_in_quarantine(app, client, product):
    batch = make_lot(product, "L-MISS", {"LEU-USP-25KG": 4}, status="quarantine")
    sign_in(client, "quality")
    results = good_results(product)
    del results["Lead (Pb)"]
    client.post(f"/staff/batches/{batch.lot_number}/results", data=_results_form(product, results))
    page = reviewer(app).post(f"/staff/batches/{batch.lot_number}/release", data=SIGN)
    assert page.status_code == 409
    text = text_of(page.text)
    assert "Release refused" in text and "Lead (Pb): no result recorded" in text
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == BatchStatus.QUARANTINE


def test_release_refused_for_out_of_spec_results_lists_every_reason(app, client, product):
    batch = make_lot(product, "L-OOS", {"LEU-USP-25KG": 4}, status="quarantine")
    sign_in(client, "quality")
    results = good_results(product) | {"Assay (dried basis)": "97.9", "Appearance": "does not conform"}
    client.post(f"/staff/batches/{batch.lot_number}/results", data=_results_form(product, results))
    page = reviewer(app).post(f"/staff/batches/{batch.lot_number}/release", data=SIGN)
    assert page.status_code == 409
    text = text_of(page.text)
    assert "Assay (dried basis): result 97.9 is outside 98.5 – 101.5 %" in text
    assert "Appearance: result does not conform is outside conforms" in text
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == BatchStatus.QUARANTINE


def test_release_with_every_result_in_spec_is_recorded_with_who(app, client, product):
    batch = make_lot(product, "L-REL", {"LEU-USP-25KG": 4}, status="quarantine")
    sign_in(client, "quality")
    client.post(f"/staff/batches/{batch.lot_number}/results", data=_results_form(product, good_results(product)))
    second = reviewer(app)
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == "reviewer@shop.example"))
    page = second.post(f"/staff/batches/{batch.lot_number}/release", data=SIGN, follow_redirects=True)
    assert "Lot L-REL released" in page.text
    db.session.expire_all()
    released = db.session.get(Batch, batch.id)
    assert released.status == BatchStatus.RELEASED and released.status_changed_by_id == staff.id
    assert db.session.scalar(select(AuditEntry.staff_id).where(AuditEntry.action == "batch.released")) == staff.id


def test_reject_needs_a_reason(client, product):
    batch = make_lot(product, "L-REJ", {"LEU-USP-25KG": 4}, status="quarantine")
    sign_in(client, "quality")
    empty = client.post(f"/staff/batches/{batch.lot_number}/reject", data={"reason": "  ", **SIGN})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == BatchStatus.QUARANTINE
    done = client.post(f"/staff/batches/{batch.lot_number}/reject", data={"reason": "Foreign particles", **SIGN},
                       follow_redirects=True)
    assert "Lot L-REJ rejected." in done.text and "Foreign particles" in done.text


def test_releasing_a_rejected_lot_is_a_message_not_an_error_page(client, product):
    batch = make_lot(product, "L-GONE", {"LEU-USP-25KG": 4}, status="rejected")
    sign_in(client, "quality")
    page = client.post(f"/staff/batches/{batch.lot_number}/release", data=SIGN, follow_redirects=True)
    assert page.status_code == 200
    assert "Lot L-GONE is rejected: only a lot in quarantine can be released." in page.text


def test_the_recall_form_of_a_lot_in_quarantine_says_before_any_signing_why_it_cannot_be_recalled(client, product):
    make_lot(product, "L-WAIT", {"LEU-USP-25KG": 4}, status="quarantine")
    sign_in(client, "quality")
    page = client.get("/staff/batches/L-WAIT/recall/new", follow_redirects=True)
    assert page.request.path == "/staff/batches/L-WAIT"
    # The very words the recall itself would refuse with.
    assert "Lot L-WAIT is in quarantine: only a released lot can be recalled." in page.text


def test_adjustment_below_allocated_is_refused_beside_the_field_and_changes_nothing(client, product, customer):
    batch = make_lot(product, "L-ADJ", {"LEU-USP-25KG": 5})
    place(customer, "LEU-USP-25KG", 3)
    stock = batch.stocks[0]
    sign_in(client, "warehouse")
    page = client.post(f"/staff/stock/{stock.id}/adjust", data={"kind": "adjustment", "delta": "-3",
                                                                "reason": "damaged drums"})
    assert page.status_code == 422
    assert ('<p class="field-error" id="delta-error">5 on hand with 3 allocated to orders: at most 2 units can be '
            'taken away.</p>') in page.text
    db.session.expire_all()
    assert db.session.get(Stock, stock.id).on_hand == 5
    assert db.session.scalar(select(func.count(StockMovement.id)).where(
        StockMovement.kind == MovementKind.ADJUSTMENT)) == 0


def test_adjustment_needs_a_reason_and_is_recorded_in_the_ledger_with_who(client, product):
    batch = make_lot(product, "L-ADJ2", {"LEU-USP-25KG": 5})
    stock = batch.stocks[0]
    staff = sign_in(client, "warehouse")
    no_reason = client.post(f"/staff/stock/{stock.id}/adjust", data={"kind": "adjustment", "delta": "-1"})
    assert no_reason.status_code == 422 and "A reason is required for every adjustment." in no_reason.text
    ok = client.post(f"/staff/stock/{stock.id}/adjust", data={"kind": "scrap", "delta": "-2",
                                                              "reason": "two drums punctured"}, follow_redirects=True)
    assert "Adjustment of -2 units recorded for lot L-ADJ2, LEU-USP-25KG." in ok.text
    db.session.expire_all()
    assert db.session.get(Stock, stock.id).on_hand == 3
    ledger = client.get("/staff/ledger?lot=L-ADJ2")
    text = text_of(ledger.text)
    assert f"scrap L-ADJ2 LEU-USP-25KG -2 two drums punctured {staff.email}" in text


def test_ledger_filters_by_lot_sku_and_date_and_pages_with_a_cursor(client, product):
    a = make_lot(product, "L-A", {"LEU-USP-25KG": 50, "LEU-USP-1KG": 10})
    make_lot(product, "L-B", {"LEU-USP-25KG": 5})
    drums = next(s for s in a.stocks if s.variant.sku == "LEU-USP-25KG")
    for i in range(1, 8):
        inventory.adjust_stock(drums.id, -1, f"count {i}")
    db.session.commit()
    sign_in(client, "quality")
    first = client.get("/staff/ledger?lot=L-A&sku=LEU-USP-25KG")
    assert "L-B" not in first.text and "LEU-USP-1KG" not in text_of(first.text).split("Kind")[-1]
    rows = text_of(first.text).count("adjustment L-A")
    assert rows == 7
    # 3 lots' receipts + 7 adjustments = 10 rows; pages of 4 must walk them all, newest first, once each
    seen, cursor = [], None
    while True:
        page = reports.ledger_page(cursor=cursor, limit=4)
        seen.extend(r.id for r in page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == 10 and seen == sorted(seen, reverse=True)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert "No movement matches." in client.get(f"/staff/ledger?date_from={tomorrow}").text
    assert client.get("/staff/ledger?cursor=garbage").status_code == 400
