"""Strict CoA result entry on the staff form and in import-batch, the "Check" preview, and lots that can never be
released on an out-of-specification or refused result; the check command and the migration list bad results."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text, update

from shop import create_app
from shop.catalog.models import Product, SpecTest, Variant
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus
from shop.lab.models import CoaResult, CoaResultRevision
from shop.platform.errors import InvalidInput, ReleaseRefused
from shop.platform.extensions import db
from shop.quality import release
from tests.support.factories import make_lot, make_staff, releaser, signed
from tests.support.staff import sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")
D = Decimal
# (test, min, max, unit): a maximum of 10 and a minimum of 10 to judge '< 5' against, as the issue asks.
LAB_SPEC = [("Appearance", None, None, ""), ("Chlorides", None, D(200), "ppm"), ("Impurity A", None, D(10), "ppm"),
            ("Content", D(10), None, "%"), ("Specific optical rotation", D("14.5"), D("16.5"), "°")]
GOOD = {"Appearance": "conforms", "Chlorides": "80", "Impurity A": "2.5", "Content": "12.0",
        "Specific optical rotation": "15.2"}
REFUSED = [  # (test, value, what the message says)
    ("Chlorides", "1,500", "could be a thousands separator or a decimal comma"),
    ("Specific optical rotation", "15,2", "has a decimal comma"),
    ("Chlorides", "1e1", "is written with an exponent"),
    ("Impurity A", "-5", "a result in ppm cannot be negative"),
    ("Chlorides", "NaN", "is not a measured value"),
    ("Chlorides", "Infinity", "is not a measured value"),
    ("Chlorides", " 12 ", "Remove the spaces before or after"),
    ("Chlorides", "12 ppm", "enter the number only, e.g. 12"),
]


@pytest.fixture
def lab(app) -> Product:
    product = Product(slug="l-leucine-lab", name="L-Leucine Lab", grade="LAB", cas_number="61-90-5",
                      formula="C6H13NO2", molecular_weight=D("131.17"))
    for i, (name, lo, hi, unit) in enumerate(LAB_SPEC):
        product.spec_tests.append(SpecTest(position=i, name=name, min_value=lo, max_value=hi, unit=unit, method="m"))
    product.variants.append(Variant(sku="LEU-LAB-25KG", pack_size_kg=D(25), unit_price=D("1000.00")))
    db.session.add(product)
    db.session.commit()
    return product


def _form(product, results: dict[str, str], **extra) -> dict[str, str]:
    ids = {t.name: t.id for t in product.spec_tests}
    return {f"result_{ids[name]}": value for name, value in results.items()} | extra


def _saved() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count(CoaResult.id))),
            db.session.scalar(select(func.count(CoaResultRevision.id))))


def test_the_form_refuses_each_ambiguous_value_beside_its_field_and_saves_nothing(client, lab):
    make_lot(lab, "LAB-1", {"LEU-LAB-25KG": 5}, status="quarantine")
    sign_in(client, "quality")
    for test, value, says in REFUSED:  # one lot for all eight: each post is refused whole
        page = client.post("/staff/batches/LAB-1/results", data=_form(lab, GOOD | {test: value}))
        assert page.status_code == 422, value
        field = next(t for t in lab.spec_tests if t.name == test)
        error = re.search(rf'<p class="field-error" id="result_{field.id}-error">(.*?)</p>', page.text)
        assert error and says in text_of(error.group(1)), value
        assert _saved() == (0, 0), value  # not even the good values were half-saved


def test_each_field_shows_its_unit_and_limit(client, lab):
    make_lot(lab, "LAB-1", {"LEU-LAB-25KG": 5}, status="quarantine")
    sign_in(client, "quality")
    page = client.get("/staff/batches/LAB-1").text
    chlorides = next(t for t in lab.spec_tests if t.name == "Chlorides")
    field = re.search(rf'<td data-label="New value"><div class="with-unit"><input[^>]*id="result_{chlorides.id}"[^>]*>'
                      r'<span class="unit">(.*?)</span></div>\s*<p class="hint" id="result_\d+-hint">(.*?)</p>',
                      page)
    assert field.group(1) == "ppm"
    assert text_of(field.group(2)).startswith("Limit ≤ 200 ppm · a number such as 12.5, or < N below the limit")


def test_below_5_passes_a_maximum_of_10_and_cannot_pass_a_minimum_of_10_on_the_form(app, client, lab):
    make_lot(lab, "LAB-1", {"LEU-LAB-25KG": 5}, status="quarantine")
    sign_in(client, "quality")
    page = client.post("/staff/batches/LAB-1/results", data=_form(lab, GOOD | {"Impurity A": "< 5", "Content": "<5"}),
                       follow_redirects=True)
    assert "5 results saved for lot LAB-1." in page.text
    rows = {row.split(" ")[0] + " " + row.split(" ")[1]: row
            for row in (text_of(r) for r in re.findall(r"<tr[^>]*>.*?</tr>", page.text, re.DOTALL))}
    assert re.search(r"< 5 ppm .* pass", rows["Impurity A"])
    assert re.search(r"< 5 % .* fail", rows["Content m"])
    stored = db.session.scalar(select(CoaResult).join(SpecTest).where(SpecTest.name == "Impurity A"))
    assert (stored.value, stored.numeric_value, stored.qualifier) == ("< 5", D(5), "<")
    reviewer = app.test_client()
    sign_in(reviewer, "quality", email="reviewer@shop.example")
    refused = reviewer.post("/staff/batches/LAB-1/release", data={"confirm": "y", "password": "staff password"})
    assert refused.status_code == 409
    alert = text_of(re.search(r'<div class="alert alert-bad" role="alert">(.*?)</div>', refused.text, re.S).group(1))
    assert alert.endswith("Every test needs a result inside its limits: Content: result < 5 is outside ≥ 10 %")


def test_a_below_bound_that_cannot_be_judged_is_refused(client, lab):
    make_lot(lab, "LAB-1", {"LEU-LAB-25KG": 5}, status="quarantine")
    sign_in(client, "quality")
    page = client.post("/staff/batches/LAB-1/results", data=_form(lab, {"Impurity A": "< 50"}))
    assert page.status_code == 422 and "&#39;&lt; 50&#39; cannot be judged against ≤ 10 ppm" in page.text
    assert _saved() == (0, 0)


def test_check_previews_pass_and_fail_without_saving(client, lab):
    make_lot(lab, "LAB-1", {"LEU-LAB-25KG": 5}, status="quarantine")
    sign_in(client, "quality")
    page = client.post("/staff/batches/LAB-1/results",
                       data=_form(lab, GOOD | {"Chlorides": "250", "Content": "1,5"}, check="Check results"))
    assert page.status_code == 422  # one value is refused: shown beside its field
    text = text_of(page.text)
    assert "Checked, not saved: 5 values read, 1 would fail, 1 refused" in text
    assert re.search(r"Chlorides .* would fail", text) and re.search(r"Impurity A .* would pass", text)
    assert "&#39;1,5&#39; has a decimal comma" in page.text
    assert 'value="250"' in page.text  # the values stay in the form, to be saved or corrected
    assert _saved() == (0, 0)
    clean = client.post("/staff/batches/LAB-1/results", data=_form(lab, GOOD, check="Check results"))
    assert clean.status_code == 200 and "Checked, not saved: 5 values read." in text_of(clean.text)
    assert _saved() == (0, 0)


def test_a_correction_keeps_the_earlier_value(client, lab):
    batch = make_lot(lab, "LAB-1", {"LEU-LAB-25KG": 5}, status="quarantine")
    staff = sign_in(client, "quality")
    release.record_results(batch, {"Chlorides": "95"}, staff)
    release.record_results(batch, {"Chlorides": "59"}, staff)  # digits swapped, corrected
    db.session.commit()
    values = db.session.scalars(select(CoaResultRevision.value).order_by(CoaResultRevision.id)).all()
    assert values == ["95", "59"]
    assert "1 earlier value" in text_of(client.get("/staff/batches/LAB-1").text)


def _file(tmp_path, product, lot: str, results: dict | str) -> str:
    """An import-batch file; `results` as a dict, or as raw JSON text (to write numbers as JSON numbers)."""
    head = {"product": product.slug, "lot_number": lot,
            "manufactured_on": (date.today() - timedelta(days=5)).isoformat(),
            "expires_on": (date.today() + timedelta(days=900)).isoformat(), "units": {"LEU-LAB-25KG": 4}}
    body = json.dumps(head)[:-1] + ', "results": ' + (results if isinstance(results, str) else json.dumps(results)) \
        + "}"
    path = tmp_path / f"{lot}.json"
    path.write_text(body)
    return str(path)


def _import(runner, path: str, release: bool = True):
    args = ["shop", "import-batch", path] + (["--release", "--signed-by", "quality@shop.example"] if release else [])
    return runner.invoke(args=args, input="staff password\n")


def test_import_batch_refuses_each_ambiguous_value_and_writes_nothing(app, runner, lab, tmp_path):
    make_staff("quality")
    for test, value, says in REFUSED:
        result = _import(runner, _file(tmp_path, lab, "LAB-IMP", GOOD | {test: value}), release=False)
        assert result.exit_code != 0, value
        assert f"results.{test}:" in result.output and says in result.output, value
        assert db.session.scalar(select(func.count(Batch.id))) == 0 and _saved() == (0, 0), value


def test_import_batch_keeps_a_json_number_as_written_so_1e1_is_refused(app, runner, lab, tmp_path):
    raw = json.dumps(GOOD)[:-1] + ', "Chlorides": 1e1}'  # a JSON number in exponent form
    result = _import(runner, _file(tmp_path, lab, "LAB-NUM", raw), release=False)
    assert result.exit_code != 0 and "'1e1' is written with an exponent" in result.output
    ok = _import(runner, _file(tmp_path, lab, "LAB-INT", json.dumps(GOOD)[:-1] + ', "Chlorides": 80}'),
                 release=False)
    assert ok.exit_code == 0, ok.output  # a JSON integer is exactly what it says


def test_import_batch_below_5_passes_a_maximum_of_10_and_cannot_pass_a_minimum_of_10(app, runner, lab, tmp_path):
    make_staff("quality")
    passes = _import(runner, _file(tmp_path, lab, "LAB-MAX", GOOD | {"Impurity A": "< 5"}))
    assert passes.exit_code == 0, passes.output
    assert "LAB-MAX received: released" in passes.output
    fails = _import(runner, _file(tmp_path, lab, "LAB-MIN", GOOD | {"Content": "< 5"}))
    assert fails.exit_code != 0
    assert "Content: result < 5 is outside ≥ 10 %" in fails.output
    assert db.session.scalar(select(Batch.lot_number)) == "LAB-MAX"  # the refused lot wrote nothing


def test_an_out_of_specification_result_can_never_be_released(app, lab):
    batch = make_lot(lab, "LAB-OOS", {"LEU-LAB-25KG": 5}, status="quarantine")
    release.record_results(batch, GOOD | {"Chlorides": "201"})
    with pytest.raises(ReleaseRefused) as refused:
        release.release_batch(batch, signed(releaser(), "release", "LAB-OOS"))
    assert [f.test for f in refused.value.failures] == ["Chlorides"]
    db.session.rollback()
    assert db.session.get(Batch, batch.id).status == BatchStatus.QUARANTINE


def test_a_result_recorded_before_the_rules_that_they_refuse_blocks_release(app, lab):
    """'1,500' stored by the old parser as 1.5 (inside ≤ 200 ppm) is read again by today's rules: refused."""
    batch = make_lot(lab, "EP-2612", {"LEU-LAB-25KG": 5}, status="quarantine")
    release.record_results(batch, GOOD)
    chlorides = next(r for r in batch.results if r.spec_test.name == "Chlorides")
    db.session.execute(update(CoaResult).where(CoaResult.id == chlorides.id).values(value="1,500",
                                                                                     numeric_value=D("1.5")))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(ReleaseRefused) as refused:
        release.release_batch(inventory.get_batch("EP-2612"), signed(releaser(), "release", "EP-2612"))
    assert refused.value.failures[0].test == "Chlorides"
    assert "result 1,500 is refused" in refused.value.failures[0].reason
    with pytest.raises(InvalidInput):  # and it cannot be entered again either
        release.record_results(inventory.get_batch("EP-2612"), {"Chlorides": "1,500"})


