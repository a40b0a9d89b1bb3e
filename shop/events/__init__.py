"""Events after they are written: fanning each out to its channels (`dispatch`), the company's webhook endpoints
and their signed deliveries (`webhooks`, `delivery`, `netguard`), and the e-mail that events send (`emails`).

The areas write their events into the outbox (shop.platform.outbox) inside the causing transaction; everything
here runs after COMMIT, on a worker, and reads the areas only through their read models.
"""
