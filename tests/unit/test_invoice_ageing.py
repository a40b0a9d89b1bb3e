"""The ageing buckets on fixed dates (the boundary days), per company and overall, and a statement's running
balance."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.invoicing.ageing import BUCKETS, OpenAmount, age, bucket_of
from shop.invoicing.statement import Entry, running

ON = date(2026, 12, 6)
ZERO = Decimal("0.00")


def test_each_boundary_day_falls_in_its_bucket():
    expected = {-5: 0, 0: 0, 1: 1, 30: 1, 31: 2, 60: 2, 61: 3, 90: 3, 91: 4, 400: 4}
    assert {days: bucket_of(days) for days in expected} == expected
    assert [label for label, _ in BUCKETS] == ["Not yet due", "1–30 days", "31–60 days", "61–90 days",
                                                "Over 90 days"]


def test_amounts_add_up_per_company_and_bucket_on_a_fixed_day():
    def owed(company: int, days_overdue: int, amount: str) -> OpenAmount:
        return OpenAmount(company, f"Company {company}", ON - timedelta(days=days_overdue), Decimal(amount))

    summary = age([owed(2, 0, "10.00"), owed(1, 1, "1.00"), owed(1, 30, "2.00"), owed(1, 31, "4.00"),
                   owed(1, 61, "8.00"), owed(1, 91, "16.00"), owed(2, -3, "0.50")], ON)
    assert [(c.company_name, c.buckets, c.total) for c in summary.companies] == [
        ("Company 1", tuple(Decimal(x) for x in ("0.00", "3.00", "4.00", "8.00", "16.00")), Decimal("31.00")),
        ("Company 2", (Decimal("10.50"), ZERO, ZERO, ZERO, ZERO), Decimal("10.50"))]
    assert summary.totals == tuple(Decimal(x) for x in ("10.50", "3.00", "4.00", "8.00", "16.00"))
    assert summary.total == Decimal("41.50")
    assert age([], ON).totals == (ZERO,) * 5


def test_a_statement_runs_in_date_order_invoices_before_what_settles_them():
    def entry(day: int, kind: str, debit: str = "0", credit: str = "0", id: int = 0) -> Entry:
        return Entry(ON + timedelta(days=day), kind, f"{kind}-{day}", "LS-1", "", Decimal(debit), Decimal(credit), id)

    statement = running([entry(5, "payment", credit="50.00"), entry(0, "invoice", debit="119.00"),
                         entry(5, "credit_note", credit="19.00"), entry(5, "invoice", debit="10.00", id=2)])
    assert [(line.entry.kind, line.balance) for line in statement.lines] == [
        ("invoice", Decimal("119.00")), ("invoice", Decimal("129.00")), ("credit_note", Decimal("110.00")),
        ("payment", Decimal("60.00"))]
    assert statement.balance == Decimal("60.00") and running([]).balance == ZERO


money = st.decimals(min_value=0, max_value=10**7, places=2)


@given(st.lists(st.tuples(st.integers(-30, 30), st.sampled_from(["invoice", "credit_note", "payment"]), money)),
       st.decimals(min_value=-10**7, max_value=10**7, places=2))
def test_the_closing_balance_is_what_was_brought_forward_and_invoiced_less_what_was_credited_or_paid(rows, opening):
    entries = [Entry(ON + timedelta(days=d), kind, "", "", "", amount if kind == "invoice" else ZERO,
                     ZERO if kind == "invoice" else amount, i) for i, (d, kind, amount) in enumerate(rows)]
    statement = running(entries, opening)
    assert statement.opening == opening
    assert statement.balance == opening + sum((e.debit - e.credit for e in entries), ZERO)
    assert [line.entry.on for line in statement.lines] == sorted(e.on for e in entries)
