"""The buyer who filed a complaint is told each step over real SMTP: received, under investigation, closed with
the resolution; and a complaint that ends in a recall of its lot reaches every buyer of the lot with the recall
notice."""
from __future__ import annotations

import time

import pytest

from shop.complaints import service
from shop.platform.database import utcnow
from shop.platform.extensions import db
from tests.support.complaints import closed, investigated, quality_user, shipped_order
from tests.support.factories import make_customer, make_lot, make_product, signed_recall
from tests.support.mail import SmtpServer, drain, free_port


@pytest.fixture
def smtp_server():
    server = SmtpServer(free_port())
    yield server
    server.stop()


def _smtp_app(make_app, server: SmtpServer):
    return make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
                    PUBLIC_BASE_URL="https://shop.example.com")


def _received(server: SmtpServer, words: str, count: int = 1) -> list[tuple[list[str], str]]:
    deadline = time.monotonic() + 5
    while sum(words in content for _, content in server.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [(to, content) for to, content in server.messages if words in content]


def test_the_filer_is_mailed_when_filed_investigated_and_closed(make_app, smtp_server):
    with _smtp_app(make_app, smtp_server).app_context():
        product = make_product()
        make_lot(product, "L-SOON", {"LEU-USP-25KG": 6}, expires_in_days=200)
        make_lot(product, "L-LATE", {"LEU-USP-25KG": 10}, expires_in_days=700)
        buyer = make_customer("buyer@acme.example")
        order = shipped_order(buyer)
        drain()
        number = service.file_complaint(buyer, order, "LEU-USP-25KG", None, "quality",
                                        "Two drums arrived with caked powder.").number
        db.session.commit()
        drain()
        quality = quality_user()
        investigated(number, quality)
        drain()
        investigated(number, quality)  # saved again: no second message
        drain()
        closed(number, quality, resolution="Two drums replaced; the dryer's seal was renewed.")
        drain()
        db.session.remove()

    filed = _received(smtp_server, f"Subject: Complaint {number} received")
    started = _received(smtp_server, f"Subject: Complaint {number}: investigation started")
    done = _received(smtp_server, f"Subject: Complaint {number} closed")
    assert [len(filed), len(started), len(done)] == [1, 1, 1]
    assert all(to == ["buyer@acme.example"] for to, _ in filed + started + done)
    assert "L-LATE, L-SOON" in filed[0][1] and "Two drums arrived with caked powder." in filed[0][1]
    to, content = done[0]
    for expected in ("Resolution: Two drums replaced; the dryer's seal was renewed.",
                     f"https://shop.example.com/account/complaints/{number}", "text/plain", "text/html"):
        assert expected in content


def test_a_complaint_that_ends_in_a_recall_tells_every_buyer_of_the_lot(make_app, smtp_server):
    with _smtp_app(make_app, smtp_server).app_context():
        make_lot(make_product(), "L-BAD", {"LEU-USP-25KG": 10}, expires_in_days=300)
        filer = make_customer("buyer@acme.example")
        other = make_customer("buyer@rival.example", "Rival Labs")
        order = shipped_order(filer, quantity=2)
        shipped_order(other, quantity=3)
        number = service.file_complaint(filer, order, "LEU-USP-25KG", "L-BAD", "quality",
                                        "Black specks in the powder.").number
        db.session.commit()
        summary = signed_recall("L-BAD", f"Complaint {number}: foreign matter confirmed",
                                note="Lot L-BAD is recalled: stop using it; we replace it free of charge.")
        service.recall_opened(number, summary.lot_number, utcnow())
        db.session.commit()
        drain()
        assert service.staff_complaint(number).complaint.recalled_lot_number == "L-BAD"
        db.session.remove()

    notices = _received(smtp_server, "Subject: Recall of lot L-BAD", count=2)
    assert sorted(to for to, _ in notices) == [["buyer@acme.example"], ["buyer@rival.example"]]
    assert all("we replace it free of charge" in content for _, content in notices)
