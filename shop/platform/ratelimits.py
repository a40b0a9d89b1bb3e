"""Rate limits: Flask-Limiter's decorators for request rates, a throttle for failed attempts, the 429 answers, and
the RateLimit-Policy and RateLimit headers on API answers where a limit applies.

Every limit is a setting (RATELIMIT_*, see shop/config.py); RATELIMIT_ENABLED=0 turns them all off. Counts live
in Flask-Limiter's storage: this process's memory by default, Redis when REDIS_URL is set, so that every app
server sees the same counts.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Flask, Response, current_app, make_response, render_template, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from werkzeug.exceptions import HTTPException, TooManyRequests

from shop.platform.extensions import limiter

log = logging.getLogger(__name__)


def setting(name: str) -> Callable[[], str]:
    """A limit read from the app's config when a request is checked (so tests and settings can change it)."""
    return lambda: current_app.config[name]


def _digest(text: str) -> str:
    # Keys hold no e-mail address or API key in clear, in memory or in Redis.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def api_key_identity() -> str:
    """The API key a request authenticated with: order placement is limited per key."""
    _, _, key = (request.headers.get("Authorization") or "").partition(" ")
    return "key:" + _digest(key.strip())


def customer_identity() -> str:
    """The signed-in user placing an order on the storefront (the client address when signed out)."""
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else f"addr:{get_remote_address()}"


# Sign-in attempts per client address, whatever the account, shared by the storefront and the staff pages.
signin_rate = limiter.shared_limit(setting("RATELIMIT_SIGNIN"), scope="sign-in", methods=["POST"])
register_rate = limiter.limit(setting("RATELIMIT_REGISTER"), methods=["POST"])
order_rate = limiter.limit(setting("RATELIMIT_ORDERS"), key_func=api_key_identity)
checkout_rate = limiter.limit(setting("RATELIMIT_ORDERS"), key_func=customer_identity)


def webhook_test_rate(company_id: Callable[[], int]):
    """A limit on test events and redeliveries (RATELIMIT_WEBHOOK_TESTS) per company, whichever key or member
    sends them, counted together on the API and the pages (one scope): `company_id` names the acting company.
    Each is a POST to the company's own receiver, so unlimited they make the shop a load generator."""
    return limiter.shared_limit(setting("RATELIMIT_WEBHOOK_TESTS"), scope="webhook-tests",
                                key_func=lambda: f"company:{company_id()}")


def _inviting_company() -> str:
    company_id = getattr(current_user, "company_id", None)
    return f"company:{company_id}" if company_id is not None else f"addr:{get_remote_address()}"


def _sent(response: Response) -> bool:
    # Only an invitation that went out counts (the page redirects), not a form sent back with a mistake.
    return response.status_code == 302


_invitations_by_admin = limiter.shared_limit(setting("RATELIMIT_INVITATIONS"), scope="invitations",
                                             key_func=customer_identity, methods=["POST"], deduct_when=_sent)
_invitations_by_company = limiter.shared_limit(setting("RATELIMIT_INVITATIONS_PER_COMPANY"),
                                               scope="invitations-company", key_func=_inviting_company,
                                               methods=["POST"], deduct_when=_sent)


def invitation_rate(view: Callable) -> Callable:
    """Invitations sent per admin and per company (new ones and sent again share the allowance)."""
    return _invitations_by_company(_invitations_by_admin(view))


