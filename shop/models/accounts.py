"""Accounts: the people who sign in for a company (members with a role), API keys, and staff users with roles."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base, utcnow
from .companies import Company, MemberRole
from .inventory import _enum


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

    company: Mapped[Company] = relationship()
    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="customer")

    def get_id(self) -> str:
        # Prefixed so a customer session can never be read as a staff session.
        return f"customer:{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<Customer {self.email}>"


class ApiKey(Base):
    """A company's API key, acting with the role chosen when it was made (buyer or approver).

    Only the SHA-256 of the key is stored, the key itself is shown once. `customer` is the member who made it:
    the key works while that member is active.
    """

    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint("role IN ('buyer', 'approver')", name="key_role_not_admin"),
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


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    WAREHOUSE = "warehouse"
    QUALITY = "quality"
    FULFILMENT = "fulfilment"


class StaffUser(_PasswordMixin, UserMixin, Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def get_id(self) -> str:
        return f"staff:{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: StaffRole | str) -> bool:
        """Admins may do everything; everyone else only what their role names."""
        return self.role == StaffRole.ADMIN or self.role in roles

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"
