"""Accounts: create customers and staff, issue and revoke API keys, authenticate, change passwords, deactivate.

Repeated failed sign-ins are throttled per account and client address by the views (shop/ratelimits.py), not
by locking the account: a lock would let anyone who knows an email lock its owner out.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Row, bindparam, func, or_, select, update
from sqlalchemy.orm import contains_eager, selectinload

from shop.accounts.models import (
    ApiKey,
    Company,
    Customer,
    MemberRole,
    StaffRole,
    StaffUser,
    StaffUserRole,
    sorted_roles,
)
from shop.accounts.passwords import MIN_PASSWORD_LENGTH, password_problems, the_shops_words
from shop.platform.audit import audit
from shop.platform.database import utcnow
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.names import checked_name
from shop.platform.sql import like_pattern

__all__ = ["MIN_PASSWORD_LENGTH"]  # re-exported for the forms' labels

API_KEY_PREFIX = "lsk_"


def normalise_email(email: str, field: str = "email") -> str:
    """Check an email address's syntax and return it lower-cased (no DNS look-up)."""
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput({field: [str(exc)]}) from None


def checked_new_email(model: type[Customer] | type[StaffUser], email: str,
                      taken_message: str) -> tuple[str, dict[str, list[str]]]:
    """A new account's address, normalised, and what is wrong with it by field (badly formed, or `taken_message`
    when an account of `model` has it already: a person invited who never joined has none yet)."""
    try:
        email = normalise_email(email)
    except InvalidInput as exc:
        return email, dict(exc.errors)
    taken = select(model.id).where(model.email == email)
    if model is Customer:
        taken = taken.where(Customer.joined_at.is_not(None))
    if db.session.scalar(taken) is not None:
        return email, {"email": [taken_message]}
    return email, {}


def _new_account_errors(model: type[Customer] | type[StaffUser], email: str, password: str,
                        taken_message: str, company: str = "") -> dict[str, list[str]]:
    """Everything wrong with a new account's email and password, by field: a bad address, one already taken,
    a password that breaks the rules, all at once."""
    email, errors = checked_new_email(model, email, taken_message)
    problems = password_problems(password, email, company, the_shops_words())
    if problems:
        errors["password"] = problems
    return errors


def _add_account(account: Customer | StaffUser, password: str):
    account.set_password(password)
    db.session.add(account)
    db.session.flush()
    return account


def _registration_errors(email: str, password: str, company: str) -> dict[str, list[str]]:
    """Everything wrong with a new one-person company's account, by field, without writing anything. (Only the
    service that opens it says that an address is taken: the registration page tells nobody, accounts.registration.)"""
    company = (company or "").strip()
    errors = _new_account_errors(Customer, email, password,
                                 "An account with this email already exists. Sign in instead.", company)
    checked_name(company, "company", 200, errors, required="The company name is required.")
    return errors


def create_customer(email: str, password: str, company: str) -> Customer:
    """Register a one-person company whose member, the new customer, is its admin; the email must be new.

    A person with a pending invitation may register on their own: the invitation lapses (its row becomes the new
    account, so the link in it stops working, and the inviting company no longer lists them).
    """
    errors = _registration_errors(email, password, company)
    if errors:
        raise InvalidInput(errors)
    email = normalise_email(email)
    member = db.session.scalar(select(Customer).where(Customer.email == email, Customer.joined_at.is_(None))
                               .with_for_update()) or Customer(email=email)
    member.company, member.role, member.name, member.active = Company(name=company.strip()), MemberRole.ADMIN, "", True
    member.joined_at, member.invited_at = utcnow(), None
    member.end_all_sessions()
    return _add_account(member, password)


def create_staff(email: str, password: str, roles: Iterable[str] | str, name: str = "") -> StaffUser:
    """Create a staff user holding `roles` (one role's name, or several) of admin, warehouse, quality, fulfilment."""
    errors = _new_account_errors(StaffUser, email, password, "A staff user with this email already exists.")
    name = checked_name(name, "name", 120, errors)
    held, role_errors = checked_roles([roles] if isinstance(roles, str) else roles, email)
    if role_errors:
        errors["roles"] = role_errors
    if errors:
        raise InvalidInput(errors)
    staff = StaffUser(email=normalise_email(email), name=name)
    staff.roles = held
    return _add_account(staff, password)


def checked_roles(names: Iterable[str], email: str) -> tuple[list[StaffRole], list[str]]:
    """The staff roles named, in StaffRole order, and what is wrong with them (none, or one unknown)."""
    names = [str(n).strip() for n in names]
    unknown = [n for n in names if n not in {r.value for r in StaffRole}]
    if unknown:
        return [], [f"Unknown role {', '.join(unknown)}: a role is one of {', '.join(r.value for r in StaffRole)}."]
    if not names:
        return [], [f"Tick at least one role for {email}."]
    return sorted_roles(names), []


