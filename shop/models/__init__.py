"""Typed SQLAlchemy models for the whole domain."""
from .accounts import ApiKey, Customer, StaffRole, StaffUser
from .base import Base, utcnow
from .catalog import PriceBreak, Product, SpecTest, Variant
from .inventory import Batch, BatchStatus, CoaResult, MovementKind, Stock, StockMovement, result_passes
from .orders import (
    Allocation,
    AllocationStatus,
    AuditEntry,
    IdempotencyRecord,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)

__all__ = [
    "Allocation", "AllocationStatus", "ApiKey", "AuditEntry", "Base", "Batch", "BatchStatus", "CoaResult",
    "Customer", "IdempotencyRecord", "MovementKind", "Order", "OrderLine", "OrderStatus",
    "OrderStatusChange", "PriceBreak", "Product", "SpecTest", "StaffRole", "StaffUser", "Stock", "StockMovement",
    "Variant", "result_passes", "utcnow",
]
