"""Certificates near their end, on fixed dates: flagged on the staff dashboard (expired, or within 60 days of
valid_until) with a link to the documents page, and e-mailed to quality and admin staff every Monday morning;
nothing is sent when none is flagged."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from shop import jobs
from shop.platform.queue import task_queue
from shop.reporting import reports
from tests.support.documents import add_document
from tests.support.factories import make_product, make_staff
from tests.support.mail import drain, outbox_mail
from tests.support.staff import sign_in as staff_sign_in

TODAY = date(2026, 8, 1)


def _certificates(product) -> None:
    """On TODAY: Halal ended the day before, Kosher ends in 60 days (flagged), GMP in 61 (not), the SDS never,
    and the non-GMO certificate's old version lapsed but a new one replaced it (not flagged)."""
    add_document(product, kind="halal", version="H-1", valid_until=date(2026, 7, 31))
    add_document(product, kind="kosher", version="2026", valid_until=date(2026, 9, 30))
    add_document(product, kind="gmp", version="1", valid_until=date(2026, 10, 1))
    add_document(product, kind="sds", version="1", valid_until=None)
    add_document(product, kind="non_gmo", version="1", issued_on=date(2025, 1, 1), valid_until=date(2026, 2, 1))
    add_document(product, kind="non_gmo", version="2", issued_on=date(2026, 1, 2), valid_until=date(2028, 1, 1))


def test_the_dashboard_flags_expired_and_expiring_certificates_on_a_fixed_date(app, product):
    _certificates(product)
    flagged = reports.dashboard(today=TODAY).certificates
    assert [(c.document.kind.value, c.document.version, c.expired, c.days_left) for c in flagged] == [
        ("halal", "H-1", True, -1), ("kosher", "2026", False, 60)]
    # On its last valid day a certificate is expiring, not expired; 61 days before its end it is not flagged yet.
    day_before = reports.dashboard(today=date(2026, 7, 31)).certificates
    assert [(c.document.kind.value, c.expired, c.days_left) for c in day_before] == [("halal", False, 0)]
    assert [c.document.kind.value for c in reports.dashboard(today=date(2026, 8, 2)).certificates] == \
        ["halal", "kosher", "gmp"]


def test_the_staff_dashboard_page_shows_each_flag_with_a_link_to_the_documents_page(client, product):
    today = date.today()
    add_document(product, kind="kosher", version="K-9", issued_on=today - timedelta(days=300),
                 valid_until=today + timedelta(days=20), today=today)
    add_document(product, kind="halal", version="H-3", issued_on=today - timedelta(days=400),
                 valid_until=today - timedelta(days=2), today=today)
    staff_sign_in(client, "quality")
    page = client.get("/staff/").text
    flags = page[page.index('id="h-certificates"'):page.index('id="h-expiring"')]
    assert "Kosher certificate" in flags and "K-9" in flags and (today + timedelta(days=20)).isoformat() in flags
    assert "Halal certificate" in flags and "expired" in flags and "L-Leucine USP" in flags
    assert 'href="/staff/documents"' in flags


def test_the_dashboard_says_when_no_certificate_needs_renewing(client, product):
    add_document(product, kind="kosher", version="1", issued_on=date.today() - timedelta(days=1),
                 valid_until=date.today() + timedelta(days=365), today=date.today())
    staff_sign_in(client, "warehouse")
    assert "No certificate has ended or ends within 60 days." in client.get("/staff/").text


def test_the_weekly_certificate_alert_mails_quality_and_admin_staff(app, product):
    _certificates(product)
    make_staff("quality")
    make_staff("admin")
    make_staff("warehouse")
    make_staff("fulfilment")
    assert jobs.certificate_alert(TODAY) == 2
    drain()
    (message,) = outbox_mail()
    assert sorted(message.to) == ["admin@shop.example", "quality@shop.example"]
    assert message.subject == "2 certificate(s) to renew"
    assert "Halal certificate, version H-1, valid until 2026-07-31 (expired)" in message.body
    assert "Kosher certificate, version 2026, valid until 2026-09-30 (60 days left)" in message.body
    assert "GMP" not in message.body and "Non-GMO" not in message.body
    assert "http://127.0.0.1:5000/staff/documents" in message.body


def test_no_certificate_alert_is_sent_when_none_is_flagged(app, product):
    add_document(make_product("l-leucine-ep", "EP", "LEU-EP"), kind="halal", valid_until=date(2027, 6, 1))
    make_staff("quality")
    assert jobs.certificate_alert(TODAY) == 0
    drain()
    assert outbox_mail() == []


def test_the_certificate_alert_runs_on_monday_mornings_only(app):
    huey = task_queue().huey
    monday, tuesday = datetime(2026, 8, 3, 6, 30), datetime(2026, 8, 4, 6, 30)
    assert "certificate_alert" in {job.name for job in huey.read_periodic(monday)}
    assert "certificate_alert" not in {job.name for job in huey.read_periodic(tuesday)}
    assert "certificate_alert" not in {job.name for job in huey.read_periodic(monday.replace(hour=7))}
