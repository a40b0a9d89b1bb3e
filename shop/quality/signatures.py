"""Electronic signatures on QC decisions: the signer's password again, a stated meaning, name and time.

Releasing, rejecting and recalling a lot (and closing a complaint: shop.complaints, through check_signer) are
signed as 21 CFR Part 11 and EU GMP Annex 11 expect of an electronic record: the person proves again who they are
(a session left open is not enough), assents to a stated meaning of what they do, and the record keeps their name,
e-mail and the time. Wrong passwords are
throttled like failed sign-ins (RATELIMIT_SIGNIN_FAILURES, per staff member), so that an open session cannot be
used to guess the password, and each is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from werkzeug.exceptions import TooManyRequests

from shop.accounts.models import StaffRole, StaffUser
from shop.platform.audit import audit
from shop.platform.database import utcnow
from shop.platform.errors import InvalidInput
from shop.platform.ratelimits import Throttle
from shop.quality.models import SignedAction

MEANINGS = {
    SignedAction.RELEASE: "I release lot {lot} as meeting its specification.",
    SignedAction.REJECT: "I reject lot {lot}: it must never be sold.",
    SignedAction.RECALL: "I recall lot {lot}: it must no longer be sold or used.",
}


def meaning(action: SignedAction, lot_number: str) -> str:
    """The statement a signer assents to, e.g. 'I release lot USP-2501 as meeting its specification.'"""
    return MEANINGS[action].format(lot=lot_number)


@dataclass(frozen=True)
class Signature:
    """A verified signature: made by `sign` once the password and the assent have been checked."""

    staff_id: int
    name: str
    email: str
    role: StaffRole  # the role signed in: the quality unit's (a record from before may name another)
    action: SignedAction
    lot_number: str
    meaning: str
    signed_at: datetime

    @property
    def signer(self) -> str:
        return f"{self.name} ({self.email})" if self.name else self.email

    @property
    def record(self) -> str:
        """The signature as the audit log keeps it."""
        return f"Signed by {self.signer} at {self.signed_at:%Y-%m-%d %H:%M:%S} UTC: “{self.meaning}”"


class SignatureRefused(InvalidInput):
    """The signature was not given: `wrong_password` says whether to audit a failed attempt (record_refusal)."""

    def __init__(self, errors: dict[str, list[str]], wrong_password: bool) -> None:
        super().__init__(errors)
        self.wrong_password = wrong_password


def signing_throttle(staff_id: int) -> Throttle:
    """Wrong passwords given to sign, per staff member, limited like failed sign-ins."""
    return Throttle("RATELIMIT_SIGNIN_FAILURES", f"signature:staff:{staff_id}")


def refusal_to_sign(staff: StaffUser, action: SignedAction | str) -> str | None:
    """Why `staff` may not sign `action`, or None: a QC decision is signed by the quality unit, which needs the
    quality role itself (an admin may do everything else, not this)."""
    if staff.holds(StaffRole.QUALITY):
        return None
    return (f"{staff.email} cannot sign the {action}: a {action} is signed by the quality unit, which needs the "
            f"quality role ({staff.email} holds {staff.role_names}).")


def sign(staff: StaffUser | None, password: str, action: SignedAction, lot_number: str, *,
         confirmed: bool) -> Signature:
    """Sign `action` on a lot as `staff`: their password again, and `confirmed` their assent to the meaning.

    Raises SignatureRefused (errors by field: `password`, `confirm`) and changes nothing in the database; a
    wrong password is counted by the throttle at once, and the caller audits it with `record_refusal` in a
    transaction of its own.
    """
    statement = meaning(action, lot_number)
    staff = check_signer(staff, password, action, statement, confirmed=confirmed)
    return Signature(staff_id=staff.id, name=staff.name, email=staff.email, role=StaffRole.QUALITY, action=action,
                     lot_number=lot_number, meaning=statement, signed_at=utcnow())


def check_signer(staff: StaffUser | None, password: str, what: str, statement: str, *,
                 confirmed: bool) -> StaffUser:
    """The checks of every signature of the quality unit (a lot's QC decision, a complaint's close): `staff`
    holds the quality role, gave their password again (throttled) and assented to `statement`; `what` names the
    decision in the refusal. Returns the signer, or raises SignatureRefused as `sign` does."""
    if staff is None:
        raise SignatureRefused({"password": ["Only a quality user can sign a QC decision."]}, False)
    refusal = refusal_to_sign(staff, what)
    if refusal:
        raise SignatureRefused({"password": [refusal]}, False)
    errors: dict[str, list[str]] = {}
    if not confirmed:
        errors["confirm"] = [f"Tick the statement to sign it: “{statement}”"]
    throttle = signing_throttle(staff.id)
    wrong = False
    try:
        throttle.check()
    except TooManyRequests as exc:
        errors["password"] = [f"Too many wrong passwords: signing is refused for {exc.retry_after} seconds."]
    else:
        if not password:
            errors["password"] = ["Enter your password again to sign."]
        elif not staff.check_password(password):
            throttle.record_failure()
            errors["password"] = ["That is not your password: nothing was signed."]
            wrong = True
    if errors:
        raise SignatureRefused(errors, wrong_password=wrong)
    return staff


def record_refusal(staff_id: int, action: SignedAction, lot_number: str) -> None:
    """Audit a wrong password given to sign; the caller commits."""
    audit(staff_id, "signature.refused", f"lot {lot_number}", f"Wrong password when signing: {action}")
