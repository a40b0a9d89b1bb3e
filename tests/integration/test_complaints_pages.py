"""Complaints on the pages: a buyer reports a problem from an order line with a photo (a fake PDF is refused beside
the files), reads the company's complaints; the quality unit works the queue, sees every complaint on the same lot
together, downloads attachments, investigates and closes signed; a recall opened from a complaint is recorded on
it and its buyers are told."""
from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import func, select

from shop.accounts.models import StaffUser
from shop.complaints import service
from shop.complaints.models import Complaint, ComplaintAttachment, ComplaintStatus
from shop.ordering.models import NoticeKind, OrderNotice
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.complaints import INVESTIGATION, investigated, shipped_order
from tests.support.documents import FAKE_PDF, pdf_bytes, png_bytes
from tests.support.factories import make_customer, make_staff
from tests.support.sql import count_statements
from tests.support.staff import page_statements, text_of
from tests.support.storefront import field_error, sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
QA_PASSWORD = "quality password"


def _staff(app, role: str, email: str):
    make_staff(role, email, password=QA_PASSWORD)
    client = app.test_client()
    assert client.post("/staff/login", data={"email": email, "password": QA_PASSWORD}).status_code == 302
    return client


def _buyer(app, email: str = "buyer@acme.example", company: str = "Acme Nutrition"):
    customer = make_customer(email, company)
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return customer, client


def _file(client, order: str, files=(), **fields):
    data = {"category": "quality", "description": "Two drums arrived with caked powder.", **fields}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(f"/orders/{order}/lines/LEU-USP-25KG/complaint", data=data,
                       content_type="multipart/form-data")


def _file_via_service(customer, order: str, lot: str | None = None, sku: str = "LEU-USP-25KG") -> str:
    number = service.file_complaint(customer, order, sku, lot, "quality", "Caked powder.").number
    db.session.commit()
    return number


def test_a_buyer_reports_a_problem_with_a_photo_from_the_order_line(app, stocked):
    customer, buyer = _buyer(app)
    order = shipped_order(customer)
    page = buyer.get(f"/orders/{order}").text
    assert f'href="/orders/{order}/lines/LEU-USP-25KG/complaint"' in page and "Report a problem" in page
    form = buyer.get(f"/orders/{order}/lines/LEU-USP-25KG/complaint").text
    assert 'name="lot_number"' in form and "Lot L-SOON" in form and "Lot L-LATE" in form  # the line drew two

    filed = _file(buyer, order, [(pdf_bytes("Our test report"), "report.pdf"), (png_bytes(), "drum.png")],
                  lot_number="L-SOON")
    assert filed.status_code == 303
    complaint = db.session.scalar(select(Complaint))
    assert filed.headers["Location"].endswith(f"/account/complaints/{complaint.number}")
    shown = text_of(buyer.get(filed.headers["Location"]).text)
    assert f"Complaint {complaint.number}" in shown and "Received: our quality unit will investigate it." in shown
    assert "Lots L-SOON" in shown and "report.pdf, drum.png" in shown
    kept = db.session.scalars(select(ComplaintAttachment).order_by(ComplaintAttachment.id)).all()
    assert [(a.file_name, a.content_type) for a in kept] == [("report.pdf", "application/pdf"),
                                                             ("drum.png", "image/png")]
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(pdf|png)", a.storage_key) for a in kept)

    listing = text_of(buyer.get("/account/complaints").text)
    assert complaint.number in listing and "Open" in listing
    assert 'href="/account/complaints"' in buyer.get("/account").text  # in the account's navigation


def test_a_fake_pdf_is_refused_beside_the_files_and_nothing_is_stored(app, stocked):
    customer, buyer = _buyer(app)
    order = shipped_order(customer, quantity=2)
    refused = _file(buyer, order, [(png_bytes(), "drum.png"), (FAKE_PDF, "certificate.pdf")])
    assert refused.status_code == 422
    assert "certificate.pdf: This file is not a PDF or a PNG image or a JPEG image" in field_error(refused.text,
                                                                                                   "attachments")
    assert 'name="lot_number"' not in refused.text  # the line drew one lot: nothing to choose
    assert db.session.scalar(select(func.count(Complaint.id))) == 0
    folder = Path(current_app.config["DOCUMENTS_DIR"])
    assert not folder.exists() or not any(folder.iterdir())

    empty = _file(buyer, order, category="", description="")
    assert empty.status_code == 422
    assert field_error(empty.text, "category") and field_error(empty.text, "description")
    four = _file(buyer, order, [(png_bytes(), f"{i}.png") for i in range(4)])
    assert "at most 3 files" in field_error(four.text, "attachments")
    # The files are checked whatever the other fields hold: both mistakes show on the first try.
    both = _file(buyer, order, [(FAKE_PDF, "certificate.pdf")], description="")
    assert field_error(both.text, "description") and "certificate.pdf" in field_error(both.text, "attachments")
    assert db.session.scalar(select(func.count(Complaint.id))) == 0