@dataclass(frozen=True)
class Throttle:
    """Failed attempts of one kind by one key (e.g. an account from one client address), counted in moving
    windows of the limits named by `setting`.

    Once any window is full the next attempt is refused until its oldest failure ages out: the wait grows with
    each tier of the setting ('5 per minute;20 per hour') and shrinks again as failures age, and only failures
    count, so a patient owner who signs in correctly is never held up by them.
    """

    setting: str
    key: str

    def _items(self):
        return parse_many(current_app.config[self.setting])

    def _keys(self) -> tuple[str, ...]:
        return (current_app.config["RATELIMIT_KEY_PREFIX"], self.setting.lower(), self.key)

    def check(self) -> None:
        """Raise a 429 (TooManyRequests with retry_after) while the failures fill a window."""
        if not limiter.enabled:
            return
        try:
            full = [item for item in self._items() if not limiter.limiter.test(item, *self._keys())]
            if full:
                reset = max(limiter.limiter.get_window_stats(item, *self._keys()).reset_time for item in full)
        except Exception:  # the shared storage is down: let the request through rather than lock everyone out
            log.exception("Rate-limit storage unreachable; %s not checked", self.setting)
            return
        if full:
            raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))

    def take(self) -> bool:
        """Count one use and say whether it was allowed: False, counting nothing, while a window is full. With
        the storage down, True (the request goes ahead, as with the other limits)."""
        if not limiter.enabled:
            return True
        try:
            if not all(limiter.limiter.test(item, *self._keys()) for item in self._items()):
                return False
            for item in self._items():
                limiter.limiter.hit(item, *self._keys())
        except Exception:
            log.exception("Rate-limit storage unreachable; %s not checked", self.setting)
        return True

    def record_failure(self) -> None:
        if not limiter.enabled:
            return
        try:
            for item in self._items():
                limiter.limiter.hit(item, *self._keys())
        except Exception:
            log.exception("Rate-limit storage unreachable; a failure for %s was not counted", self.setting)


def signin_throttle(side: str, email: str) -> Throttle:
    """Failed sign-ins for one account (`side`: customer or staff) from this client address. The e-mail as
    typed (trimmed, lower-cased) is the account: an unknown address is throttled exactly like a known one."""
    account = _digest((email or "").strip().lower())
    return Throttle("RATELIMIT_SIGNIN_FAILURES", f"{side}:{account}:{get_remote_address()}")


def reset_mail_throttle(side: str, email: str) -> Throttle:
    """Password reset e-mail to one address (`side`: customer or staff), or registration e-mail (`side`: register),
    whoever asks it from wherever; `email` normalised by the caller, so that case and spaces make no second
    allowance."""
    return Throttle("RATELIMIT_RESET_PER_ADDRESS", f"{side}:{_digest(email)}")


def api_auth_throttle() -> Throttle:
    """Requests from this client address whose API key was missing, unknown or revoked."""
    return Throttle("RATELIMIT_API_AUTH_FAILURES", get_remote_address())


# What the 429 page says, by endpoint; the same words whether or not an account exists.
_WHAT = {
    "storefront.login": "sign-in attempts",
    "staff.login": "sign-in attempts",
    "storefront.register": "registrations from your network",
    "storefront.open_account": "registrations from your network",
    "storefront.checkout_submit": "orders in a short time",
    "storefront.webhook_test": "test events and redeliveries",
    "storefront.webhook_redeliver": "test events and redeliveries",
    "storefront.members": "invitations",
    "storefront.invite_again": "invitations",
}


def _retry_after(error: HTTPException) -> int:
    seconds = getattr(error, "retry_after", None)
    if isinstance(seconds, int):
        return seconds
    current = limiter.current_limit
    return max(1, math.ceil(current.reset_at - time.time())) if current is not None else 60


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def register_rate_limit_errors(app: Flask, problem_response: Callable[..., Response]) -> None:
    """Answer 429 with problem+json on the API (built by the API's `problem_response`) and a page elsewhere,
    both with Retry-After."""

    @app.errorhandler(429)
    def too_many_requests(error: HTTPException):
        wait = _retry_after(error)
        if request.path.startswith("/api/"):
            response = problem_response(429, "too-many-requests", "Too Many Requests",
                                        f"Too many requests; retry after {wait} seconds. Nothing was changed.")
        else:
            what = _WHAT.get(request.endpoint or "", "requests")
            response = make_response(render_template(
                "error.html", code=429, title="Too many attempts",
                message=f"There have been too many {what} for now. Please wait {_in_words(wait)} and try "
                        "again; nothing was changed."), 429)
        response.headers["Retry-After"] = str(wait)
        return response


# --- RateLimit-Policy and RateLimit (IETF httpapi ratelimit-headers draft) ----------------------------------------
#
# Flask-Limiter writes only X-RateLimit-Limit/-Remaining/-Reset (plain numbers, one limit), so its own headers stay
# off (RATELIMIT_HEADERS_ENABLED) and every API answer to which a limit applied gets the draft's two structured
# fields (RFC 9651 lists), one item per window of each limit, from the limiter's counts after this request:
#
#     RateLimit-Policy: "orders";q=120;w=60
#     RateLimit: "orders";r=119;t=60
#
# q: requests allowed per window, w: the window in seconds; r: requests left, t: seconds until the window holds
# `q` again (moving windows: until the oldest counted request ages out). The throttle of failed API keys counts
# failures, not requests, and is not announced.

