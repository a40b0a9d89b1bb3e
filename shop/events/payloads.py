"""What an event carries as `data`: for an order, exactly what GET /api/v1/orders/<number> answers."""
from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from ..models import Order

if TYPE_CHECKING:
    from ..services.ordering import PlacedOrder


@cache
def _order_schema():
    from ..api.schemas import OrderSchema  # the API's own schema: the payload is its answer, field for field

    return OrderSchema()


def order(order: Order | PlacedOrder) -> dict[str, Any]:
    """The order as the API shows it now (its lines, lots, notices): the data of every order event."""
    return _order_schema().dump(order)


def lot_recalled(lot_number: str, message: str, order_numbers: list[str]) -> dict[str, Any]:
    """A recalled lot, the published note, and the recipient's orders that drew on it."""
    return {"lot_number": lot_number, "message": message, "orders": order_numbers}


def ping(endpoint_id: int) -> dict[str, Any]:
    return {"endpoint_id": endpoint_id, "message": "A test event from the Leucine Shop: your endpoint answers."}