def test_another_companys_order_line_and_complaint_are_404(app, stocked):
    customer, _ = _buyer(app)
    order = shipped_order(customer)
    number = _file_via_service(customer, order)
    _, rival = _buyer(app, "buyer@rival.example", "Rival Labs")
    assert rival.get(f"/orders/{order}/lines/LEU-USP-25KG/complaint").status_code == 404
    assert _file(rival, order).status_code == 404
    assert rival.get(f"/account/complaints/{number}").status_code == 404
    assert number not in rival.get("/account/complaints").text


def test_the_quality_queue_lists_open_then_investigating_oldest_first(app, stocked):
    customer, _ = _buyer(app)
    order = shipped_order(customer)
    first, second, third = (_file_via_service(customer, order) for _ in range(3))
    quality = _staff(app, "quality", "qa@shop.example")
    investigated(first, db.session.scalar(select(StaffUser).where(StaffUser.email == "qa@shop.example")))
    queue = quality.get("/staff/complaints").text
    assert re.findall(r'href="/staff/complaints/(C-\d{4}-\d{5})"', queue) == [second, third, first]
    assert 'href="/staff/complaints"' in queue  # in the staff menu
    admin = _staff(app, "admin", "admin@shop.example")
    assert 'href="/staff/complaints"' in admin.get("/staff/complaints").text
    assert 'href="/staff/complaints"' not in _staff(app, "fulfilment", "ff@shop.example").get("/staff/orders").text
    assert _staff(app, "warehouse", "wh@shop.example").get(f"/staff/complaints/{first}").status_code == 403


def test_the_queue_and_the_company_list_cost_no_more_statements_for_more_complaints(app, stocked):
    customer, buyer = _buyer(app)
    order = shipped_order(customer)
    _file_via_service(customer, order)
    quality = _staff(app, "quality", "qa@shop.example")
    before = page_statements(quality, "/staff/complaints"), page_statements(buyer, "/account/complaints")
    for lot in ("L-SOON", "L-LATE", None):
        _file_via_service(customer, order, lot)
    assert (page_statements(quality, "/staff/complaints"), page_statements(buyer, "/account/complaints")) == before


def test_every_complaint_on_the_same_lot_is_shown_together(app, stocked):
    acme, _ = _buyer(app)
    rival, _ = _buyer(app, "buyer@rival.example", "Rival Labs")
    both = _file_via_service(acme, shipped_order(acme))  # 6 drums of L-SOON and 2 of L-LATE
    late = _file_via_service(rival, shipped_order(rival, quantity=4))  # L-SOON's drums are gone: L-LATE only
    tubs = shipped_order(acme, quantity=1, sku="LEU-USP-1KG")  # a tub of L-SOON
    soon = _file_via_service(acme, tubs, sku="LEU-USP-1KG")
    quality = _staff(app, "quality", "qa@shop.example")
    db.session.remove()
    with count_statements() as seen:
        page = quality.get(f"/staff/complaints/{both}")
    assert page.status_code == 200 and len(seen) < 20
    together = page.text[page.text.index("Other complaints on"):]
    assert late in together and soon in together
    only_late = quality.get(f"/staff/complaints/{late}").text
    assert both in only_late and soon not in only_late


def test_attachments_download_as_attachments_with_nosniff(app, stocked):
    customer, buyer = _buyer(app)
    order = shipped_order(customer, quantity=2)
    photo = png_bytes()
    assert _file(buyer, order, [(photo, "drum.png")]).status_code == 303
    number, attachment_id = db.session.execute(select(Complaint.number, ComplaintAttachment.id)
                                               .join(ComplaintAttachment)).one()
    quality = _staff(app, "quality", "qa@shop.example")
    page = quality.get(f"/staff/complaints/{number}").text
    assert f'/staff/complaints/{number}/attachments/{attachment_id}"' in page
    download = quality.get(f"/staff/complaints/{number}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == photo and download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment;") and "drum.png" in \
        download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert quality.get(f"/staff/complaints/{number}/attachments/{attachment_id + 1}").status_code == 404
    assert buyer.get(f"/staff/complaints/{number}/attachments/{attachment_id}").status_code in (302, 401, 403)


def _close(client, number: str, password: str, **extra):
    return client.post(f"/staff/complaints/{number}/close", data={
        "resolution": "Two drums replaced; pallets now inspected.", "confirm": "y", "password": password, **extra})


