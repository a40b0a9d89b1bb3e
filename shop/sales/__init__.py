"""Sales: what happens before an order. A buyer asks for a quote (their quantities, the shelf life they need, a
date); sales answer it with prices valid until a day and, for a good customer, a hold that sets the stock aside;
the buyer accepts it into an order through the order engine, or declines it; unanswered in time, it expires. A
buyer's lab asks for a sample of a grade first; sales ship it from a lot.

A hold takes its units as allocated stock (through inventory.ledger, as an order's allocation does), so every
availability count, every order and every other hold sees them gone: the no-oversell guarantee of orders covers
holds without a second rule. `StockHold` rows say which quote line holds which units of which lot.

Reading order: `numbers` (Q-2026-00012), `rules` (the table of moves, price and request checks: pure), `holds`
(setting stock aside and giving it back), `quotes` (the use cases), `views` (the quote as the API and events show
it).
"""
from shop.sales.quotes import (
    Queued,
    QueuedLine,
    Requested,
    RequestQuote,
    accept_quote,
    answer_quote,
    decline_quote,
    expire_quotes,
    get_quote,
    list_quotes,
    request_quote,
    sales_queue,
    withdraw_quote,
)
from shop.sales.telling import quote_link
from shop.sales.views import QuoteSchema, quote

__all__ = [
    "QuoteSchema", "Queued", "QueuedLine", "RequestQuote", "Requested",
    "accept_quote", "answer_quote", "decline_quote", "expire_quotes", "get_quote", "list_quotes", "quote",
    "quote_link", "request_quote", "sales_queue", "withdraw_quote",
]
