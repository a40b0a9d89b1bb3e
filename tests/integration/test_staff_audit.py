"""The audit log page: who did what to which lot or order, filters, roles, keyset pages, flat SQL statement count."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest

from shop import ordering
from shop.accounts.models import StaffRole, StaffUser
from shop.platform.audit import AuditEntry, audit
from shop.platform.extensions import db
from shop.quality import recall
from shop.reporting import reports
from tests.support.api import ADDRESS
from tests.support.factories import good_results, make_lot, make_staff, signed_recall
from tests.support.staff import page_statements, place, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")


def _results_form(product) -> dict[str, str]:
    ids = {t.name: t.id for t in product.spec_tests}
    return {f"result_{ids[name]}": value for name, value in good_results(product).items()}


def _rows(html: str) -> list[str]:
    """The visible text of each row of the audit table, newest first."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def _flag_and_handle(product, customer, handler: StaffUser) -> str:
    """Recall the lot an open order asked for (no other lot may cover it: flagged), then clear the flag as
    `handler`."""
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 4, "lot_number": "L-BAD"}], ADDRESS)
    db.session.commit()
    signed_recall("L-BAD", "Foreign particles", make_staff("quality", email="recall@shop.example"))
    db.session.commit()
    recall.clear_attention(order.number, "Called Acme: they wait for the next lot.", staff=handler)
    db.session.commit()
    return order.number


def test_a_lot_released_on_the_lot_page_shows_who_released_it_with_a_link_to_the_lot(client, product):
    make_lot(product, "L-QC", {"LEU-USP-25KG": 5}, status="quarantine")
    sign_in(client, "quality", email="lab@shop.example")
    assert client.post("/staff/batches/L-QC/results", data=_results_form(product)).status_code == 302
    client.post("/staff/logout")
    sign_in(client, "quality")
    assert client.post("/staff/batches/L-QC/release", data={"confirm": "y", "password": "staff password"}
                       ).status_code == 302

    page = client.get("/staff/audit")

    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert re.search(r"quality@shop.example batch.released lot L-QC quarantine -> released. Signed by "
                     r"quality@shop.example at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: "
                     r"“I release lot L-QC as meeting its specification.”$", _rows(page.text)[0])
    assert 'lot <a href="/staff/batches/L-QC">L-QC</a>' in page.text


def test_recall_and_cleared_attention_show_who_and_what_with_links_to_lot_and_order(client, product, customer):
    handler = make_staff("fulfilment", email="desk@shop.example")
    number = _flag_and_handle(product, customer, handler)
    make_lot(product, "L-SYS", {"LEU-USP-1KG": 1})  # results by no one ("system"), released by the factory's QA
    sign_in(client, "admin")

    page = client.get("/staff/audit")

    # Every lot made by the factory first has its CoA results recorded: one entry per lot, listed apart.
    results = [row for row in _rows(page.text) if " coa.results_recorded " in row]
    assert any(" system coa.results_recorded lot L-SYS Appearance: conforms; " in row for row in results)
    rows = [row for row in _rows(page.text) if row not in results]
    assert re.search(r"qa-release@shop.example batch.released lot L-SYS quarantine -> released. Signed by Rita "
                     r"Release \(qa-release@shop.example\) at .* UTC: “I release lot L-SYS as meeting its "
                     r"specification.”$", rows[0])
    assert rows[1].endswith(f"desk@shop.example order.attention_cleared order {number} "
                            "Called Acme: they wait for the next lot.")
    assert rows[2].endswith(f"recall@shop.example order.flagged order {number} "
                            "Lot L-BAD recalled: LEU-USP-25KG short by 4 of 4 units.")
    assert re.search(r"recall@shop.example batch.recalled lot L-BAD released -> recalled: Foreign particles. "
                     r"Signed by recall@shop.example at .* UTC: “I recall lot L-BAD: it must no longer be sold or "
                     r"used.”$", rows[3])
    # admin may open the order page; every row's "when" is the UTC timestamp
    assert f'order <a href="/staff/orders/{number}">{number}</a>' in page.text
    assert 'lot <a href="/staff/batches/L-BAD">L-BAD</a>' in page.text
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC ", row) for row in rows)


