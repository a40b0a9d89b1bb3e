"""E-mail to a company's members about their account: invitations, password resets and opening an account.

Every message goes out through `_send`, which hands it to `shop.platform.mail`: it leaves once the caller's transaction
commits (callers send inside `run_in_transaction`). Links are absolute from PUBLIC_BASE_URL, never the request's
Host, so that a forged Host header cannot point a reset link elsewhere.
"""
from __future__ import annotations

from shop.accounts.models import Customer, StaffUser
from shop.platform import mail
from shop.platform.names import one_line


def _send(to: str, subject: str, template: str, **context) -> None:
    """Send templates/email/<template>.txt (and .html) to `to` once the current transaction commits."""
    mail.send(to, subject, template, **context)


def invited_by(inviter: Customer) -> str:
    """Who invites, as the subject and first line of an invitation say it: "<admin's name> of <company>".

    Both are bounded, plain names that their own company chose; the invitee's name, which the inviter types
    for somebody else, is never part of it (it made the shop's own e-mail say "your account is locked, call...").
    """
    return one_line(f"{inviter.name or inviter.email} of {inviter.company.name}")


def send_invitation(member: Customer, inviter: Customer, link: str) -> None:
    _send(member.email, f"{invited_by(inviter)} invited you to Leucine Shop", "invitation", member=member,
          inviter=invited_by(inviter), link=link)


def send_already_member(holder: Customer, inviter: Customer) -> None:
    """Tell the holder of an account that someone tried to invite their address; nothing to click, nothing changed."""
    _send(holder.email, "Someone tried to invite you to Leucine Shop", "already_member", holder=holder,
          inviter=invited_by(inviter))


def send_password_reset(user: Customer | StaffUser, link: str) -> None:
    _send(user.email, "Reset your Leucine Shop password", "password_reset", user=user, link=link)


def send_no_account(email: str) -> None:
    """The answer by e-mail to a reset asked for an address with no account: the same subject, no link."""
    _send(email, "Reset your Leucine Shop password", "password_reset_no_account", email=email)


def send_registration_link(email: str, link: str) -> None:
    """The link that opens an account asked for on the registration page. The company's name typed there is not in
    it: whoever asks chooses that text, and the shop's e-mail to somebody else's address must not carry it."""
    _send(email, "Open your Leucine Shop account", "registration_link", email=email, link=link)


def send_already_registered(holder: Customer) -> None:
    """The answer by e-mail to a registration asked for an address that has an account: the same subject, no link."""
    _send(holder.email, "Open your Leucine Shop account", "registration_exists", holder=holder)
