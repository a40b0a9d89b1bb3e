"""Sales: what happens before an order. A buyer asks for a quote (their quantities, the shelf life they need, a
date); sales answer it with prices valid until a day and, for a good customer, a hold that sets the stock aside;
the buyer accepts it into an order through the order engine, or declines it; unanswered in time, it expires. A
buyer's lab asks for a sample of a grade first; sales ship it from a lot.

A hold takes its units as allocated stock (through inventory.ledger, as an order's allocation does), so every
availability count, every order and every other hold sees them gone: the no-oversell guarantee of orders covers
holds without a second rule. `StockHold` rows say which quote line holds which units of which lot.
"""