def test_quality_sees_orders_linked_to_their_trace_page_which_quality_may_open(client, product, customer):
    number = _flag_and_handle(product, customer, make_staff("fulfilment"))
    sign_in(client, "quality")
    page = client.get("/staff/audit")
    assert f'order <a href="/staff/trace/order/{number}">{number}</a>' in page.text
    assert f'href="/staff/orders/{number}"' not in page.text
    assert client.get(f"/staff/trace/order/{number}").status_code == 200


@pytest.mark.parametrize("role", ["warehouse", "fulfilment"])
def test_warehouse_and_fulfilment_are_refused_and_have_no_link(client, role):
    sign_in(client, role)
    page = client.get("/staff/audit")
    assert page.status_code == 403
    assert f"you are signed in as {role}" in page.text
    assert "/staff/audit" not in client.get("/staff/").text


@pytest.mark.parametrize("role", ["quality", "admin"])
def test_quality_and_admin_see_the_link_in_the_navigation(client, role):
    sign_in(client, role)
    assert '<a href="/staff/audit">Audit log</a>' in client.get("/staff/").text


def test_visitors_are_sent_to_the_staff_sign_in(client):
    page = client.get("/staff/audit")
    assert page.status_code == 302 and page.headers["Location"].startswith("/staff/login?next=")


def test_filters_by_action_prefix_subject_staff_email_and_date(client, product, customer):
    number = _flag_and_handle(product, customer, make_staff("fulfilment", email="desk@shop.example"))
    make_lot(product, "L-OK-7", {"LEU-USP-1KG": 1})
    old = datetime.now(UTC) - timedelta(days=40)
    db.session.add(AuditEntry(action="batch.rejected", subject="lot L-OLD", detail="quarantine -> rejected: mould",
                              at=old))
    db.session.commit()
    sign_in(client, "quality")

    def actions(query: str) -> list[str]:
        page = client.get(f"/staff/audit?{query}")
        assert page.status_code == 200, page.text
        return [row.split(" UTC ", 1)[1] for row in _rows(page.text)]

    assert [a.split()[1] for a in actions("action=order.")] == ["order.attention_cleared", "order.flagged"]
    assert [a.split()[1:4] for a in actions("action=BATCH.RE")] == [
        ["batch.released", "lot", "L-OK-7"], ["batch.recalled", "lot", "L-BAD"], ["batch.released", "lot", "L-BAD"],
        ["batch.rejected", "lot", "L-OLD"]]
    assert [a.split()[3] for a in actions("action=batch.released")] == ["L-OK-7", "L-BAD"]
    assert [a.split()[1:4] for a in actions("subject=l-bad")] == [["batch.recalled", "lot", "L-BAD"],
                                                                  ["batch.released", "lot", "L-BAD"],
                                                                  ["coa.results_recorded", "lot", "L-BAD"]]
    assert [a.split()[2:4] for a in actions(f"subject={number}")] == [["order", number]] * 2
    assert [a.split()[0] for a in actions("staff=DESK@")] == ["desk@shop.example"]
    assert {a.split()[0] for a in actions("staff=recall")} == {"recall@shop.example"}
    today = date.today().isoformat()
    assert "L-OLD" not in " ".join(actions(f"date_from={today}"))
    assert [a.split()[3] for a in actions(f"date_to={(old.date() + timedelta(days=1)).isoformat()}")] == ["L-OLD"]
    assert actions(f"date_from={old.date().isoformat()}&date_to={old.date().isoformat()}&action=batch.")[0] \
        .startswith("system batch.rejected lot L-OLD")
    assert "No entry matches." in client.get("/staff/audit?subject=nothing-like-this").text
    # a LIKE wildcard in the filter is matched literally
    assert "No entry matches." in client.get("/staff/audit?subject=L_BAD").text
    # the action filter suggests the actions present
    page = client.get("/staff/audit").text
    assert '<datalist id="audit-actions">' in page and '<option value="order.attention_cleared">' in page


