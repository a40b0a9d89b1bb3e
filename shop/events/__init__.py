"""Events: the transactional outbox, signed webhooks, e-mail and the task queue that carries them.

The domain calls the named functions of `hooks` inside its transactions; everything else happens after
COMMIT, on a worker.
"""
from .hooks import EVENT_TYPES, lot_recalled, order_needs_attention, order_placed, order_status_changed

__all__ = ["EVENT_TYPES", "lot_recalled", "order_needs_attention", "order_placed", "order_status_changed"]
