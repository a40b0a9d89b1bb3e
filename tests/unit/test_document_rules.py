"""A document's validity on a day, and the rules on its dates: properties over any dates."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shop.documents.rules import FLAG_DAYS, DocumentKind, Validity, date_problems, validity

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(valid_until=days, today=days)
def test_validity_follows_the_calendar(valid_until: date, today: date) -> None:
    seen = validity(valid_until, today)
    if valid_until < today:
        assert seen is Validity.EXPIRED
    elif (valid_until - today).days <= FLAG_DAYS:
        assert seen is Validity.EXPIRING
    else:
        assert seen is Validity.VALID


def test_the_flag_on_fixed_dates() -> None:
    end = date(2026, 9, 30)
    assert validity(end, date(2026, 7, 31)) is Validity.VALID  # 61 days ahead
    assert validity(end, date(2026, 8, 1)) is Validity.EXPIRING  # exactly 60 days ahead
    assert validity(end, end) is Validity.EXPIRING  # its last valid day
    assert validity(end, end + timedelta(days=1)) is Validity.EXPIRED
    assert validity(None, end) is Validity.VALID


@given(today=days, issued=days, ends=st.none() | days, kind=st.sampled_from(DocumentKind))
def test_date_problems_name_the_field_at_fault(today: date, issued: date, ends: date | None,
                                               kind: DocumentKind) -> None:
    problems = date_problems(kind, issued, ends, today)
    assert ("issued_on" in problems) == (issued > today)
    ends_wrong = (ends is None and kind.is_certificate) or (ends is not None and ends < issued)
    assert ("valid_until" in problems) == ends_wrong


def test_certificates_are_the_kinds_that_end() -> None:
    assert not DocumentKind.SDS.is_certificate and DocumentKind.KOSHER.is_certificate
    assert DocumentKind("fssc_22000").label == "FSSC 22000 certificate"
