"""Telling a quote's requester by e-mail what changed on their quote without an event of its own (a withdrawal, a
hold a recall shortened), with a link to the quote's page."""
from __future__ import annotations

from flask import current_app

from shop.platform import mail
from shop.sales import views
from shop.sales.models import Quote


def tell(quote: Quote, subject: str, template: str, **context: object) -> None:
    """E-mail the requester (the person, or the member who made the key) a change that has no event of its own."""
    if quote.customer.active:
        mail.send(quote.customer.email, subject, template, quote=views.quote(quote), link=quote_link(quote.number),
                  **context)


def quote_link(number: str) -> str | None:
    """The buyer's page of the quote, for e-mail; None while the storefront has no such page."""
    if "storefront.quote_detail" not in current_app.view_functions:
        return None
    return mail.absolute_url("storefront.quote_detail", number=number)
