"""Opening an account from the registration page, by a link e-mailed to the address.

The page asks for the company's name and an address, and answers the same whatever the address: "a link is on its
way". An address without an account is sent a link (accounts.links, REGISTRATION) to a page where the person
chooses a password, which opens the account (a one-person company whose member is its admin) and signs them in. An
address that has an account is sent a note saying so, with no link, so that neither the page nor its time tells
anybody who has an account (as a password reset does), and nobody can open an account for an address that is not
theirs. At most RATELIMIT_RESET_PER_ADDRESS messages go to one address; beyond that nothing is sent and the answer
stays the same.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from shop.accounts import links, member_mail
from shop.accounts.models import Customer
from shop.accounts.passwords import password_problems, the_shops_words
from shop.accounts.people import create_customer, normalise_email
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.names import checked_name
from shop.platform.ratelimits import reset_mail_throttle

MAX_COMPANY_NAME = 200
# Builds the absolute link of the page that opens the account, from its token (the adapter knows its route).
LinkFor = Callable[[str], str]


def request_errors(email: str, company: str) -> dict[str, list[str]]:
    """What is wrong with a registration page's address and company name, by field (never whether the address has
    an account), without writing anything (the page shows it all at once)."""
    errors: dict[str, list[str]] = {}
    try:
        normalise_email(email)
    except InvalidInput as exc:
        errors.update(exc.errors)
    checked_name(company, "company", MAX_COMPANY_NAME, errors, required="The company name is required.")
    return errors


def request_registration(email: str, company: str, next_page: str, link_for: LinkFor) -> None:
    """E-mail the address a link to open an account for `company` (then go to `next_page`), or a note when the
    address has an account already; InvalidInput, changing nothing, for what request_errors finds. The caller
    commits."""
    errors = request_errors(email, company)
    if errors:
        raise InvalidInput(errors)
    email = normalise_email(email)
    if not reset_mail_throttle("register", email).take():
        return
    holder = db.session.scalar(select(Customer).where(Customer.email == email, Customer.joined_at.is_not(None)))
    if holder is not None:
        member_mail.send_already_registered(holder)
    else:  # new, or invited by a company and not joined: opening an account of one's own lets the invitation lapse
        registration = links.Registration(email, company.strip(), next_page)
        member_mail.send_registration_link(email, link_for(links.make_registration_token(registration)))


def pending_invitation(email: str) -> str | None:
    """The name of the company whose invitation to `email` is still open, if any: opening an account of one's own
    ends it, which the page that opens the account says first."""
    invited = db.session.scalar(select(Customer).where(Customer.email == email, Customer.joined_at.is_(None),
                                                       Customer.active.is_(True)))
    return invited.company.name if invited is not None and not invited.invitation_lapsed else None


def open_errors(email: str, company: str, password: str) -> dict[str, list[str]]:
    """What is wrong with the company's name and the password chosen on the page a link opens, by field, without
    writing anything (the page shows it all at once)."""
    errors: dict[str, list[str]] = {}
    company = checked_name(company, "company", MAX_COMPANY_NAME, errors, required="The company name is required.")
    problems = password_problems(password, email, company, the_shops_words())
    if problems:
        errors["password"] = problems
    return errors


def open_account(token: str, company: str, password: str) -> Customer:
    """Open the account a registration link asks for, for `company` (the name asked for, as the page shows it to be
    checked) with `password`: InvalidInput, by field, when either breaks the rules; LinkRefused when the link is
    damaged, expired or used."""
    registration = links.registration_for_token(token)
    return create_customer(registration.email, password, company)