def test_investigating_then_closing_signed_with_the_password(app, stocked):
    customer, buyer = _buyer(app)
    number = _file_via_service(customer, shipped_order(customer))
    quality = _staff(app, "quality", "qa@shop.example")
    saved = quality.post(f"/staff/complaints/{number}/investigation", data=INVESTIGATION)
    assert saved.status_code == 302
    assert db.session.scalar(select(Complaint.status)) == ComplaintStatus.INVESTIGATING
    assert "Investigating" in text_of(buyer.get(f"/account/complaints/{number}").text)

    wrong = _close(quality, number, "not my password")
    assert wrong.status_code == 422
    assert field_error(wrong.text, "password") == "That is not your password: nothing was signed."
    db.session.expire_all()
    assert db.session.scalar(select(Complaint.status)) == ComplaintStatus.INVESTIGATING
    unticked = _close(quality, number, QA_PASSWORD, confirm="")
    assert unticked.status_code == 422 and "Tick the statement" in unticked.text

    closed = _close(quality, number, QA_PASSWORD)
    assert closed.status_code == 302
    db.session.expire_all()
    complaint = db.session.scalar(select(Complaint))
    assert complaint.status == ComplaintStatus.CLOSED and complaint.signer_email == "qa@shop.example"
    assert complaint.signature_meaning.startswith(f"I close complaint {number}")
    staff_page = text_of(quality.get(f"/staff/complaints/{number}").text)
    assert "qa@shop.example" in staff_page and f"“I close complaint {number}" in staff_page
    shown = text_of(buyer.get(f"/account/complaints/{number}").text)
    assert "Closed" in shown and "Two drums replaced; pallets now inspected." in shown
    assert [e.data for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "complaint.updated")
                                               .order_by(OutboxEvent.id))][-1].count('"status":"closed"') == 1


def test_staff_without_the_quality_role_cannot_close(app, stocked):
    customer, _ = _buyer(app)
    number = _file_via_service(customer, shipped_order(customer))
    investigated(number, make_staff("quality", "qa@shop.example", password=QA_PASSWORD))
    admin = _staff(app, "admin", "admin@shop.example")
    assert "Sign and close complaint" not in admin.get(f"/staff/complaints/{number}").text
    assert _close(admin, number, QA_PASSWORD).status_code == 403
    fulfilment = _staff(app, "fulfilment", "ff@shop.example")
    assert _close(fulfilment, number, QA_PASSWORD).status_code == 403
    assert fulfilment.get("/staff/complaints").status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(Complaint.status)) == ComplaintStatus.INVESTIGATING


def test_closing_before_the_investigation_is_saved_changes_nothing(app, stocked):
    customer, _ = _buyer(app)
    number = _file_via_service(customer, shipped_order(customer))
    quality = _staff(app, "quality", "qa@shop.example")
    assert "Sign and close complaint" not in quality.get(f"/staff/complaints/{number}").text
    refused = _close(quality, number, QA_PASSWORD)
    assert refused.status_code == 302  # told on the page: only a complaint under investigation can be closed
    assert "only a complaint under investigation can be closed" in quality.get(refused.headers["Location"]).text
    db.session.expire_all()
    assert db.session.scalar(select(Complaint.status)) == ComplaintStatus.OPEN


def test_a_recall_opened_from_a_complaint_is_recorded_on_it_and_its_buyers_get_the_notice(app, stocked):
    acme, _ = _buyer(app)
    order = shipped_order(acme, quantity=2)  # L-SOON only
    number = _file_via_service(acme, order)
    quality = _staff(app, "quality", "qa@shop.example")
    page = quality.get(f"/staff/complaints/{number}").text
    link = f"/staff/batches/L-SOON/recall/new?complaint={number}"
    assert link in page.replace("&amp;", "&")
    form = quality.get(link).text
    assert f'value="{number}"' in form and "Opened from complaint" in form
    recalled = quality.post("/staff/batches/L-SOON/recall", data={
        "reason": "Caking traced to a failed dryer", "public_note": "Lot L-SOON is recalled: stop using it.",
        "complaint": number, "confirm": "y", "password": QA_PASSWORD})
    assert recalled.status_code == 302, recalled.text
    db.session.expire_all()
    complaint = db.session.scalar(select(Complaint))
    assert complaint.recalled_lot_number == "L-SOON" and complaint.recalled_at is not None
    after = quality.get(f"/staff/complaints/{number}").text
    assert "L-SOON recalled from this complaint" in text_of(after)
    # Recalled now: no second recall is offered, from the complaint or by the form's address.
    assert link not in after.replace("&amp;", "&") and "Lot L-SOON is recalled: what its recall did" in text_of(after)
    again = quality.get(link, follow_redirects=True)
    assert "Lot L-SOON is recalled already: here is what its recall did." in text_of(again.text)
    assert 'name="password"' not in again.text
    notices = db.session.scalars(select(OrderNotice)).all()
    assert [(n.kind, n.lot_number, n.message) for n in notices] == [
        (NoticeKind.RECALL, "L-SOON", "Lot L-SOON is recalled: stop using it.")]
    assert db.session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.type == "lot.recalled")) == 1


def test_a_photo_over_the_apps_usual_body_limit_is_taken(app, stocked):
    customer, buyer = _buyer(app)
    order = shipped_order(customer, quantity=2)
    noise = Image.frombytes("RGB", (700, 700), random.Random(28).randbytes(700 * 700 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    assert out.tell() > current_app.config["MAX_CONTENT_LENGTH"]  # more than any other form may send
    assert _file(buyer, order, [(out.getvalue(), "close-up.png")]).status_code == 303
    assert db.session.scalar(select(ComplaintAttachment.size)) == out.tell()
