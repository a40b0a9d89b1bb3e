"""E-mail to a company's members about their account: invitations and password resets.

Every message goes out through `_send`, which hands it to `shop.platform.mail`: it leaves once the caller's transaction
commits (callers send inside `run_in_transaction`). Links are absolute from PUBLIC_BASE_URL, never the request's
Host, so that a forged Host header cannot point a reset link elsewhere.
"""
from __future__ import annotations

from shop.accounts.models import Customer, StaffUser
from shop.platform import mail


def _send(to: str, subject: str, template: str, **context) -> None:
    """Send templates/email/<template>.txt (and .html) to `to` once the current transaction commits."""
    mail.send(to, subject, template, **context)


def send_invitation(member: Customer, inviter: Customer, link: str) -> None:
    _send(member.email, f"Join {member.company.name} at the Leucine Shop", "invitation", member=member,
          inviter=inviter, link=link)


def send_password_reset(user: Customer | StaffUser, link: str) -> None:
    _send(user.email, "Reset your Leucine Shop password", "password_reset", user=user, link=link)
