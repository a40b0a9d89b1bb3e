"""Two-person release with an electronic signature: password again, a stated meaning, name and time, in the
audit log and on the CoA (page, PDF, API); import-batch --release signs as its operator."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from shop.accounts.models import StaffUser
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus
from shop.lab.models import CoaResult
from shop.platform.audit import AuditEntry
from shop.platform.config import ConfigError, load_config
from shop.platform.extensions import db
from shop.quality import release
from shop.quality.models import LotSignature
from shop.quality.release import SecondPersonRequired
from tests.support.factories import good_results, import_file, make_lot, make_staff, signed
from tests.support.staff import StaffClient, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")
SIGN = {"confirm": "y", "password": "staff password"}


def _results_form(product) -> dict[str, str]:
    return {f"result_{t.id}": v for t in product.spec_tests for n, v in good_results(product).items() if n == t.name}


def _status(lot_number: str) -> BatchStatus:
    db.session.expire_all()
    return inventory.get_batch(lot_number).status


def _recorded_by(client, product, lot: str):
    make_lot(product, lot, {"LEU-USP-25KG": 6}, status="quarantine")
    staff = sign_in(client, "quality", email="lab@shop.example")
    assert client.post(f"/staff/batches/{lot}/results", data=_results_form(product)).status_code == 302
    return staff


def test_the_person_who_recorded_the_results_cannot_release_the_lot(client, product):
    _recorded_by(client, product, "L-2P")
    page = client.post("/staff/batches/L-2P/release", data=SIGN, follow_redirects=True)
    assert ("You recorded or last corrected results of lot L-2P (Appearance, Identification (IR), Assay (dried "
            "basis)") in text_of(page.text)
    assert "another quality user must review and release it (two-person rule)" in text_of(page.text)
    # The page says so up front and offers no signature that would be refused.
    batch_page = client.get("/staff/batches/L-2P").text
    assert "another quality user must release this lot (two-person rule)" in text_of(batch_page)
    assert "Sign and release lot" not in batch_page and "Sign and reject lot" in batch_page
    assert _status("L-2P") == BatchStatus.QUARANTINE
    assert db.session.scalar(select(LotSignature.id)) is None


def test_one_corrected_result_is_enough_to_keep_its_author_from_releasing(app, product):
    batch = make_lot(product, "L-FIX", {"LEU-USP-25KG": 6}, status="quarantine")
    release.record_results(batch, good_results(product))  # recorded by the lab system (no staff)
    corrector = make_staff("quality")
    release.record_results(batch, {"Iron": "11"}, corrector)
    with pytest.raises(SecondPersonRequired, match=r"\(Iron\)"):
        release.release_batch(batch, signed(corrector, "release", "L-FIX"))
    db.session.rollback()


def test_a_second_quality_user_releases_with_password_and_meaning_recorded_in_the_audit_log(app, client, product):
    _recorded_by(client, product, "L-OK")
    reviewer = app.test_client()
    staff = sign_in(reviewer, "quality", email="reviewer@shop.example")
    staff.name = "Rosa Reviewer"
    db.session.commit()
    page = reviewer.get("/staff/batches/L-OK")
    assert 'I release lot L-OK as meeting its specification.' in page.text and "Your password, to sign" in page.text
    done = reviewer.post("/staff/batches/L-OK/release", data=SIGN, follow_redirects=True)
    assert "Lot L-OK released" in done.text
    assert _status("L-OK") == BatchStatus.RELEASED
    signature = db.session.scalar(select(LotSignature))
    assert (signature.action, signature.staff_id, signature.signer_name, signature.signer_email, signature.meaning,
            signature.independent) == ("release", staff.id, "Rosa Reviewer", "reviewer@shop.example",
                                       "I release lot L-OK as meeting its specification.", True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.released"))
    assert entry.staff_id == staff.id
    assert entry.detail == ("quarantine -> released. Signed by Rosa Reviewer (reviewer@shop.example) at "
                            f"{signature.signed_at:%Y-%m-%d %H:%M:%S} UTC: “I release lot L-OK as meeting its "
                            "specification.”")


@pytest.mark.parametrize(("data", "field", "says"), [
    ({"confirm": "y"}, "password", "Enter your password again to sign."),
    ({"confirm": "y", "password": "not my password"}, "password", "That is not your password: nothing was signed."),
    ({"password": "staff password"}, "confirm", "Tick the statement to sign it"),
])
def test_a_release_without_the_password_again_or_the_stated_meaning_is_refused(app, client, product, data, field,
                                                                               says):
    _recorded_by(client, product, "L-NOPW")
    reviewer = app.test_client()
    sign_in(reviewer, "quality", email="reviewer@shop.example")
    page = reviewer.post("/staff/batches/L-NOPW/release", data=data)
    assert page.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page.text)
    assert error and says in text_of(error.group(1))
    assert _status("L-NOPW") == BatchStatus.QUARANTINE
    assert db.session.scalar(select(LotSignature.id)) is None


def test_wrong_signing_passwords_are_throttled_like_failed_sign_ins_and_audited(app, client, product):
    _recorded_by(client, product, "L-LOCK")
    reviewer = app.test_client()
    sign_in(reviewer, "quality", email="reviewer@shop.example")
    for _ in range(5):  # RATELIMIT_SIGNIN_FAILURES: 5 per minute first
        assert reviewer.post("/staff/batches/L-LOCK/release", data={"confirm": "y", "password": "guess"}
                             ).status_code == 422
    held = reviewer.post("/staff/batches/L-LOCK/release", data=SIGN)  # even the right password, for a while
    assert held.status_code == 422
    assert re.search(r"Too many wrong passwords: signing is refused for \d+ seconds.", text_of(held.text))
    assert _status("L-LOCK") == BatchStatus.QUARANTINE
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "signature.refused")).all()) == 5
    other = app.test_client()  # the throttle is the signer's: another quality user signs as usual
    sign_in(other, "quality", email="third@shop.example")
    assert other.post("/staff/batches/L-LOCK/release", data=SIGN).status_code == 302


@pytest.fixture
def one_person_lab(make_app):
    app = make_app(RELEASE_REQUIRES_SECOND_PERSON=False)
    with app.app_context():
        yield app
        db.session.remove()


def test_a_one_person_lab_releases_its_own_results_and_the_coa_says_so(one_person_lab):
    from tests.support.factories import make_product

    product = make_product()
    one_person_lab.test_client_class = StaffClient
    client = one_person_lab.test_client()
    _recorded_by(client, product, "L-SOLO")
    done = client.post("/staff/batches/L-SOLO/release", data=SIGN, follow_redirects=True)
    assert "Lot L-SOLO released" in done.text
    assert db.session.scalar(select(LotSignature.independent)) is False
    coa = text_of(client.get("/coa/L-SOLO").text)
    assert "The same person recorded the results and released the lot (one-person laboratory" in coa


def _released_by_reviewer(app, client, product, lot="L-COA"):
    _recorded_by(client, product, lot)
    reviewer = app.test_client()
    sign_in(reviewer, "quality", email="reviewer@shop.example")
    assert reviewer.post(f"/staff/batches/{lot}/release", data=SIGN).status_code == 302
    return db.session.scalar(select(LotSignature))


def test_the_coa_page_pdf_and_api_carry_the_release_signature(app, client, product, customer):
    signature = _released_by_reviewer(app, client, product)
    page = text_of(client.get("/coa/L-COA").text)
    assert (f"Released by reviewer@shop.example, quality unit, on {signature.signed_at:%Y-%m-%d %H:%M} UTC. "
            "Electronically signed: “I release lot L-COA as meeting its specification.”") in page
    pdf = PdfReader(io.BytesIO(client.get("/coa/L-COA.pdf").data))
    words = " ".join(pdf.pages[0].extract_text().split())
    assert f"Released by reviewer@shop.example, quality unit, on {signature.signed_at:%Y-%m-%d %H:%M} UTC." in words
    assert "Electronically signed: “I release lot L-COA as meeting its specification.”" in words
    from shop.accounts import people as accounts

    key = accounts.create_api_key(customer)
    db.session.commit()
    body = client.get("/api/v1/batches/l-coa", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert (body["lot_number"], body["released_by"], body["released_on"], body["date_kind"]) == (
        "L-COA", "reviewer@shop.example", signature.signed_at.date().isoformat(), "expiry")


def test_reject_and_recall_are_signed_too(app, client, product):
    make_lot(product, "L-REJ", {"LEU-USP-25KG": 2}, status="quarantine")
    make_lot(product, "L-REC", {"LEU-USP-25KG": 2})
    sign_in(client, "quality")
    unsigned = client.post("/staff/batches/L-REJ/reject", data={"reason": "Foreign particles"})
    assert unsigned.status_code == 422 and _status("L-REJ") == BatchStatus.QUARANTINE
    client.post("/staff/batches/L-REJ/reject", data={"reason": "Foreign particles", **SIGN})
    client.post("/staff/batches/L-REC/recall", data={"reason": "Complaint", "public_note": "Do not use.", **SIGN})
    assert (_status("L-REJ"), _status("L-REC")) == (BatchStatus.REJECTED, BatchStatus.RECALLED)
    meanings = db.session.scalars(select(LotSignature.meaning).where(LotSignature.staff_id == db.session.scalar(
        select(StaffUser.id).where(StaffUser.email == "quality@shop.example"))).order_by(LotSignature.id)).all()
    assert meanings == ["I reject lot L-REJ: it must never be sold.",
                        "I recall lot L-REC: it must no longer be sold or used."]


def test_import_batch_records_results_as_the_lab_systems_and_the_release_as_its_operators(app, runner, product,
                                                                                          tmp_path):
    operator = make_staff("quality", email="operator@shop.example")
    path = import_file(tmp_path, product, "IMP-9")
    result = runner.invoke(args=["shop", "import-batch", path, "--release", "--signed-by", "operator@shop.example",
                                 "--lab-system", "LabWare LIMS"], input="staff password\n")
    assert result.exit_code == 0, result.output
    assert "Signing as operator@shop.example: “I release lot IMP-9 as meeting its specification.”" in result.output
    results = db.session.scalars(select(CoaResult)).all()
    assert {(r.recorded_by_id, r.source) for r in results} == {(None, "LabWare LIMS (import-batch imp.json)")}
    entries = {e.action: e for e in db.session.scalars(select(AuditEntry))}
    assert entries["coa.results_recorded"].staff_id is None
    assert entries["coa.results_recorded"].detail.endswith("(recorded by LabWare LIMS (import-batch imp.json))")
    assert entries["batch.released"].staff_id == operator.id
    assert "Signed by operator@shop.example" in entries["batch.released"].detail
    assert db.session.scalar(select(LotSignature.independent)) is True


def test_import_batch_release_needs_a_signer_and_their_password(app, runner, product, tmp_path):
    make_staff("quality", email="operator@shop.example")
    path = import_file(tmp_path, product, "IMP-9")
    unsigned = runner.invoke(args=["shop", "import-batch", path, "--release"])
    assert unsigned.exit_code != 0 and "--release needs --signed-by EMAIL" in unsigned.output
    wrong = runner.invoke(args=["shop", "import-batch", path, "--release", "--signed-by", "operator@shop.example"],
                          input="guess\n")
    assert wrong.exit_code != 0 and "That is not your password: nothing was signed." in wrong.output
    warehouse = make_staff("warehouse")
    not_quality = runner.invoke(args=["shop", "import-batch", path, "--release", "--signed-by", warehouse.email],
                                input="staff password\n")
    assert not_quality.exit_code != 0 and "a release is signed by the quality unit, which needs the quality role " \
        "(warehouse@shop.example holds warehouse)" in not_quality.output
    assert db.session.scalar(select(Batch.id)) is None
    assert db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "signature.refused")).all() == [
        "Wrong password when signing: release"]


def test_the_two_person_setting_must_be_a_clear_yes_or_no(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("RELEASE_REQUIRES_SECOND_PERSON", "maybe")
    with pytest.raises(ConfigError, match="^RELEASE_REQUIRES_SECOND_PERSON must be 0 or 1"):
        load_config(str(tmp_path))
    monkeypatch.setenv("RELEASE_REQUIRES_SECOND_PERSON", "0")
    assert load_config(str(tmp_path))["RELEASE_REQUIRES_SECOND_PERSON"] is False
    monkeypatch.delenv("RELEASE_REQUIRES_SECOND_PERSON")
    assert load_config(str(tmp_path))["RELEASE_REQUIRES_SECOND_PERSON"] is True
