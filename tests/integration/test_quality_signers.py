"""Only the quality unit signs: a release, rejection or recall needs the quality role itself (admin alone is not
enough); a staff user holds one or more roles (the Staff page, create-staff); the CoA names the signer's role."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.accounts import people as accounts
from shop.accounts.models import StaffUser
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus
from shop.platform.audit import AuditEntry
from shop.platform.extensions import db
from shop.quality import release
from shop.quality.models import LotSignature, SignedAction
from tests.support.api import ApiClient
from tests.support.factories import good_results, import_file, make_lot, make_staff
from tests.support.staff import PASSWORD, sign_in, text_of

pytestmark = pytest.mark.usefixtures("staff_clients")
SIGN = {"confirm": "y", "password": PASSWORD}
NEEDS_QUALITY = "needs the quality role itself (admin alone is not enough)"


def _lots(product) -> None:
    """L-Q in quarantine with every result in spec (recorded by the lab system), L-R released."""
    waiting = make_lot(product, "L-Q", {"LEU-USP-25KG": 4}, status="quarantine")
    release.record_results(waiting, good_results(product))
    make_lot(product, "L-R", {"LEU-USP-25KG": 4})
    db.session.commit()


def _status(lot_number: str) -> BatchStatus:
    db.session.expire_all()
    return inventory.get_batch(lot_number).status


def _roles(email: str) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalar(select(StaffUser).where(StaffUser.email == email)).roles)


def test_an_admin_without_the_quality_role_is_not_offered_the_signatures_and_is_refused_them(client, product):
    _lots(product)
    signatures_before = db.session.scalars(select(LotSignature.id)).all()
    sign_in(client, "admin")
    waiting = client.get("/staff/batches/L-Q").text
    assert "Sign and release lot" not in waiting and "Sign and reject lot" not in waiting
    assert ("Releasing or rejecting lot L-Q is signed by the quality unit: it needs the quality role, and you hold "
            "admin.") in text_of(waiting)
    released = client.get("/staff/batches/L-R").text
    assert "Prepare a recall" not in released
    assert "Recalling lot L-R is signed by the quality unit: it needs the quality role" in text_of(released)
    for url, data in (("/staff/batches/L-Q/release", SIGN), ("/staff/batches/L-Q/reject", {"reason": "x", **SIGN}),
                      ("/staff/batches/L-R/recall", {"reason": "x", "public_note": "Do not use.", **SIGN})):
        refused = client.post(url, data=data)
        assert refused.status_code == 403, url
        assert f"This {NEEDS_QUALITY}; you are signed in as admin." in text_of(refused.text)
    assert client.get("/staff/batches/L-R/recall/new").status_code == 403
    assert (_status("L-Q"), _status("L-R")) == (BatchStatus.QUARANTINE, BatchStatus.RELEASED)
    assert db.session.scalars(select(LotSignature.id)).all() == signatures_before
    # every other right of an admin stays: the results of a quarantined lot, the staff accounts
    assert client.get("/staff/staff-users").status_code == 200


def test_an_admin_who_also_holds_the_quality_role_signs_and_the_coa_names_the_quality_unit(client, product):
    _lots(product)
    sign_in(client, ("admin", "quality"), email="lead@shop.example")
    assert "Sign and release lot" in client.get("/staff/batches/L-Q").text
    assert client.post("/staff/batches/L-Q/release", data=SIGN).status_code == 302
    assert _status("L-Q") == BatchStatus.RELEASED
    assert "Released by lead@shop.example, quality unit, on" in text_of(client.get("/coa/L-Q").text)
    assert client.get("/staff/staff-users").status_code == 200


def _released_by_an_admin_before_the_rule(product) -> None:
    """L-OLD, released by an admin as migration 0018 leaves a release signed before signing needed quality."""
    lot = make_lot(product, "L-OLD", {"LEU-USP-25KG": 4})
    admin = make_staff("admin", email="boss@shop.example")
    signature = lot.signatures[-1]
    signature.staff_id, signature.signer_name, signature.signer_email = admin.id, "Boss", admin.email
    signature.signer_role = "admin"
    db.session.commit()


def test_the_coa_of_a_lot_an_admin_released_before_names_the_admin_role_not_the_quality_unit(client, product):
    _released_by_an_admin_before_the_rule(product)
    page = text_of(client.get("/coa/L-OLD").text)
    assert "Released by Boss (boss@shop.example), admin (not the quality unit), on" in page
    assert "quality unit, on" not in page


def test_the_staff_lot_page_names_the_role_each_signature_was_signed_in_as_the_coa_does(client, product):
    _released_by_an_admin_before_the_rule(product)
    make_lot(product, "L-NEW", {"LEU-USP-25KG": 4})
    sign_in(client, "warehouse")
    old = text_of(client.get("/staff/batches/L-OLD").text)
    assert "release Boss (boss@shop.example), admin (not the quality unit)," in old
    new = text_of(client.get("/staff/batches/L-NEW").text)
    assert "release Rita Release (qa-release@shop.example), quality unit," in new
    assert "not the quality unit" not in new


def test_the_api_names_the_role_the_release_was_signed_in_as_the_coa_does(client, product, customer):
    _released_by_an_admin_before_the_rule(product)
    make_lot(product, "L-NEW", {"LEU-USP-25KG": 4})
    api = ApiClient(client, accounts.create_api_key(customer), customer)
    db.session.commit()
    old, new = api.get("/api/v1/batches/l-old").get_json(), api.get("/api/v1/batches/L-NEW").get_json()
    assert (old["released_by"], old["released_as"]) == ("Boss", "admin (not the quality unit)")
    assert (new["released_by"], new["released_as"]) == ("Rita Release", "quality unit")
    batch = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Batch"]
    released_as = batch["properties"]["released_as"]
    assert "released_as" in batch["required"] and "null" in released_as["type"]
    assert {"quality unit", "admin (not the quality unit)"} <= set(released_as["enum"])
    assert "CoA" in released_as["description"]


def _import_released(runner, tmp_path, product, signer: str):
    return runner.invoke(args=["shop", "import-batch", import_file(tmp_path, product, "IMP-7"), "--release",
                               "--signed-by", signer], input=f"{PASSWORD}\n")


def test_import_batch_refuses_a_signer_without_the_quality_role_naming_why_and_changes_nothing(runner, product,
                                                                                              tmp_path):
    make_staff("admin", email="boss@shop.example")
    result = _import_released(runner, tmp_path, product, "boss@shop.example")
    assert result.exit_code != 0
    assert ("boss@shop.example cannot sign the release: a release is signed by the quality unit, which needs the "
            "quality role (boss@shop.example holds admin).") in result.output
    assert "Password of" not in result.output  # refused before the password is asked for
    db.session.expire_all()
    assert db.session.scalar(select(Batch.id)) is None
    assert db.session.scalar(select(AuditEntry.id)) is None
    unknown = _import_released(runner, tmp_path, product, "nobody@shop.example")
    assert unknown.exit_code != 0 and "No staff user nobody@shop.example: nothing was signed." in unknown.output


def test_import_batch_signed_by_an_admin_who_also_holds_quality_releases(runner, product, tmp_path):
    make_staff(("admin", "quality"), email="lead@shop.example")
    result = _import_released(runner, tmp_path, product, "lead@shop.example")
    assert result.exit_code == 0, result.output
    assert _status("IMP-7") == BatchStatus.RELEASED
    assert db.session.scalar(select(LotSignature.signer_role).where(LotSignature.action == SignedAction.RELEASE)) \
        == "quality"


def test_create_staff_gives_every_role_named(runner):
    result = runner.invoke(args=["shop", "create-staff", "--email", "lead@shop.example", "--password",
                                 "a long unusual passphrase", "--role", "admin", "--role", "quality"])
    assert result.exit_code == 0, result.output
    assert "Staff user lead@shop.example (admin, quality) created." in result.output
    assert _roles("lead@shop.example") == ["admin", "quality"]


def _roles_form(user: StaffUser, *roles: str) -> dict:
    return {f"user{user.id}-roles": list(roles)}


def test_an_admin_ticks_a_second_role_on_the_staff_page_and_it_is_audited(client):
    admin = sign_in(client, "admin")
    lead = make_staff("admin", email="lead@shop.example")
    page = client.get("/staff/staff-users").text
    for role in ("admin", "warehouse", "quality", "fulfilment"):
        assert f'name="user{lead.id}-roles" type="checkbox" value="{role}"' in page
    saved = client.post(f"/staff/staff-users/{lead.id}/roles", data=_roles_form(lead, "admin", "quality"),
                        follow_redirects=True)
    assert saved.status_code == 200
    assert "lead@shop.example now holds admin, quality." in text_of(saved.text)
    assert _roles("lead@shop.example") == ["admin", "quality"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.roles_changed"))
    assert (entry.staff_id, entry.subject, entry.detail) == (admin.id, "staff lead@shop.example",
                                                             "admin -> admin, quality")


def test_staff_roles_need_one_role_and_one_admin_always_remains(client):
    admin = sign_in(client, "admin")
    lead = make_staff("quality", email="lead@shop.example")
    none = client.post(f"/staff/staff-users/{lead.id}/roles", data={})
    assert none.status_code == 422
    assert "Tick at least one role for lead@shop.example." in text_of(none.text)
    last = client.post(f"/staff/staff-users/{admin.id}/roles", data=_roles_form(admin, "quality"))
    assert last.status_code == 422
    assert "admin@shop.example is the last admin: give another staff user the admin role first." \
        in text_of(last.text)
    unknown = client.post(f"/staff/staff-users/{lead.id}/roles", data=_roles_form(lead, "owner"))
    assert unknown.status_code == 422 and "Traceback" not in unknown.text
    assert (_roles("lead@shop.example"), _roles("admin@shop.example")) == (["quality"], ["admin"])
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_only_an_admin_sets_roles(client):
    lead = make_staff("warehouse", email="lead@shop.example")
    sign_in(client, "quality")
    assert client.post(f"/staff/staff-users/{lead.id}/roles", data=_roles_form(lead, "quality")).status_code == 403
    assert _roles("lead@shop.example") == ["warehouse"]
