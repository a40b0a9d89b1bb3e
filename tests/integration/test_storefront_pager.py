"""The storefront lists' pager (storefront/_macros.html): the first page's link and the next page's, each keeping the
list's filter, with the list's own cursor parameter."""
from __future__ import annotations

from flask import render_template_string

PAGER = '{% from "storefront/_macros.html" import pager %}{{ pager(*args, **kwargs) }}'


def _pager(*args, **kwargs) -> str:
    return render_template_string(PAGER, args=args, kwargs=kwargs)


def test_a_later_page_links_to_the_newest_and_the_older_rows_keeping_the_filter(app):
    with app.test_request_context():
        html = _pager("storefront.invoice_list", False, "CUR", "invoices", cursor_name="after", status="open")
    assert '<a href="/invoices?status=open">Newest invoices</a>' in html
    assert '<a href="/invoices?status=open&amp;after=CUR">Older invoices</a>' in html


def test_the_first_and_only_page_has_no_links_and_the_cursor_parameter_defaults_to_cursor(app):
    with app.test_request_context():
        assert "<a" not in _pager("storefront.quote_list", True, None, "quotes")
        html = _pager("storefront.quote_list", True, "CUR", "quotes")
    assert "Newest" not in html and '<a href="/quotes?cursor=CUR">Older quotes</a>' in html