def test_every_filter_field_has_a_label(client):
    sign_in(client, "quality")
    page = client.get("/staff/audit").text
    for name in ("action", "subject", "staff", "date_from", "date_to"):
        assert f'<label for="{name}">' in page
        assert f'id="{name}"' in page


@pytest.mark.parametrize("query, field", [("date_from=2024-13-45", "date_from"), ("date_to=yesterday", "date_to")])
def test_a_bad_date_is_shown_beside_its_field_with_400(client, query, field):
    sign_in(client, "quality")
    page = client.get(f"/staff/audit?{query}")
    assert page.status_code == 400
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    assert error and "Not a valid date value." in error.group(1)
    assert "Traceback" not in page.text


def test_a_tampered_page_link_is_a_message_and_400(client):
    sign_in(client, "quality")
    page = client.get("/staff/audit?cursor=%%%")
    assert page.status_code == 400
    assert "This page link is no longer valid" in page.text


def test_pages_follow_on_newest_first_without_repeats_even_for_entries_at_the_same_instant(client, app):
    staff = make_staff("quality", email="qa@shop.example")
    same = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(55):
        # entries 20..39 share one timestamp: only the id tells them apart
        at = same + timedelta(seconds=20 if 20 <= i < 40 else i)
        db.session.add(AuditEntry(staff_id=staff.id, action="batch.released", subject=f"lot P-{i:03d}",
                                  detail="", at=at))
    db.session.commit()
    sign_in(client, "admin")

    first = client.get("/staff/audit?action=batch.&subject=P-")
    rows = _rows(first.text)
    assert len(rows) == 50
    link = re.search(r'<a class="button secondary" href="([^"]+)">Older entries</a>', first.text)
    assert link and "action=batch." in unescape(link.group(1)) and "subject=P-" in unescape(link.group(1))
    second = client.get(unescape(link.group(1)))
    assert second.status_code == 200
    rows += _rows(second.text)
    assert "Older entries" not in second.text
    lots = [re.search(r"lot (P-\d{3})", row).group(1) for row in rows]
    expected = [f"P-{i:03d}" for i in [*range(54, 39, -1), *range(39, 19, -1), *range(19, -1, -1)]]
    assert lots == expected

    # the same through the service, in pages of 7
    seen, cursor = [], None
    while True:
        page = reports.audit_page(subject="P-", cursor=cursor, limit=7)
        seen += [r.subject for r in page.rows]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [f"lot {lot}" for lot in expected]


def _entries_by_new_staff(start: int, stop: int) -> None:
    """One entry per staff user, each a user the page has not seen, so a query per row would show."""
    for i in range(start, stop):
        staff = StaffUser(email=f"s{i}@shop.example", password_hash="-")
        staff.roles = [StaffRole.QUALITY]
        db.session.add(staff)
        db.session.flush()
        audit(staff, "batch.released", f"lot N-{i:03d}", "quarantine -> released")
        audit(None, "order.flagged", f"order LS-{i:06d}", "system entry")
    db.session.commit()


def test_the_page_costs_the_same_statements_with_5_and_50_entries(client):
    sign_in(client, "admin")
    _entries_by_new_staff(0, 5)
    with_5 = page_statements(client, "/staff/audit")
    _entries_by_new_staff(5, 50)
    with_50 = page_statements(client, "/staff/audit")
    assert with_5 == with_50
    text = client.get("/staff/audit").text
    assert "s49@shop.example" in text and "lot N-049" not in text  # "lot" and the linked number are apart
    assert 'href="/staff/batches/N-049"' in text


def test_the_action_filter_offers_every_recorded_action_without_reading_the_log(app):
    actions = reports.audit_actions()
    assert actions == sorted(actions)
    assert {"batch.released", "batch.recalled", "batch.rejected", "coa.results_recorded", "order.flagged",
            "order.reallocated", "order.attention_cleared"} <= set(actions)
    with pytest.raises(ValueError, match="AUDIT_ACTIONS"):
        audit(None, "batch.teleported", "lot X")
