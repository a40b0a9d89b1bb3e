"""Companies: their details and terms, their members' roles, and the keys a company admin manages.

Every function that acts for a member takes that member and looks only inside the member's company: another
company's member or key is NotFound, never changed. Roles are checked here, so that the pages and the API
refuse the same things.
"""
from __future__ import annotations

import re
import secrets
from decimal import Decimal

from blinker import Namespace
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError

from shop.accounts import member_mail
from shop.accounts.models import PREPAID, ApiKey, Company, Customer, MemberRole, StaffUser
from shop.accounts.people import normalise_email
from shop.platform.audit import audit
from shop.platform.countries import COUNTRY_CODE_MESSAGE, is_country_code
from shop.platform.database import utcnow
from shop.platform.errors import Forbidden, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.names import checked_name
from shop.platform.sql import like_pattern

PAYMENT_TERMS = re.compile(r"prepaid|net_([1-9][0-9]{0,2})")
# An amount as people write it for a machine: digits, and a point with at most two for cents (`25,000`, `1e4`
# and `25000.` are refused, never guessed).
PLAIN_AMOUNT = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")
# The name an admin gives the person they invite: shown on the members page, never in the invitation e-mail.
MAX_INVITEE_NAME = 80
BILLING_FIELDS = {"billing_line1": 200, "billing_line2": 200, "billing_city": 100, "billing_postal_code": 20}
BILLING_REQUIRED = ("billing_line1", "billing_postal_code", "billing_city", "billing_country")
# Sent with a member whose role changed or who was removed, in that change's transaction: what they set up for
# the company (its webhook endpoints, in shop.events) can follow.
member_changed = Namespace().signal("member-changed")


def require_role(member: Customer, role: MemberRole, action: str) -> None:
    """Raise Forbidden unless the member's role includes `role`."""
    if not member.role.may(role):
        raise Forbidden(f"Only a company {role.value} may {action}; your role is {member.role.value}.")


# --- Company details (the company's admin) -------------------------------------------------------

def check_vat_id(raw: str) -> str:
    """A VAT ID in its compact form (`DE136695976`), checked with python-stdnum (country format and check
    digits); '' for none. Raises InvalidInput saying why an ID is refused."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        return vat.validate(text)
    except StdnumError as exc:
        raise InvalidInput({"vat_id": [f"Not a valid EU VAT ID ({exc.message.lower().rstrip('.')}): write it with "
                                       "its country prefix, such as DE136695976."]}) from None


def update_details(member: Customer, name: str, vat_id: str, billing: dict[str, str]) -> Company:
    """Change the company's legal name, VAT ID and billing address (an admin only); every mistake at once."""
    require_role(member, MemberRole.ADMIN, "change the company's details")
    errors: dict[str, list[str]] = {}
    name = checked_name(name, "name", 200, errors, required="The legal name is required.")
    try:
        vat_id = check_vat_id(vat_id)
    except InvalidInput as exc:
        errors.update(exc.errors)
    address = _billing_address(billing, errors)
    if errors:
        raise InvalidInput(errors)
    company = member.company
    company.name, company.vat_id = name, vat_id
    for field, value in address.items():
        setattr(company, field, value)
    db.session.flush()
    return company


def _billing_address(raw: dict[str, str], errors: dict[str, list[str]]) -> dict[str, str]:
    address = {}
    for field, limit in BILLING_FIELDS.items():
        value = (raw.get(field) or "").strip()
        if len(value) > limit:
            errors[field] = [f"At most {limit} characters."]
        address[field] = value
    country = (raw.get("billing_country") or "").strip().upper()
    if country and not is_country_code(country):
        errors["billing_country"] = [COUNTRY_CODE_MESSAGE]
    address["billing_country"] = country
    # An invoice's buyer address is whole (EN 16931 needs its country) or absent: a part of one is refused.
    if any(address[field] for field in BILLING_REQUIRED):
        for field in BILLING_REQUIRED:
            if not address[field]:
                errors.setdefault(field, []).append(
                    "Needed for a billing address: give the street, postal code, city and country, or none of them.")
    return address


# --- Members (the company's admin) ------------------------------------------------------------------

def members(company_id: int) -> list[Customer]:
    """The company's current members (removed ones left out), by email."""
    return list(db.session.scalars(select(Customer).where(Customer.company_id == company_id,
                                                          Customer.active.is_(True)).order_by(Customer.email)))


