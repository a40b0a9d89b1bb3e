"""The foundation: schema from migrations, QC release rules, database-enforced stock limits, ledger, CLI."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from shop.accounts.models import ApiKey
from shop.catalog.models import Product, Variant
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus, Stock, StockMovement
from shop.platform.audit import AuditEntry
from shop.platform.config import ConfigError, load_config
from shop.platform.errors import InvalidInput, ReleaseRefused
from shop.platform.extensions import db
from shop.quality import release
from tests.support.factories import good_results, make_lot, make_staff, releaser, signed


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_home_lists_demo_products(app, client, runner):
    result = runner.invoke(args=["shop", "seed-demo"])
    assert result.exit_code == 0, result.output
    page = client.get("/")
    assert page.status_code == 200
    for name in ("L-Leucine USP", "L-Leucine Ph. Eur.", "L-Leucine FCC food grade", "L-Leucine feed grade"):
        assert name in page.text


def test_unknown_url_is_a_friendly_404(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "text/html" in page.content_type
    assert "Traceback" not in page.text


def test_seed_demo_twice_leaves_the_same_counts(app, runner):
    def counts():
        return [db.session.scalar(select(func.count()).select_from(m)) for m in (Product, Variant, Batch, Stock,
                                                                                   StockMovement)]

    assert runner.invoke(args=["shop", "seed-demo"]).exit_code == 0
    first = counts()
    assert runner.invoke(args=["shop", "seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert counts() == first
    assert first[0] >= 4
    statuses = set(db.session.scalars(select(Batch.status)))
    assert {BatchStatus.RELEASED, BatchStatus.QUARANTINE, BatchStatus.REJECTED} <= statuses


def test_release_refused_for_missing_result_names_the_test(app, product):
    batch = make_lot(product, "L-MISSING", {"LEU-USP-25KG": 5}, status="quarantine")
    results = good_results(product)
    del results["Lead (Pb)"]
    release.record_results(batch, results)
    with pytest.raises(ReleaseRefused) as refused:
        release.release_batch(batch, signed(releaser(), "release", "L-MISSING"))
    assert "Lead (Pb): no result recorded" in refused.value.message
    assert [f.test for f in refused.value.failures] == ["Lead (Pb)"]
    db.session.rollback()
    assert db.session.get(Batch, batch.id).status == BatchStatus.QUARANTINE


def test_release_refused_for_out_of_spec_result_names_the_test(app, product):
    batch = make_lot(product, "L-OOS", {"LEU-USP-25KG": 5}, status="quarantine")
    results = good_results(product) | {"Assay (dried basis)": "97.9", "Identification (IR)": "does not conform"}
    release.record_results(batch, results)
    with pytest.raises(ReleaseRefused) as refused:
        release.release_batch(batch, signed(releaser(), "release", "L-OOS"))
    failing = {f.test: f.reason for f in refused.value.failures}
    assert set(failing) == {"Assay (dried basis)", "Identification (IR)"}
    assert "97.9 is outside 98.5 – 101.5 %" in failing["Assay (dried basis)"]


def test_release_with_every_result_in_spec(app, product):
    batch = make_lot(product, "L-GOOD", {"LEU-USP-25KG": 5}, status="quarantine")
    release.record_results(batch, good_results(product))
    release.release_batch(batch, signed(releaser(), "release", "L-GOOD"))
    db.session.commit()
    assert db.session.get(Batch, batch.id).status == BatchStatus.RELEASED


def test_recording_and_correcting_results_is_audited_with_the_earlier_value(app, product):
    batch = make_lot(product, "L-FIX", {"LEU-USP-25KG": 5}, status="quarantine")
    release.record_results(batch, {"Assay (dried basis)": "98.1", "Iron": "10"})
    release.record_results(batch, {"Assay (dried basis)": "99.2", "Iron": "10"})  # a typo corrected
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.subject == "lot L-FIX")
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["coa.results_recorded", "coa.results_recorded"]
    assert entries[0].detail == "Assay (dried basis): 98.1; Iron: 10"
    assert entries[1].detail == "Assay (dried basis): 98.1 -> 99.2"
    assert {r.value for r in db.session.get(Batch, batch.id).results} == {"99.2", "10"}


def test_result_for_unknown_test_or_non_number_is_refused(app, product):
    batch = make_lot(product, "L-BAD", {"LEU-USP-25KG": 5}, status="quarantine")
    with pytest.raises(InvalidInput) as bad:
        release.record_results(batch, {"Colour of solution": "ok", "Iron": "a lot"})
    assert set(bad.value.errors) == {"results.Colour of solution", "results.Iron"}


def test_database_rejects_allocated_above_on_hand(app, product):
    make_lot(product, "L-CK1", {"LEU-USP-25KG": 5})
    with pytest.raises(IntegrityError):
        db.session.execute(update(Stock).values(allocated=6))
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("values", [{"on_hand": -1, "allocated": 0}, {"allocated": -1}])
def test_database_rejects_negative_stock(app, product, values):
    make_lot(product, "L-CK2", {"LEU-USP-25KG": 5})
    with pytest.raises(IntegrityError):
        db.session.execute(update(Stock).values(**values))
        db.session.flush()
    db.session.rollback()


@pytest.mark.tampers_ledger  # sets three units allocated without an order
def test_adjustment_needs_a_reason_and_never_goes_below_allocated(app, product):
    batch = make_lot(product, "L-ADJ", {"LEU-USP-25KG": 5})
    stock = batch.stocks[0]
    with pytest.raises(InvalidInput) as no_reason:
        inventory.adjust_stock(stock.id, -1, "  ")
    assert "reason" in no_reason.value.errors
    stock.allocated = 3
    db.session.commit()
    with pytest.raises(InvalidInput) as too_far:
        inventory.adjust_stock(stock.id, -3, "damaged drums")
    assert "at most 2 units" in too_far.value.errors["delta"][0]
    db.session.rollback()
    assert db.session.get(Stock, stock.id).on_hand == 5


@pytest.mark.tampers_ledger
def test_ledger_check_passes_after_receipts_and_adjustments_and_fails_when_tampered(app, product, runner):
    batch = make_lot(product, "L-LEDGER", {"LEU-USP-1KG": 10, "LEU-USP-25KG": 4})
    make_lot(product, "L-LEDGER2", {"LEU-USP-25KG": 7})
    inventory.adjust_stock(batch.stocks[0].id, -2, "two bags torn in transit")
    inventory.adjust_stock(batch.stocks[1].id, +1, "recount found one more drum")
    db.session.commit()
    assert inventory.check_ledger() == []
    ok = runner.invoke(args=["shop", "check-ledger"])
    assert ok.exit_code == 0 and "Ledger OK" in ok.output

    db.session.execute(update(Stock).where(Stock.id == batch.stocks[1].id).values(on_hand=9))
    db.session.commit()
    mismatches = inventory.check_ledger()
    assert [(m.lot_number, m.on_hand, m.ledger_on_hand) for m in mismatches] == [("L-LEDGER", 9, 5)]
    bad = runner.invoke(args=["shop", "check-ledger"])
    assert bad.exit_code != 0
    assert "MISMATCH lot L-LEDGER" in bad.output


def test_api_key_is_printed_once_and_stored_only_hashed(app, runner, customer):
    result = runner.invoke(args=["shop", "create-api-key", "--customer", customer.email])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("lsk_") and len(key) > 40
    stored = db.session.scalars(select(ApiKey)).one()
    assert key not in (stored.key_hash, stored.prefix)
    dump = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM api_key")) for v in row)
    assert key not in dump


def test_cli_bad_arguments_give_one_line_error_and_write_nothing(app, runner):
    short = runner.invoke(args=["shop", "create-customer", "--email", "a@b.example", "--password", "short",
                                "--company", "X"])
    assert short.exit_code != 0
    assert "password: Use at least 10 characters." in short.output
    no_customer = runner.invoke(args=["shop", "create-api-key", "--customer", "nobody@example.com"])
    assert no_customer.exit_code != 0 and "No customer with email" in no_customer.output
    assert "Traceback" not in short.output + no_customer.output
    assert db.session.scalar(select(func.count(ApiKey.id))) == 0


def _lot_file(tmp_path, product, lot, **changes):
    data = {"product": product.slug, "lot_number": lot,
            "manufactured_on": (date.today() - timedelta(days=10)).isoformat(),
            "expires_on": (date.today() + timedelta(days=900)).isoformat(),
            "units": {"LEU-USP-25KG": 8, "LEU-USP-1KG": 20}, "results": good_results(product)}
    data.update(changes)
    path = tmp_path / f"{lot}.json"
    path.write_text(json.dumps(data))
    return path


def _import(runner, path, *extra, password="staff password"):
    """import-batch FILE --release, signed by a quality user whose password goes in at the prompt."""
    return runner.invoke(args=["shop", "import-batch", str(path), "--release", "--signed-by", "quality@shop.example",
                               *extra], input=password + "\n")


def test_import_batch_with_release(app, runner, product, tmp_path):
    make_staff("quality")
    result = _import(runner, _lot_file(tmp_path, product, "IMP-1"))
    assert result.exit_code == 0, result.output
    assert "IMP-1 received: released" in result.output
    batch = inventory.get_batch("IMP-1")
    assert {s.variant.sku: s.on_hand for s in batch.stocks} == {"LEU-USP-25KG": 8, "LEU-USP-1KG": 20}


def test_import_batch_release_refused_names_failing_tests_and_writes_nothing(app, runner, product, tmp_path):
    results = good_results(product) | {"Loss on drying": "0.35"}
    del results["Sulfate"]
    path = _lot_file(tmp_path, product, "IMP-2", results=results)
    make_staff("quality")
    result = _import(runner, path)
    assert result.exit_code != 0
    assert "Loss on drying" in result.output and "Sulfate" in result.output
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_import_batch_rejects_malformed_files(app, runner, product, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "not valid JSON" in runner.invoke(args=["shop", "import-batch", str(broken)]).output
    unknown_sku = _lot_file(tmp_path, product, "IMP-3", units={"LEU-XXX": 3})
    result = runner.invoke(args=["shop", "import-batch", str(unknown_sku)])
    assert result.exit_code != 0 and "units.LEU-XXX" in result.output
    assert db.session.scalar(select(func.count(Batch.id))) == 0


@pytest.mark.parametrize(("name", "raw"), [("LOW_STOCK_UNITS", "ten"), ("LOW_STOCK_UNITS", "-1"),
                                           ("IDEMPOTENCY_TTL_HOURS", "12"), ("DEFAULT_MIN_SHELF_LIFE_DAYS", "1.5")])
def test_a_bad_number_setting_is_refused_with_its_name(monkeypatch, tmp_path, name, raw):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigError, match=f"^{name} must be a whole number of at least .*, not '{raw}'"):
        load_config(str(tmp_path))


def test_number_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("LOW_STOCK_UNITS", " 4 ")
    monkeypatch.setenv("IDEMPOTENCY_TTL_HOURS", "48")
    config = load_config(str(tmp_path))
    assert (config["LOW_STOCK_UNITS"], config["IDEMPOTENCY_TTL_HOURS"]) == (4, 48)