def test_check_results_lists_existing_results_the_rules_refuse(app, runner, lab):
    batch = make_lot(lab, "EP-2612", {"LEU-LAB-25KG": 5})
    make_lot(lab, "LAB-OK", {"LEU-LAB-25KG": 5})
    assert runner.invoke(args=["shop", "check-results"]).exit_code == 0
    for name, value in (("Chlorides", "1,500"), ("Impurity A", "-5"), ("Specific optical rotation", "15,2")):
        db.session.execute(update(CoaResult).where(CoaResult.batch_id == batch.id, CoaResult.spec_test_id == select(
            SpecTest.id).where(SpecTest.name == name).scalar_subquery()).values(value=value))
    db.session.commit()
    result = runner.invoke(args=["shop", "check-results"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("lot EP-2612 (released) Chlorides: '1,500': '1,500' has a comma")
    assert lines[1].startswith("lot EP-2612 (released) Impurity A: '-5': '-5': a result in ppm cannot be negative")
    assert lines[2].startswith("lot EP-2612 (released) Specific optical rotation: '15,2': '15,2' has a decimal comma")
    assert "3 recorded result(s) would be refused" in result.output
    assert db.session.scalar(select(CoaResult.value).join(SpecTest).where(SpecTest.name == "Chlorides",
                                                                          CoaResult.batch_id == batch.id)) == "1,500"


OLD_DATA = [  # a 0002 database: a recalled lot sold with '1,500', an order cancelled, one moved off the lot
    "INSERT INTO product (id, slug, name, grade, cas_number, formula, molecular_weight, description, position, active) "
    "VALUES (1, 'ep', 'EP', 'EP', '61-90-5', 'C6H13NO2', 131.17, '', 0, 1)",
    "INSERT INTO spec_test (id, product_id, position, name, min_value, max_value, unit, method) VALUES "
    "(1, 1, 0, 'Chlorides', NULL, 200, 'ppm', ''), (2, 1, 1, 'Iron', NULL, 10, 'ppm', '')",
    "INSERT INTO variant (id, product_id, sku, pack_size_kg, unit_price, min_order_quantity, active) "
    "VALUES (1, 1, 'EP-25', 25, 100, 1, 1)",
    "INSERT INTO batch (id, product_id, lot_number, manufactured_on, expires_on, status, status_reason, received_at, "
    "status_changed_at) VALUES (1, 1, 'EP-2612', '2026-01-01', '2029-01-01', 'recalled', 'x', "
    "'2026-01-02 00:00:00', '2026-03-01 00:00:00')",
    "INSERT INTO audit_entry (action, subject, detail, at) VALUES "
    "('batch.released', 'lot EP-2612', 'quarantine -> released', '2026-01-05 10:00:00')",
    "INSERT INTO coa_result (batch_id, spec_test_id, value, numeric_value, recorded_at) VALUES "
    "(1, 1, '1,500', 1.5, '2026-01-02 00:00:00'), (1, 2, '-5', -5, '2026-01-02 00:00:00')",
    "INSERT INTO stock (id, batch_id, variant_id, on_hand, allocated) VALUES (1, 1, 1, 10, 0)",
    "INSERT INTO customer (id, company, email, active, created_at, password_hash, failed_logins) "
    "VALUES (1, 'Acme', 'a@example.com', 1, '2026-01-01 00:00:00', 'x', 0)",
    "INSERT INTO \"order\" (id, number, customer_id, status, currency, subtotal, total, ship_name, ship_line1, "
    "ship_line2, ship_city, ship_postal_code, ship_country, purchase_order, tracking_reference, needs_attention, "
    "attention_note, placed_at) VALUES "
    "(1, 'LS-1', 1, 'cancelled', 'EUR', 100, 100, 'n', 'l', '', 'c', 'p', 'DE', '', '', 0, '', '2026-02-01 00:00:00'),"
    "(2, 'LS-2', 1, 'pending', 'EUR', 100, 100, 'n', 'l', '', 'c', 'p', 'DE', '', '', 1, 'x', '2026-02-02 00:00:00')",
    "INSERT INTO order_line (id, order_id, position, variant_id, sku, quantity, unit_price, line_total) VALUES "
    "(1, 1, 0, 1, 'EP-25', 1, 100, 100), (2, 2, 0, 1, 'EP-25', 1, 100, 100)",
    "INSERT INTO allocation (order_line_id, stock_id, quantity, status, created_at) VALUES "
    "(1, 1, 1, 'released', '2026-02-01 00:00:00'), (2, 1, 1, 'released', '2026-02-02 00:00:00')",
    "INSERT INTO stock_movement (stock_id, kind, on_hand_delta, allocated_delta, reason, order_id, created_at) VALUES "
    "(1, 'deallocation', 0, -1, 'Order LS-1 cancelled', 1, '2026-02-03 00:00:00'), "
    "(1, 'deallocation', 0, -1, 'Lot EP-2612 recalled', 2, '2026-03-01 00:00:00')",
]


def test_the_migration_lists_results_the_rules_refuse_and_changes_none_keeping_every_row(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="0002")
        engine = create_engine(url)
        with engine.begin() as conn:
            for statement in OLD_DATA:
                conn.execute(text(statement))
        capsys.readouterr()
        upgrade()
        printed = capsys.readouterr().out
        with engine.connect() as conn:
            def rows(sql):
                return conn.execute(text(sql)).all()
            values = rows("SELECT value FROM coa_result ORDER BY id")
            revisions = rows("SELECT value FROM coa_result_revision ORDER BY id")
            allocations = rows("SELECT order_line_id, status FROM allocation ORDER BY id")
            released_at = rows("SELECT released_at FROM batch")[0][0]
        engine.dispose()
        db.engine.dispose()
    assert "2 recorded CoA result(s) would be refused" in printed
    assert "lot EP-2612 (recalled) Chlorides: '1,500': '1,500' has a comma" in printed
    assert "lot EP-2612 (recalled) Iron: '-5'" in printed
    assert values == [("1,500",), ("-5",)] == revisions  # nothing silently changed; the history starts with them
    # rebuilding tables on SQLite lost no row (its DROP TABLE would cascade with foreign keys on)
    assert allocations == [(1, "returned_cancelled"), (2, "returned_recalled")]
    assert str(released_at).startswith("2026-01-05 10:00:00")  # from the audit log: the recall kept it
