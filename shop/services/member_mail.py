"""E-mail to a company's members about their account and approvals: invitations, password resets, outcomes.

Every message goes out through `_send`, the one place that hands mail to the shop's mail set-up.
"""
from __future__ import annotations

import logging

from flask import render_template, url_for

from ..models import Customer, Order, StaffUser

log = logging.getLogger(__name__)


def _send(to: str, subject: str, template: str, **context) -> None:
    """Send templates/email/<template>.txt (and .html) to `to`.

    Printed to the log until the shop's mail module (issue 13) is merged, which then sends it after commit.
    """
    body = render_template(f"email/{template}.txt", **context)
    log.info("mail to %s: %s\n%s", to, subject, body)


def send_invitation(member: Customer, inviter: Customer, link: str) -> None:
    _send(member.email, f"Join {member.company.name} at the Leucine Shop", "invitation", member=member,
          inviter=inviter, link=link)


def send_password_reset(user: Customer | StaffUser, link: str) -> None:
    _send(user.email, "Reset your Leucine Shop password", "password_reset", user=user, link=link)


def send_approval_outcome(order: Order, approved: bool, note: str) -> None:
    """Tell whoever placed the order (for a key: who made it) that it was approved or rejected."""
    outcome = "approved" if approved else "rejected"
    link = url_for("storefront.order_detail", number=order.number, _external=True)
    _send(order.customer.email, f"Order {order.number} {outcome}", "approval_outcome", order=order,
          approved=approved, note=note, link=link)