def _role(raw: str, field: str = "role") -> MemberRole:
    try:
        return MemberRole(raw)
    except ValueError:
        raise InvalidInput({field: ["Choose buyer, approver or admin."]}) from None


def invite_member(admin: Customer, email: str, role: str, name: str = "") -> Customer | None:
    """Invite a person to the admin's company: they join by setting a password through the invitation link.

    Returns the member to send the invitation to, who cannot sign in until then (their password is an unusable
    random one). An address that already has an account is answered alike, so that nobody can probe for
    accounts: nothing changes, its holder is told by an e-mail with no link, and the result is None. A person
    invited before who never joined is invited afresh (the earlier link stops working) when the invitation is
    this company's own, or another company's that lapsed.
    """
    require_role(admin, MemberRole.ADMIN, "invite members")
    errors: dict[str, list[str]] = {}
    try:
        email = normalise_email(email)
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        member_role = _role(role)
    except InvalidInput as exc:
        errors.update(exc.errors)
    name = checked_name(name, "name", MAX_INVITEE_NAME, errors)
    if errors:
        raise InvalidInput(errors)
    member = db.session.scalar(select(Customer).where(Customer.email == email).with_for_update())
    if member is None:
        member = Customer(email=email, company_id=admin.company_id)
        db.session.add(member)
    elif not (member.joined_at is None and (member.company_id == admin.company_id or member.invitation_lapsed)):
        if member.active and member.joined_at is not None:
            member_mail.send_already_member(member, admin)
        Customer(password_hash="").set_password(secrets.token_urlsafe(32))  # as long as an invitation takes
        return None
    member.company_id, member.role, member.name, member.active = admin.company_id, member_role, name, True
    _renew_invitation(member)
    return member


def invite_again(admin: Customer, member_id: int) -> Customer:
    """Renew the invitation of a member of the admin's company who has not joined yet: a new link, valid for
    INVITATION_VALID_DAYS from now, and the earlier one stops working. NotFound for anyone else."""
    require_role(admin, MemberRole.ADMIN, "invite members")
    member = _member_of(admin, member_id)
    if member.joined_at is not None:
        raise NotFound("No such invitation in your company.")
    _renew_invitation(member)
    return member


def _renew_invitation(member: Customer) -> None:
    # Nobody knows this password: the invitation link sets the real one. The link is signed over a fingerprint of
    # the password hash (shop.accounts.links), so a new random password ends every link sent before.
    member.set_password(secrets.token_urlsafe(32))
    member.invited_at = utcnow()
    db.session.flush()


def _member_of(admin: Customer, member_id: int, *, lock: bool = True) -> Customer:
    stmt = select(Customer).where(Customer.id == member_id, Customer.active.is_(True),
                                  Customer.company_id == admin.company_id)
    member = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if member is None:
        raise NotFound("No such member in your company.")
    return member


def member_to_remove(admin: Customer, member_id: int) -> Customer:
    """A current member of the admin's company, for the page that asks to confirm removing them (with the keys
    they made, which stop working); another company's, or a removed one, is NotFound. Changes nothing."""
    require_role(admin, MemberRole.ADMIN, "remove members")
    return _member_of(admin, member_id, lock=False)


def _refuse_losing_last_admin(member: Customer) -> None:
    if member.role != MemberRole.ADMIN:
        return
    admins = db.session.scalar(select(func.count(Customer.id)).where(
        Customer.company_id == member.company_id, Customer.role == MemberRole.ADMIN, Customer.active.is_(True)))
    if admins <= 1:
        raise InvalidInput({"role": ["The company needs at least one admin: make another member an admin first."]})


def change_role(admin: Customer, member_id: int, role: str) -> Customer:
    """Give a member of the admin's company another role; the company keeps at least one admin."""
    require_role(admin, MemberRole.ADMIN, "change roles")
    new_role = _role(role)
    member = _member_of(admin, member_id)
    if new_role != member.role:
        _refuse_losing_last_admin(member)
        member.role = new_role
        member.end_all_sessions()  # pages already open must not keep the old role's rights
        member_changed.send(member)
    db.session.flush()
    return member