def set_staff_roles(user: StaffUser, names: Iterable[str], by: StaffUser | None = None) -> StaffUser:
    """Give a staff user exactly the roles named (audited); refused when none is named, or when it would take
    the admin role from the last active admin. The caller commits."""
    roles, errors = checked_roles(names, user.email)
    if not errors and StaffRole.ADMIN in user.roles and StaffRole.ADMIN not in roles and not _other_admins(user):
        errors = [f"{user.email} is the last admin: give another staff user the admin role first."]
    if errors:
        raise InvalidInput({"roles": errors})
    before = user.role_names
    user.roles = roles
    if user.role_names != before:
        audit(by, "staff.roles_changed", f"staff {user.email}", f"{before} -> {user.role_names}")
    return user


def _other_admins(user: StaffUser) -> bool:
    """Whether an active staff user other than `user` holds the admin role. Every active admin's role row is
    locked (FOR UPDATE, in id order; SQLite serialises writes anyway), so two admins taking the role from each
    other at once are taken in turn: the second sees the first's change and is refused."""
    admin_ids = db.session.scalars(select(StaffUserRole.staff_user_id).join(StaffUser).where(
        StaffUserRole.role == StaffRole.ADMIN, StaffUser.active.is_(True))
        .order_by(StaffUserRole.staff_user_id).with_for_update(of=StaffUserRole)).all()
    return any(admin_id != user.id for admin_id in admin_ids)


def hash_api_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(customer: Customer, name: str = "", role: MemberRole | str = MemberRole.BUYER) -> str:
    """Issue a new API key of the member's company, made by the member, acting with `role` (buyer, approver or
    admin: an admin key also manages the company's webhook endpoints); return the key itself, which is never
    stored. A key's role is at most its maker's (an admin key needs a company admin as its maker)."""
    errors: dict[str, list[str]] = {}
    name = checked_name(name, "name", 100, errors)
    if role not in [r.value for r in MemberRole]:
        errors["role"] = ["A key acts as a buyer, an approver or an admin."]
    elif not customer.role.may(MemberRole(role)):
        errors["role"] = [f"A key acts at most as its maker may: {customer.email} is a {customer.role.value}, "
                          f"so a {role} key is refused."]
    if errors:
        raise InvalidInput(errors)
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiKey(customer_id=customer.id, company_id=customer.company_id, role=MemberRole(role),
                          prefix=key[:12], key_hash=hash_api_key(key), name=name))
    db.session.flush()
    return key


# Built once: this runs before every API request, and composing the SELECT cost more than executing it.
# The maker's role comes along: a key acts at most as its maker now may (see key_role).
KEY_FOR_HASH = (
    select(ApiKey.customer_id, ApiKey.company_id, ApiKey.role, Customer.role.label("maker_role"),
           ApiKey.id.label("key_id"), ApiKey.last_used_at, ApiKey.name, ApiKey.prefix)
    .join(Customer, ApiKey.customer_id == Customer.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None), Customer.active.is_(True))
)
# How often a key's last use is written down: once a minute is precise enough to read, and spares a write
# (and a lock on the key's row) on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_hash(key: str) -> str | None:
    """The hash to look `key` up by (the key_hash parameter of KEY_FOR_HASH); None for a string that cannot be
    a key."""
    if not key or not key.startswith(API_KEY_PREFIX) or len(key) > 200:
        return None
    return hash_api_key(key)


def key_for_api_key(key: str) -> Row | None:
    """The KEY_FOR_HASH row of a valid key (its maker, company, role and its maker's, id, name), or None for an
    unknown or revoked key, or one whose maker is no longer active."""
    key_hash = api_key_hash(key)
    if key_hash is None:
        return None
    conn = db.session.connection()  # a Core query: the Session's execute() would cost as much CPU again
    return conn.execute(KEY_FOR_HASH, {"key_hash": key_hash}).one_or_none()


def key_role(found: Row) -> MemberRole:
    """The role a KEY_FOR_HASH row acts with: the key's own, capped at its maker's current role (an admin demoted
    to buyer keeps no approver key's rights)."""
    return MemberRole(found.role).at_most(MemberRole(found.maker_role))


def key_use_to_note(last_used_at: datetime | None) -> bool:
    """Whether a key last used at `last_used_at` should have its use written down now: not within
    LAST_USED_RESOLUTION of the last time."""
    return last_used_at is None or utcnow() - last_used_at >= LAST_USED_RESOLUTION


def note_key_used(key_id: int) -> None:
    """Write down that a key was used now; the caller commits."""
    db.session.connection().execute(update(ApiKey.__table__).where(ApiKey.__table__.c.id == key_id)
                                    .values(last_used_at=utcnow()))


