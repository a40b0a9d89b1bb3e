"""Accounts: create customers and staff, issue API keys, authenticate with lock-out."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, select

from ..errors import InvalidInput
from ..extensions import db
from ..models import ApiKey, Customer, StaffRole, StaffUser, utcnow

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
API_KEY_PREFIX = "lsk_"


def normalise_email(email: str, field: str = "email") -> str:
    """Check an email address's syntax and return it lower-cased (no DNS look-up)."""
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput({field: [str(exc)]}) from None


def _new_account_errors(model: type[Customer] | type[StaffUser], email: str, password: str,
                        taken_message: str) -> dict[str, list[str]]:
    """What is wrong with a new account's (normalised) email and password, by field."""
    errors: dict[str, list[str]] = {}
    if db.session.scalar(select(model.id).where(model.email == email)) is not None:
        errors["email"] = [taken_message]
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    return errors


def _add_account(account: Customer | StaffUser, password: str):
    account.set_password(password)
    db.session.add(account)
    db.session.flush()
    return account


def create_customer(email: str, password: str, company: str) -> Customer:
    """Register a customer company; the email must be new."""
    email = normalise_email(email)
    errors = _new_account_errors(Customer, email, password,
                                 "An account with this email already exists. Sign in instead.")
    company = (company or "").strip()
    if not company:
        errors["company"] = ["The company name is required."]
    elif len(company) > 200:
        errors["company"] = ["At most 200 characters."]
    if errors:
        raise InvalidInput(errors)
    return _add_account(Customer(email=email, company=company), password)


def create_staff(email: str, password: str, role: str, name: str = "") -> StaffUser:
    """Create a staff user with one of the roles admin, warehouse, quality, fulfilment."""
    email = normalise_email(email)
    errors = _new_account_errors(StaffUser, email, password, "A staff user with this email already exists.")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        errors["role"] = [f"Role must be one of: {', '.join(r.value for r in StaffRole)}."]
    if errors:
        raise InvalidInput(errors)
    return _add_account(StaffUser(email=email, role=staff_role, name=name), password)


def hash_api_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(customer: Customer, name: str = "") -> str:
    """Issue a new API key for a customer; return the key itself, which is never stored."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiKey(customer_id=customer.id, prefix=key[:12], key_hash=hash_api_key(key), name=name))
    db.session.flush()
    return key


# Built once: this runs before every API request, and composing the SELECT cost more than executing it.
CUSTOMER_ID_FOR_KEY_HASH = (
    select(ApiKey.customer_id)
    .join(Customer, ApiKey.customer_id == Customer.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None), Customer.active.is_(True))
)


def api_key_hash(key: str) -> str | None:
    """The hash to look `key` up by (the key_hash parameter of CUSTOMER_ID_FOR_KEY_HASH); None for a string
    that cannot be a key."""
    if not key or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    return hash_api_key(key)


def customer_id_for_api_key(key: str) -> int | None:
    """The id of the active customer a key belongs to, or None for an unknown or revoked key."""
    key_hash = api_key_hash(key)
    if key_hash is None:
        return None
    conn = db.session.connection()  # a Core query: the Session's execute() would cost as much CPU again
    return conn.execute(CUSTOMER_ID_FOR_KEY_HASH, {"key_hash": key_hash}).scalar_one_or_none()


class LockedOut(Exception):
    """Too many failed sign-ins: try again after `until`."""

    def __init__(self, until) -> None:
        super().__init__(f"Too many failed attempts; try again after {until:%H:%M} UTC.")
        self.until = until


def authenticate(model: type[Customer] | type[StaffUser], email: str, password: str):
    """Return the user for a correct email and password, None otherwise; lock out after repeated failures.

    The caller commits either way, so that failed attempts are counted.
    """
    try:
        email = normalise_email(email)
    except InvalidInput:
        return None
    user = db.session.scalar(select(model).where(model.email == email).with_for_update())
    if user is None:
        # Spend the same time as a real check so that response times do not reveal accounts.
        Customer(password_hash="").set_password(password or "x")
        return None
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise LockedOut(user.locked_until)
    if not user.active or not user.check_password(password or ""):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
        return None
    user.failed_logins = 0
    user.locked_until = None
    return user