def remove_member(admin: Customer, member_id: int) -> Customer:
    """Remove a member from the admin's company: signed out everywhere, no sign-in, the API keys they made are
    revoked, the webhook endpoints they registered are disabled. Their orders stay in the company's order book."""
    require_role(admin, MemberRole.ADMIN, "remove members")
    member = _member_of(admin, member_id)
    _refuse_losing_last_admin(member)
    member.active = False
    member.end_all_sessions()
    for key in member.api_keys:  # for good: staff activating the account again do not bring the keys back
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    member_changed.send(member)
    db.session.flush()
    return member


# --- API keys (the company's admin) ---------------------------------------------------------------

def company_keys(company_id: int) -> list[ApiKey]:
    """The company's API keys, newest first, with the member who made each."""
    return list(db.session.scalars(select(ApiKey).where(ApiKey.company_id == company_id)
                                   .options(selectinload(ApiKey.customer)).order_by(ApiKey.id.desc())))


def company_key(admin: Customer, key_id: int, *, lock: bool = False) -> ApiKey:
    """One of the admin's company's keys (with its maker), e.g. for the page that asks to confirm revoking it;
    another company's is NotFound."""
    require_role(admin, MemberRole.ADMIN, "revoke API keys")
    stmt = select(ApiKey).where(ApiKey.id == key_id, ApiKey.company_id == admin.company_id)
    key = db.session.scalar(stmt.with_for_update() if lock else stmt.options(selectinload(ApiKey.customer)))
    if key is None:
        raise NotFound("No such API key in your company.")
    return key


def revoke_company_key(admin: Customer, key_id: int) -> ApiKey:
    """Revoke one of the company's keys: the next request with it answers 401."""
    key = company_key(admin, key_id, lock=True)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    db.session.flush()
    return key


# --- Terms (staff) -------------------------------------------------------------------------------

def _money(raw: str | Decimal | None, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    """An optional amount written as a plain decimal (`25000`, `25000.50`); `25,000` and `1e4` are refused."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    if not PLAIN_AMOUNT.fullmatch(text):
        errors[field] = ["A plain amount with a point for cents, such as 25000 or 25000.50; leave empty for none."]
        return None
    return Decimal(text)


def set_terms(company: Company, payment_terms: str | None = None, credit_limit: str | None = None,
              approval_threshold: str | None = None, *, staff: StaffUser | None = None,
              keep: tuple[str, ...] = ()) -> Company:
    """Set payment terms (`prepaid` or `net_<days>`), credit limit and approval threshold (empty: none).

    Names in `keep` are left as they are (the CLI changes only the options it is given).
    """
    errors: dict[str, list[str]] = {}
    terms = (payment_terms or "").strip() or PREPAID
    if "payment_terms" not in keep and not PAYMENT_TERMS.fullmatch(terms):
        errors["payment_terms"] = ["Write prepaid, or net_<days> such as net_30."]
    limit = _money(credit_limit, "credit_limit", errors)
    threshold = _money(approval_threshold, "approval_threshold", errors)
    if errors:
        raise InvalidInput(errors)
    values = {"payment_terms": terms, "credit_limit": limit, "approval_threshold": threshold}
    for name, value in values.items():
        if name not in keep:
            setattr(company, name, value)
    audit(staff, "company.terms", f"company {company.id}",
          f"terms {company.payment_terms}, credit limit {company.credit_limit}, "
          f"approval threshold {company.approval_threshold}")
    db.session.flush()
    return company


def get_company(company_id: int) -> Company:
    company = db.session.get(Company, company_id)
    if company is None:
        raise NotFound(f"No company {company_id}.")
    return company


COMPANIES_PER_PAGE = 50


def company_page(search: str = "", after: tuple[str, int] | None = None, limit: int = COMPANIES_PER_PAGE):
    """Companies by name, keyset-paginated on (name, id) along ix_company_name_id; `search` matches the start
    of the name. Returns (companies, (name, id) to continue after, or None)."""
    stmt = select(Company).order_by(Company.name, Company.id).limit(limit + 1)
    if search.strip():
        stmt = stmt.where(Company.name.like(like_pattern(search.strip(), prefix_only=True), escape="\\"))
    if after is not None:
        stmt = stmt.where((Company.name > after[0]) | ((Company.name == after[0]) & (Company.id > after[1])))
    rows = list(db.session.scalars(stmt))
    more = len(rows) > limit
    return rows[:limit], ((rows[limit - 1].name, rows[limit - 1].id) if more else None)