POLICY_HEADER, CURRENT_HEADER = "RateLimit-Policy", "RateLimit"
SF_INTEGER_MAX = 999_999_999_999_999  # the largest Integer a structured field may carry (15 digits)


@dataclass(frozen=True)
class Quota:
    """One window of a limit as a client sees it after its request."""

    policy: str  # the policy's name: printable ASCII
    quota: int  # requests allowed per window
    window: int  # the window's length in seconds
    remaining: int  # requests left in it now
    reset: int  # seconds until all `quota` are available again


def sf_string(text: str) -> str:
    """`text` as a structured-field String (RFC 9651 3.3.3): quoted, `\\` and `"` escaped; ValueError for a
    character outside printable ASCII."""
    if any(not 0x20 <= ord(char) <= 0x7E for char in text):
        raise ValueError(f"not printable ASCII: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sf_count(value: int) -> int:
    return min(max(value, 0), SF_INTEGER_MAX)


def ratelimit_headers(quotas: Sequence[Quota]) -> dict[str, str]:
    """The RateLimit-Policy and RateLimit fields of `quotas` (none without a quota); counts below zero are 0."""
    if not quotas:
        return {}
    return {
        POLICY_HEADER: ", ".join(f"{sf_string(q.policy)};q={_sf_count(q.quota)};w={_sf_count(q.window)}"
                                 for q in quotas),
        CURRENT_HEADER: ", ".join(f"{sf_string(q.policy)};r={_sf_count(q.remaining)};t={_sf_count(q.reset)}"
                                  for q in quotas),
    }


def policy_name(scope: str) -> str:
    """A limit's policy name from its Flask-Limiter scope: a shared limit's own ("webhook-tests"), or the view's
    class of an endpoint's limit in kebab case ("orders.Orders": "orders")."""
    last = scope.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", last).lower() or "default"


def _window_name(item) -> str:
    """A window of a limit of several, by its length: "minute", "hour", "15-minutes"."""
    granularity = item.GRANULARITY.name
    return granularity if item.multiples == 1 else f"{item.multiples}-{granularity}s"


# The setting of each limit on the API, by policy name: a limit of several windows names each of them, in every
# answer alike (a 429 lists only the windows checked up to the full one).
_POLICY_SETTINGS = {"orders": "RATELIMIT_ORDERS", "webhook-tests": "RATELIMIT_WEBHOOK_TESTS"}


def _windows(scope: str, seen: list[str]) -> int:
    setting = _POLICY_SETTINGS.get(scope)
    return len(parse_many(current_app.config[setting])) if setting else seen.count(scope)


def current_quotas(now: float | None = None) -> list[Quota]:
    """The quotas of the limits Flask-Limiter applied to this request, smallest window first, read from its
    storage (Redis, or memory) after this request was counted."""
    limits = limiter.current_limits
    now = time.time() if now is None else now
    scopes = [policy_name(str(limit.request_args[-1])) for limit in limits]
    quotas = []
    for limit, scope in zip(limits, scopes, strict=True):
        item = limit.limit
        stats = limit.window
        name = scope if _windows(scope, scopes) == 1 else f"{scope}-{_window_name(item)}"
        quotas.append(Quota(name, item.amount, item.get_expiry(), stats.remaining,
                            max(0, math.ceil(stats.reset_time - now))))
    return quotas


def register_rate_limit_headers(app: Flask) -> None:
    """Announce the limits that applied to an API request on its answer (429s included)."""

    @app.after_request
    def announce_rate_limits(response: Response) -> Response:
        if not request.path.startswith("/api/") or not limiter.enabled or not limiter.current_limits:
            return response
        try:
            response.headers.update(ratelimit_headers(current_quotas()))
        except Exception:  # the shared storage is down: the answer goes out without them
            log.exception("Rate-limit storage unreachable; no RateLimit headers")
        return response
