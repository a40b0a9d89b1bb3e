"""Accounts: companies, the people who sign in for them (members with a role), API keys, and staff users."""
from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from shop.platform.database import Base, _enum, utcnow

if TYPE_CHECKING:
    from shop.catalog.models import PriceList


PREPAID = "prepaid"


class MemberRole(enum.StrEnum):
    """What a member (or an API key) of a company may do; each role may also do what the ones before it may."""

    BUYER = "buyer"  # orders
    APPROVER = "approver"  # also approves orders above the company's threshold
    ADMIN = "admin"  # also manages the company's members, API keys and webhook endpoints

    def may(self, role: MemberRole) -> bool:
        """Whether this role includes `role`."""
        order = list(MemberRole)
        return order.index(self) >= order.index(role)

    def at_most(self, cap: MemberRole) -> MemberRole:
        """This role, lowered to `cap` where it is above: what a key acts as under its maker's current role."""
        return self if cap.may(self) else cap


def needs_approval(threshold: Decimal | None, role: MemberRole, total: Decimal) -> bool:
    """Whether an order waits for an approver: placed by a buyer, with a total strictly above the threshold."""
    return threshold is not None and role == MemberRole.BUYER and total > threshold


class Company(Base):
    """A buying organisation: its members sign in, its keys call the API, and it owns the orders."""

    __tablename__ = "company"
    __table_args__ = (
        CheckConstraint("payment_terms = 'prepaid' OR payment_terms LIKE 'net\\_%' ESCAPE '\\'",
                        name="payment_terms_known"),
        CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="credit_limit_not_negative"),
        CheckConstraint("approval_threshold IS NULL OR approval_threshold >= 0", name="threshold_not_negative"),
        Index("ix_company_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # the legal name
    vat_id: Mapped[str] = mapped_column(String(20), default="")
    billing_line1: Mapped[str] = mapped_column(String(200), default="")
    billing_line2: Mapped[str] = mapped_column(String(200), default="")
    billing_city: Mapped[str] = mapped_column(String(100), default="")
    billing_postal_code: Mapped[str] = mapped_column(String(20), default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="")
    payment_terms: Mapped[str] = mapped_column(String(12), default=PREPAID)
    credit_limit: Mapped[Decimal | None]
    approval_threshold: Mapped[Decimal | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    price_lists: Mapped[list[PriceList]] = relationship(back_populates="company", order_by="PriceList.id",
                                                        cascade="all, delete-orphan")

    @property
    def billing_address(self) -> dict[str, str]:
        """The billing address in an order's address fields, the company's name as the recipient."""
        return {"name": self.name, "line1": self.billing_line1, "line2": self.billing_line2,
                "city": self.billing_city, "postal_code": self.billing_postal_code, "country": self.billing_country}

    def __repr__(self) -> str:
        return f"<Company {self.name}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class _PasswordMixin:
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the id that every session of this user carries (get_id); a new token signs all of them out.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def end_all_sessions(self) -> None:
        """Sign this user out everywhere: every session cookie issued so far stops working."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Customer(_PasswordMixin, UserMixin, Base):
    """A person who signs in to the storefront: a member of one company, with a role there.

    `active` is false once the member was removed from the company (or deactivated by staff): no sign-in, and
    the API keys they created are refused. The row stays, since their orders name them.
    """

    __tablename__ = "customer"
    __table_args__ = (Index("ix_customer_company_id_id", "company_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the member first set a password; None while an invitation is still open.
    joined_at: Mapped[datetime | None]
    # When the latest invitation was sent (None for a person who registered): INVITATION_VALID_DAYS later, an
    # invitation not accepted has lapsed.
    invited_at: Mapped[datetime | None]

    company: Mapped[Company] = relationship()
    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="customer")

    def get_id(self) -> str:
        # Prefixed so a customer session can never be read as a staff session.
        return f"customer:{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def invitation_lapsed(self) -> bool:
        """Whether this is an invitation nobody accepted within INVITATION_VALID_DAYS of sending it."""
        if self.joined_at is not None or self.invited_at is None:
            return False
        return utcnow() - self.invited_at > timedelta(days=current_app.config["INVITATION_VALID_DAYS"])

    @property
    def key_id(self) -> None:
        """A person acts for themselves, with no API key (the API's ApiCustomer names its key)."""
        return None

    @property
    def actor_name(self) -> str:
        """Who acts, as the company's people read it: the person's e-mail."""
        return self.email

    def __repr__(self) -> str:
        return f"<Customer {self.email}>"


class ApiKey(Base):
    """A company's API key, acting with the role chosen when it was made (buyer, approver or admin: an admin key
    also manages the company's webhook endpoints), never above its maker's current role.

    Only the SHA-256 of the key is stored, the key itself is shown once. `customer` is the member who made it:
    the key works while that member is active, and acts at most as they now may (`acts_as`): demoting a member
    caps their keys at once, with nothing stored that could drift from their role.
    """

    __tablename__ = "api_key"
    __table_args__ = (
        Index("ix_api_key_company_id_id", "company_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole, "member_role"), default=MemberRole.BUYER)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="api_keys")

    @property
    def actor_name(self) -> str:
        """Who acts, as the company's people read it: the key's name (what an order placed with it shows)."""
        return key_label(self.name, self.prefix)

    @property
    def acts_as(self) -> MemberRole:
        """The role the key acts with today: the one chosen at creation, capped at its maker's current role."""
        return self.role.at_most(self.customer.role)


def key_label(name: str, prefix: str) -> str:
    """An API key as people read it: its name, else the start of the key."""
    return name or f"API key {prefix}…"


class StaffRole(enum.StrEnum):
    """What a staff member may do; one person may hold several (an admin who also works in quality)."""

    ADMIN = "admin"  # every right but a signature on a QC decision
    WAREHOUSE = "warehouse"
    QUALITY = "quality"  # the quality unit: records results, and alone signs releases, rejections and recalls
    FULFILMENT = "fulfilment"
    SALES = "sales"  # answers quotes (prices, holds) and sample requests
    FINANCE = "finance"  # records payments, issues credit notes


class StaffUserRole(Base):
    """One role held by a staff user."""

    __tablename__ = "staff_user_role"

    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"), primary_key=True)


class StaffUser(_PasswordMixin, UserMixin, Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded with the user: every staff page checks them.
    role_rows: Mapped[list[StaffUserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def get_id(self) -> str:
        return f"staff:{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def roles(self) -> frozenset[StaffRole]:
        return frozenset(row.role for row in self.role_rows)

    @roles.setter
    def roles(self, roles: Iterable[StaffRole]) -> None:
        wanted, held = sorted_roles(roles), self.roles
        self.role_rows = [row for row in self.role_rows if row.role in wanted] + [
            StaffUserRole(role=r) for r in wanted if r not in held]

    @property
    def role_names(self) -> str:
        """The roles held, in the order of StaffRole: 'admin, quality'."""
        return ", ".join(sorted_roles(self.roles))

    def holds(self, role: StaffRole) -> bool:
        """Whether this person holds `role` itself (what a signature needs: admin does not imply it)."""
        return role in self.roles

    def has_role(self, *roles: StaffRole | str) -> bool:
        """Whether this person may do what any of `roles` may: admins may do everything but sign (`holds`)."""
        held = self.roles
        return StaffRole.ADMIN in held or any(r in held for r in roles)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role_names}>"


def sorted_roles(roles: Iterable[StaffRole | str]) -> list[StaffRole]:
    """Staff roles without repeats, in the order of StaffRole."""
    wanted = {StaffRole(r) for r in roles}
    return [r for r in StaffRole if r in wanted]
