"""Accounts: customer companies with their API keys, and staff users with roles."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base, utcnow
from .inventory import _enum


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class _PasswordMixin:
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the id that every session of this user carries (get_id); a new token signs all of them out.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def end_all_sessions(self) -> None:
        """Sign this user out everywhere: every session cookie issued so far stops working."""
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Customer(_PasswordMixin, UserMixin, Base):
    """A company account: storefront login and owner of API keys and orders."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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
    """An API key; only the SHA-256 of the key is stored, the key itself is shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
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
