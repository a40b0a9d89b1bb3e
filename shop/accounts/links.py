"""Signed links that let a person set a password: an invitation to join a company, a password reset, and the link
that opens an account asked for on the registration page.

A link carries the account's id and a fingerprint of its current password hash, signed with SECRET_KEY and
timed: it expires (INVITATION_VALID_DAYS, PASSWORD_RESET_VALID_MINUTES; an invitation also by its row's
invited_at), and it works once, because setting the password changes the hash it was made from. An invitation
sent again gets a new random password, which ends the earlier link the same way. Nothing else is stored.

A registration link has no account yet to point at: it carries the address, the company's name and the page to go
to next, signed and timed (REGISTRATION_VALID_HOURS), and works until an account with that address exists.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from shop.accounts.models import Customer, StaffUser
from shop.accounts.passwords import password_problems, the_shops_words
from shop.platform.database import utcnow
from shop.platform.errors import DomainError, InvalidInput
from shop.platform.extensions import db

INVITATION, RESET, STAFF_RESET, REGISTRATION = "invitation", "password-reset", "staff-password-reset", "registration"
_MODEL = {INVITATION: Customer, RESET: Customer, STAFF_RESET: StaffUser}
EXPIRED = "This link has expired. Ask for a new one."
INVALID = "This link is not valid. Ask for a new one."
REGISTRATION_USED = "This link was used already: the account is open. Sign in with its address."


class LinkRefused(DomainError):
    """The link is damaged, expired or used already."""

    title = "Gone"
    problem = "gone"  # HTTP's own 410: pages show it, the API has no such links
    status = 410


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"leucine-{purpose}")


def _max_age(purpose: str) -> int:
    if purpose == INVITATION:
        return current_app.config["INVITATION_VALID_DAYS"] * 86400
    if purpose == REGISTRATION:
        return current_app.config["REGISTRATION_VALID_HOURS"] * 3600
    return current_app.config["PASSWORD_RESET_VALID_MINUTES"] * 60


def _fingerprint(user: Customer | StaffUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def make_token(user: Customer | StaffUser, purpose: str) -> str:
    """The token of a link for `user` to set a password."""
    return _serializer(purpose).dumps([user.id, _fingerprint(user)])


def _loads(token: str, purpose: str) -> list:
    """What a valid, unexpired token of `purpose` carries, as a list; LinkRefused otherwise."""
    try:
        carried = _serializer(purpose).loads(token, max_age=_max_age(purpose))
    except SignatureExpired:
        raise LinkRefused(EXPIRED) from None
    except BadSignature:
        carried = None
    if not isinstance(carried, list):
        raise LinkRefused(INVALID)
    return carried


def user_for_token(token: str, purpose: str) -> Customer | StaffUser:
    """The active account a valid, unused, unexpired token is for; LinkRefused otherwise."""
    try:
        user_id, fingerprint = _loads(token, purpose)
    except ValueError:
        raise LinkRefused(INVALID) from None
    user = db.session.get(_MODEL[purpose], user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or fingerprint != _fingerprint(user):
        raise LinkRefused("This link was used already or is no longer valid. Ask for a new one.")
    if purpose == INVITATION and user.invitation_lapsed:
        raise LinkRefused(EXPIRED)
    return user


def set_password(token: str, purpose: str, password: str) -> Customer | StaffUser:
    """Set the password through a link: the link stops working, and every session of the account ends."""
    user = user_for_token(token, purpose)
    company = user.company.name if isinstance(user, Customer) else ""
    problems = password_problems(password, user.email, company, the_shops_words())
    if problems:
        raise InvalidInput({"password": problems})
    user.set_password(password)
    user.end_all_sessions()
    if isinstance(user, Customer) and user.joined_at is None:
        user.joined_at = utcnow()
    db.session.flush()
    return user


@dataclass(frozen=True)
class Registration:
    """What a registration link carries: the address (normalised), the company's name and the page to go to next."""

    email: str
    company: str
    next_page: str


def make_registration_token(registration: Registration) -> str:
    return _serializer(REGISTRATION).dumps([registration.email, registration.company, registration.next_page])


def registration_for_token(token: str) -> Registration:
    """The registration a valid, unexpired link asks for, while no account has its address; LinkRefused otherwise."""
    carried = _loads(token, REGISTRATION)
    if len(carried) != 3 or not all(isinstance(value, str) for value in carried):
        raise LinkRefused(INVALID)
    registration = Registration(*carried)
    if db.session.scalar(select(Customer.id).where(Customer.email == registration.email,
                                                   Customer.joined_at.is_not(None))) is not None:
        raise LinkRefused(REGISTRATION_USED)
    return registration
