"""Password reset e-mail: asked for by anyone for an address (the storefront), or sent by an admin to a staff member.

Asking tells nothing about who has an account, in words or in time: an address with an account is sent a link, one
without is sent a note that it has none, both written to the outbox in the same statements. At most
RATELIMIT_RESET_PER_ADDRESS messages go to one address, however many clients ask; beyond that nothing is sent and
the answer stays the same. The link itself is accounts.links' (RESET, STAFF_RESET).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from shop.accounts import links, member_mail
from shop.accounts.models import Customer, StaffUser
from shop.accounts.people import normalise_email
from shop.platform.audit import audit
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.ratelimits import reset_mail_throttle

# Builds the absolute link of a reset page from its token (the adapter knows its route).
LinkFor = Callable[[str], str]


def request_customer_reset(email: str, link_for: LinkFor) -> None:
    """E-mail `email` a reset link when a member who has joined has it, a note that there is no account
    otherwise; nothing for text that is no address or an address past its limit. The caller commits."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        return
    if not reset_mail_throttle("customer", address).take():
        return
    user = db.session.scalar(select(Customer).where(Customer.email == address, Customer.active.is_(True)))
    if user is not None and user.joined_at is not None:
        member_mail.send_password_reset(user, link_for(links.make_token(user, links.RESET)))
    else:  # an invited member who has not joined sets a password through the invitation
        member_mail.send_no_account(address)


def send_staff_reset(user: StaffUser, admin: StaffUser, link_for: LinkFor) -> bool:
    """E-mail a staff member a reset link, audited as `admin`'s; False, sending nothing, when their address has
    had its limit of reset e-mail. The caller commits."""
    if not reset_mail_throttle("staff", user.email).take():
        return False
    audit(admin, "staff.password_reset_sent", f"staff {user.email}")
    member_mail.send_password_reset(user, link_for(links.make_token(user, links.STAFF_RESET)))
    return True
