"""Typed SQLAlchemy models for the whole domain."""
from .accounts import ApiKey, Customer, StaffRole, StaffUser
from .base import Base, utcnow
from .catalog import PriceBreak, Product, SpecTest, Variant
from .companies import PREPAID, Company, MemberRole, PriceList, PriceListItem
from .events import DeliveryState, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .inventory import (
    Batch,
    BatchStatus,
    CoaResult,
    CoaResultRevision,
    DateKind,
    LotSignature,
    MovementKind,
    SignedAction,
    Stock,
    StockMovement,
    check_result,
    result_passes,
)
from .orders import (
    Allocation,
    AllocationStatus,
    AuditEntry,
    IdempotencyRecord,
    NoticeKind,
    Order,
    OrderLine,
    OrderNotice,
    OrderStatus,
    OrderStatusChange,
)

__all__ = [
    "PREPAID", "Allocation", "AllocationStatus", "ApiKey", "AuditEntry", "Base", "Batch", "BatchStatus",
    "CoaResult", "CoaResultRevision", "Company", "Customer", "DateKind", "DeliveryState", "IdempotencyRecord",
    "LotSignature", "MemberRole", "MovementKind", "NoticeKind", "Order", "OrderLine", "OrderNotice", "OrderStatus",
    "OrderStatusChange", "OutboxEvent", "PriceBreak", "PriceList", "PriceListItem", "Product", "SignedAction",
    "SpecTest", "StaffRole", "StaffUser", "Stock", "StockMovement", "Variant", "WebhookAttempt", "WebhookDelivery",
    "WebhookEndpoint", "check_result", "result_passes", "utcnow",
]