def find_active(model: type[Customer] | type[StaffUser], email: str):
    """The active account with this email, or None (also for an address that is not one)."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        return None
    return db.session.scalar(select(model).where(model.email == email, model.active.is_(True)))


def authenticate(model: type[Customer] | type[StaffUser], email: str, password: str):
    """Return the active user with this email and password, None otherwise (the same for an unknown email)."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        return None
    user = db.session.scalar(select(model).where(model.email == email))
    if user is None:
        # Spend the same time as a real check so that response times do not reveal accounts.
        Customer(password_hash="").set_password(password or "x")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def change_password(user: Customer | StaffUser, current: str, new: str) -> None:
    """Set a new password after checking the current one; every other session of the user is signed out."""
    errors: dict[str, list[str]] = {}
    if not user.check_password(current or ""):
        errors["current_password"] = ["This is not your current password."]
    problems = password_problems(new, user.email, company_name(user), the_shops_words())
    if problems:
        errors["password"] = problems
    elif new == current:
        errors["password"] = ["Choose a password different from the current one."]
    if errors:
        raise InvalidInput(errors)
    user.set_password(new)
    user.end_all_sessions()
    db.session.flush()


def company_name(user: Customer | StaffUser) -> str:
    """The name of a customer's company (words a password must not contain); '' for staff."""
    return user.company.name if isinstance(user, Customer) else ""


def sign_out_everywhere(user: Customer | StaffUser) -> None:
    """End every session of the user (what signing out does: a copied session cookie is worthless after)."""
    user.end_all_sessions()
    db.session.flush()


def _customer(customer_id: int | None = None, email: str | None = None, *, lock: bool = True) -> Customer:
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id, with_for_update=lock)
    else:
        stmt = select(Customer).where(Customer.email == (email or "").strip().lower())
        customer = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if customer is None:
        raise NotFound(f"No customer {email or customer_id}.")
    return customer


def customer_to_deactivate(customer_id: int) -> Customer:
    """A customer (with its company and keys), for the staff page that asks to confirm deactivating it; unknown is
    NotFound. Changes nothing."""
    return _customer(customer_id, lock=False)


def set_customer_active(active: bool, *, customer_id: int | None = None, email: str | None = None,
                        staff: StaffUser | None = None) -> Customer:
    """Deactivate a customer (no sign-in, every session ended, its API keys refused) or activate it again."""
    customer = _customer(customer_id, email)
    if customer.active != active:
        customer.active = active
        if not active:
            customer.end_all_sessions()
        audit(staff, "customer.activated" if active else "customer.deactivated", f"customer {customer.email}")
    db.session.flush()
    return customer


def key_to_revoke(key_id: int) -> ApiKey:
    """An API key (with its maker and company), for the staff page that asks to confirm revoking it; unknown is
    NotFound. Changes nothing."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    return key


def revoke_api_key(*, key_id: int | None = None, prefix: str | None = None,
                   staff: StaffUser | None = None) -> ApiKey:
    """Revoke an API key, found by id or by the prefix shown when it was made; the next request with it is 401."""
    stmt = select(ApiKey).with_for_update()
    keys = db.session.scalars(stmt.where(ApiKey.id == key_id) if key_id is not None
                              else stmt.where(ApiKey.prefix == (prefix or "").strip()).limit(2)).all()
    if not keys:
        raise NotFound(f"No API key {prefix or key_id}.")
    if len(keys) > 1:
        raise InvalidInput({"prefix": [f"Several keys start with {prefix}; revoke them on the staff customers "
                                       "page."]})
    key = keys[0]
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit(staff, "api_key.revoked", f"api key {key.prefix}", f"customer id {key.customer_id}")
    db.session.flush()
    return key


CUSTOMERS_PER_PAGE = 50


def customer_page(search: str = "", after_id: int | None = None, limit: int = CUSTOMERS_PER_PAGE):
    """Customers newest first with their API keys loaded (two statements), keyset-paginated on id.

    `search` matches anywhere in the email or company name: a scan, fine for an admin page over the customer
    table.
    Returns (customers, id to continue after or None).
    """
    stmt = (select(Customer).join(Customer.company)
            .options(contains_eager(Customer.company), selectinload(Customer.api_keys))
            .order_by(Customer.id.desc()).limit(limit + 1))
    if search.strip():
        pattern = like_pattern(search.strip().lower())
        stmt = stmt.where(or_(func.lower(Customer.email).like(pattern, escape="\\"),
                              func.lower(Company.name).like(pattern, escape="\\")))
    if after_id is not None:
        stmt = stmt.where(Customer.id < after_id)
    rows = list(db.session.scalars(stmt))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
