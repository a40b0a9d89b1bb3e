"""Domain errors raised by the services; each audience translates them its own way."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    title = "Request refused"
    problem = "domain-error"
    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.title)
        self.message = message or self.title

    def details(self) -> dict[str, object]:
        """What the refusal says beyond its message, as data (shown by the API beside its problem's members,
        and kept with an idempotency key's refusal)."""
        return {}


class NotReady(Exception):
    """The shop cannot do this now, whatever was asked: its settings do not match its data (an operator must act,
    and /readyz names what). Not a refusal of the request, so never an Idempotency-Key's outcome: it is answered
    503, and the same request succeeds once the setup is mended."""


class NotFound(DomainError):
    title = "Not found"
    problem = "not-found"
    status = 404


class InvalidInput(DomainError):
    """Input that breaks a rule; `errors` maps field paths ('lines.0.quantity') to messages."""

    title = "Validation error"
    problem = "validation-error"
    status = 422

    def __init__(self, errors: dict[str, list[str]], message: str = "") -> None:
        super().__init__(message or "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors

    def details(self) -> dict[str, object]:
        return {"errors": self.errors}


@dataclass(frozen=True)
class Shortfall:
    """A line that cannot be filled: units asked for and available to it; for a company with a specification
    of the grade, the units in lots that do not meet it; for a line pinned to a lot, that lot and why not."""

    sku: str
    requested: int
    available: int
    outside_your_specification: int | None = None
    lot_number: str | None = None
    reason: str | None = None

    def text(self) -> str:
        said = f"requested {self.requested}, available {self.available}"
        if self.outside_your_specification:
            said += f"; {self.outside_your_specification} more in lots that do not meet your specification"
        if self.reason:
            said += f"; {self.reason}"
        return f"{self.sku} ({said})"

    def details(self) -> dict[str, object]:
        shown: dict[str, object] = {"sku": self.sku, "requested": self.requested, "available": self.available}
        if self.outside_your_specification is not None:
            shown["outside_your_specification"] = self.outside_your_specification
        if self.lot_number is not None:
            shown["lot_number"] = self.lot_number
        if self.reason is not None:
            shown["reason"] = self.reason
        return shown


class InsufficientStock(DomainError):
    title = "Insufficient stock"
    problem = "insufficient-stock"
    status = 409

    def __init__(self, short: list[Shortfall]) -> None:
        self.short = short
        super().__init__("Not enough stock for " + ", ".join(s.text() for s in short))

    def details(self) -> dict[str, object]:
        return {"short_lines": [s.details() for s in self.short]}


class IllegalTransition(DomainError):
    title = "Not allowed in this status"
    problem = "illegal-transition"
    status = 409


class QuoteNotOpen(DomainError):
    """A quote that can no longer be accepted or declined: not answered (still requested, or closed), or past the
    last day it is valid through, whether or not the expiry job has run yet."""

    title = "Quote not open"
    problem = "quote-not-open"
    status = 409


class OrderNotPaid(DomainError):
    """A prepaid order that is not paid in full yet: it does not ship (DESIGN.md, "Prepaid orders")."""

    title = "Order not paid"
    problem = "order-not-paid"
    status = 409


class CreditLimitExceeded(DomainError):
    """An order on credit that the company's open exposure leaves no room for: `available_credit` is what it may
    still order for (its limit less its open exposure; never below zero)."""

    title = "Credit limit exceeded"
    problem = "credit-limit-exceeded"
    status = 409

    def __init__(self, available_credit: Decimal, gross: Decimal, currency: str) -> None:
        self.available_credit = max(available_credit, Decimal("0.00"))
        super().__init__(f"This order ({gross:,.2f} {currency}) exceeds your company's available credit "
                         f"({self.available_credit:,.2f} {currency}). Pay open invoices, or order less.")

    def details(self) -> dict[str, object]:
        return {"available_credit": str(self.available_credit)}


class Forbidden(DomainError):
    """The actor's role may not do this (the pages and the API check roles first: a safety net)."""

    title = "Forbidden"
    problem = "forbidden"
    status = 403


class Conflict(DomainError):
    title = "Conflict"
    problem = "conflict"
    status = 409


@dataclass
class Failure:
    test: str
    reason: str


class ReleaseRefused(DomainError):
    """A batch cannot be released: every failing or missing test is named."""

    title = "Release refused"
    problem = "release-refused"
    status = 409

    def __init__(self, lot_number: str, failures: list[Failure]) -> None:
        self.failures = failures
        super().__init__(f"Lot {lot_number} cannot be released: "
                         + "; ".join(f"{f.test}: {f.reason}" for f in failures))

