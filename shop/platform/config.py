"""Settings read from the environment, with safe defaults for a laptop."""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from limits import parse_many
from stdnum import bic, iban
from stdnum.exceptions import ValidationError

from shop.platform.countries import is_country_code

# The shipped texts of the contact, terms, privacy and imprint pages; LEGAL_TEXTS_DIR points elsewhere.
DEFAULT_LEGAL_TEXTS_DIR = Path(__file__).resolve().parents[2] / "legal"
LEGAL_TEXTS = ("contact", "terms", "privacy", "imprint")
# Demo defaults: a fictional German manufacturer, so that a fresh `make run` looks like a real supplier's shop.
# Addresses separate their lines with ';'.
DEMO_SELLER = {
    "SELLER_LEGAL_NAME": "Leucin-Werk Rheinau GmbH",
    "SELLER_ADDRESS": "Industriestraße 14; 77866 Rheinau; Germany",
    "SELLER_VAT_ID": "DE815204576",
    "SELLER_PHONE": "+49 7844 91870-0",
    "SELLER_EMAIL": "quality@leucin-werk.example",
    # The account buyers pay into: printed on invoices and pro-formas, and the payment means of the e-invoice.
    "SELLER_IBAN": "DE89370400440532013000",
    "SELLER_BIC": "COBADEFF",
}


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{Path(instance_path) / 'shop.sqlite3'}"


class ConfigError(ValueError):
    """A setting in the environment that the shop cannot use; the message names it and says what is expected."""


def _whole_number(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {raw!r}.")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw not in ("0", "1"):
        raise ConfigError(f"{name} must be 0 or 1, not {raw!r}.")
    return raw == "1"


def _rate_limit(name: str, default: str) -> str:
    """A Flask-Limiter limit such as '5 per minute;20 per hour' (several limits separated by ';')."""
    raw = os.environ.get(name, "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be rate limits such as '5 per minute;20 per hour', not {raw!r}.") from None
    return raw


def _base_url(name: str, default: str) -> str:
    raw = os.environ.get(name, "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be an absolute http(s) address such as https://shop.example, not {raw!r}.")
    return raw.rstrip("/")


def _host_list(name: str) -> list[str] | None:
    raw = os.environ.get(name, "").strip()
    # Host names are case-insensitive; requests' Host headers are compared in lower case (shop/__init__.py).
    return [host.strip().lower() for host in raw.split(",") if host.strip()] or None


def development_mode() -> bool:
    """Whether this process is a developer's: `SHOP_ENV=development` (as `make run` sets) or FLASK_DEBUG."""
    env = os.environ.get("SHOP_ENV", "production").strip() or "production"
    if env not in ("production", "development"):
        raise ConfigError(f"SHOP_ENV must be production or development, not {env!r}.")
    return env == "development" or os.environ.get("FLASK_DEBUG", "").strip().lower() in ("1", "true")


def _secret_key(instance_path: str) -> str:
    secret = os.environ.get("SECRET_KEY", "").strip()
    if secret:
        return secret
    if not development_mode():
        raise ConfigError("SECRET_KEY is not set. It signs sessions and CSRF tokens, and every app server must "
                          "share it: set it to a long random value, e.g. the output of "
                          "`python -c 'import secrets; print(secrets.token_hex(32))'`. (Development servers, "
                          "SHOP_ENV=development as `make run` sets it, keep one in instance/secret_key.)")
    return _instance_secret(instance_path)


DEFAULT_RATE_LIMITS = {
    # Per client address, whatever the account: slows down guessing across many accounts.
    "RATELIMIT_SIGNIN": "30 per minute;300 per hour",
    # Per account and client address, counting failed sign-ins only: the wait grows with each tier and the
    # failures age out of their windows, so an attacker elsewhere never locks the owner out.
    "RATELIMIT_SIGNIN_FAILURES": "5 per minute;10 per 15 minutes;20 per hour;50 per day",
    "RATELIMIT_REGISTER": "10 per hour;50 per day",
    # Per e-mail address, whoever asks and from wherever: password reset e-mail to one address (a victim's inbox
    # flooded from rotating client addresses; the sign-in limit above counts per client address only).
    "RATELIMIT_RESET_PER_ADDRESS": "3 per hour;10 per day",
    # Per client address, counting requests whose API key was missing, unknown or revoked.
    "RATELIMIT_API_AUTH_FAILURES": "60 per minute;1000 per hour",
    # Per API key (and per customer on the storefront's checkout): an ERP catching up needs bursts.
    "RATELIMIT_ORDERS": "120 per minute",
    # Per company, webhook test events and redeliveries together (each a POST to the company's receiver).
    "RATELIMIT_WEBHOOK_TESTS": "10 per minute;100 per hour",
    # Invitations sent (new or again) per company admin, and per company whichever admin sends them: an admin's
    # account taken over cannot mail strangers in bulk through the shop's own address.
    "RATELIMIT_INVITATIONS": "10 per hour;30 per day",
    "RATELIMIT_INVITATIONS_PER_COMPANY": "30 per hour;100 per day",
}


def _text(name: str, default: str) -> str:
    """A setting that must not be blank."""
    value = os.environ.get(name, default).strip()
    if not value:
        raise ConfigError(f"{name} must not be empty.")
    return value


def _country(name: str, default: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case."""
    value = os.environ.get(name, default).strip().upper()
    if not is_country_code(value):
        raise ConfigError(f"{name} must be a two-letter ISO 3166-1 country code such as DE, not {value!r}.")
    return value


def _postal_address(name: str, default: str) -> str:
    """A postal address with its lines separated by ';' (at least one line that is not blank)."""
    value = _text(name, default)
    if not any(line.strip() for line in value.split(";")):
        raise ConfigError(f"{name} must hold an address, its lines separated by ';', not {value!r}.")
    return value


def seller_settings() -> dict[str, str]:
    """Who sells: shown on every page's footer, the contact and legal pages, order pages and packing slips."""
    settings = {name: _text(name, default) for name, default in DEMO_SELLER.items()}
    settings["SELLER_ADDRESS"] = _postal_address("SELLER_ADDRESS", DEMO_SELLER["SELLER_ADDRESS"])
    settings["MANUFACTURING_SITE_ADDRESS"] = _postal_address("MANUFACTURING_SITE_ADDRESS",
                                                             settings["SELLER_ADDRESS"])
    try:
        validate_email(settings["SELLER_EMAIL"], check_deliverability=False)
    except EmailNotValidError as exc:
        raise ConfigError(f"SELLER_EMAIL must be an e-mail address: {exc}") from None
    if not re.fullmatch(r"\+?[0-9][0-9 ()/.-]{3,30}", settings["SELLER_PHONE"]):
        raise ConfigError(f"SELLER_PHONE must be a phone number such as +49 30 1234567, "
                          f"not {settings['SELLER_PHONE']!r}.")
    settings["SELLER_IBAN"] = _bank_code("SELLER_IBAN", settings["SELLER_IBAN"], iban.validate, "an IBAN")
    settings["SELLER_BIC"] = _bank_code("SELLER_BIC", settings["SELLER_BIC"], bic.validate, "a BIC")
    return settings


def _bank_code(name: str, value: str, validate: Callable[[str], str], what: str) -> str:
    """An IBAN or BIC checked by python-stdnum's `validate`, in its compact form: a typo on an invoice sends the
    buyer's money elsewhere, so the shop refuses to start rather than print it."""
    try:
        return validate(value)
    except ValidationError as exc:
        raise ConfigError(f"{name} must be {what} such as {DEMO_SELLER[name]}, not {value!r}: {exc}") from None


def _legal_texts_dir() -> str:
    """The folder of the contact, terms, privacy and imprint texts (Markdown), each of which must be there."""
    raw = os.environ.get("LEGAL_TEXTS_DIR", "").strip()
    folder = Path(raw) if raw else DEFAULT_LEGAL_TEXTS_DIR
    missing = [f"{name}.md" for name in LEGAL_TEXTS if not (folder / f"{name}.md").is_file()]
    if missing:
        raise ConfigError(f"LEGAL_TEXTS_DIR ({folder}) must hold the files {', '.join(missing)}; "
                          f"copy them from {DEFAULT_LEGAL_TEXTS_DIR} and edit them.")
    return str(folder)


DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"  # seconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h


def _seconds_list(name: str, default: str) -> list[float]:
    """Delays in seconds separated by commas, such as '5,300,1800'."""
    raw = os.environ.get(name, "").strip() or default
    try:
        delays = [float(part) for part in raw.split(",")]
    except ValueError:
        delays = []
    if not delays or any(not 0 <= delay <= 604_800 for delay in delays):
        raise ConfigError(f"{name} must be delays in seconds separated by commas, such as {default!r}, not {raw!r}.")
    return delays


# Redis answers in a millisecond. A request that waits for it gives up after this many seconds and goes on without
# it (rate limits in this process's memory, events left in the outbox for the sweep, /readyz saying "degraded"),
# so that a hung Redis costs each request milliseconds instead of every worker.
REDIS_TIMEOUT_SECONDS = 0.2
# The task queue's connection waits longer for an answer: a worker's read blocks for up to a second (Huey's
# read_timeout) while the queue is empty.
QUEUE_REDIS_TIMEOUT_SECONDS = 2.0


def redis_timeouts(answer_within: float = REDIS_TIMEOUT_SECONDS) -> dict[str, float]:
    """redis-py's connection options for a client on a request's path: connect and answer within bounds."""
    return {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": answer_within}


def document_storage_settings(instance_path: str) -> dict:
    """Where uploaded files (product documents, complaint attachments) are kept: a local folder by default,
    S3-compatible object storage when DOCUMENTS_S3_BUCKET is set (credentials as boto3 reads them: AWS_ACCESS_KEY_ID
    and AWS_SECRET_ACCESS_KEY, or the machine's role); and how large one file may be."""
    endpoint = os.environ.get("DOCUMENTS_S3_ENDPOINT_URL", "").strip() or None
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"DOCUMENTS_S3_ENDPOINT_URL must be an http(s) address such as "
                              f"https://s3.eu-central-1.amazonaws.com, not {endpoint!r}.")
    return {
        "DOCUMENTS_DIR": os.environ.get("DOCUMENTS_DIR", "").strip() or str(Path(instance_path) / "documents"),
        "DOCUMENTS_S3_BUCKET": os.environ.get("DOCUMENTS_S3_BUCKET", "").strip() or None,
        "DOCUMENTS_S3_ENDPOINT_URL": endpoint,
        "DOCUMENTS_S3_REGION": os.environ.get("DOCUMENTS_S3_REGION", "").strip() or None,
        "DOCUMENTS_S3_PREFIX": os.environ.get("DOCUMENTS_S3_PREFIX", "").strip().strip("/"),
        "UPLOAD_MAX_BYTES": _whole_number("UPLOAD_MAX_BYTES", 20_000_000, minimum=1024),
    }


def task_queue_settings(instance_path: str, redis_url: str | None) -> dict:
    """The task queue (Huey): Redis when REDIS_URL is set, else an SQLite file that needs no server."""
    return {
        "TASK_QUEUE": "redis" if redis_url else "sqlite",
        "TASK_QUEUE_FILE": os.environ.get("TASK_QUEUE_FILE", "").strip() or str(Path(instance_path) / "tasks.sqlite3"),
        "TASK_QUEUE_NAME": os.environ.get("TASK_QUEUE_NAME", "").strip() or "shop",
        # Events committed this long ago and not yet handed to a worker are handed over by the sweep.
        "OUTBOX_SWEEP_AFTER_SECONDS": _whole_number("OUTBOX_SWEEP_AFTER_SECONDS", 5, minimum=0),
        # Events whose fan-out (to webhooks or e-mail) failed this often are given up on and shown to staff.
        "OUTBOX_FAN_OUT_ATTEMPTS": _whole_number("OUTBOX_FAN_OUT_ATTEMPTS", 10, minimum=1),
        # GET /api/v1/events and /orders?updated_since= list only what is at least this old: a transaction that
        # commits within it cannot slip in behind what a reader has already seen.
        "EVENTS_FEED_SETTLE_SECONDS": _whole_number("EVENTS_FEED_SETTLE_SECONDS", 5, minimum=0),
        "WEBHOOK_ALLOW_INSECURE": _flag("WEBHOOK_ALLOW_INSECURE", False),
        "WEBHOOK_TIMEOUT_SECONDS": _whole_number("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1),
        # Deliveries to one endpoint in flight at once, over every worker: a receiver slow to answer holds at most
        # this many delivery threads, and the other endpoints' deliveries go ahead.
        "WEBHOOK_IN_FLIGHT_PER_ENDPOINT": _whole_number("WEBHOOK_IN_FLIGHT_PER_ENDPOINT", 2, minimum=1),
        # A worker holds a delivery for the timeout plus this margin; one that died lets it go after that.
        "WEBHOOK_LEASE_MARGIN_SECONDS": _whole_number("WEBHOOK_LEASE_MARGIN_SECONDS", 30, minimum=1),
        "WEBHOOK_RETRY_SCHEDULE": _seconds_list("WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
        "WEBHOOK_DISABLE_AFTER_HOURS": _whole_number("WEBHOOK_DISABLE_AFTER_HOURS", 120, minimum=1),
    }


def _mail_backend(server: str, given: str | None) -> str:
    """SMTP when MAIL_SERVER is set; else the console, in development only: in production the console would be the
    only place reset and invitation links went, and whoever reads the server's output could use them."""
    backend = given or os.environ.get("MAIL_BACKEND", "").strip()
    if backend:
        return backend
    if server:
        return "smtp"
    if not development_mode():
        raise ConfigError("MAIL_SERVER is not set. Without it e-mail (password resets, invitations, order "
                          "messages) would only be printed to the console: set MAIL_SERVER (and MAIL_PORT, "
                          "MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS as your SMTP server needs). (Development "
                          "servers, SHOP_ENV=development as `make run` sets it, print e-mail instead.)")
    return "console"


def mail_settings(backend: str | None = None) -> dict:
    """Flask-Mailman's MAIL_* settings: SMTP when MAIL_SERVER is set, else messages are printed (development);
    `backend`: one the caller already chose (a test's)."""
    server = os.environ.get("MAIL_SERVER", "").strip()
    sender = os.environ.get("MAIL_DEFAULT_SENDER", "").strip() or "Leucine Shop <shop@leucin-werk.example>"
    return {
        "MAIL_BACKEND": _mail_backend(server, backend),
        "MAIL_SERVER": server or "localhost",
        "MAIL_PORT": _whole_number("MAIL_PORT", 587 if _flag("MAIL_USE_TLS", False) else 25, minimum=1),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", "").strip() or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", "") or None,
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),
        "MAIL_TIMEOUT": _whole_number("MAIL_TIMEOUT", 30, minimum=1),
        "MAIL_DEFAULT_SENDER": sender,
        # A message the server did not take is retried on the webhooks' schedule, then marked failed.
        "MAIL_RETRY_SCHEDULE": _seconds_list("MAIL_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE),
    }


def load_config(instance_path: str, secret_key: str | None = None, mail_backend: str | None = None) -> dict:
    """Build the Flask config mapping from environment variables (`secret_key`, `mail_backend`: ones the caller
    already has, such as a test's)."""
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    return {
        "SECRET_KEY": secret_key or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        # Pre-ping: a connection that died in the pool (database restart or failover, a proxy or firewall dropping
        # it, an administrator ending it) is replaced when it is checked out, instead of failing its request with
        # a 500; it costs a round trip per checkout. pool_recycle keeps connections younger than a typical server
        # or firewall idle timeout. hide_parameters: a failed statement's message (and so the log) never shows the
        # values bound to it, which include key hashes, Idempotency-Keys and addresses.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_recycle": 1800, "hide_parameters": True},
        # werkzeug's hash for passwords, not read from the environment: scrypt (n=2**15) everywhere; the test
        # suite alone asks for a fast one, as the hash's cost is the point in production and a drag in tests.
        "PASSWORD_HASH_METHOD": "scrypt",
        "PUBLIC_BASE_URL": _base_url("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # Flask answers 400 to a request whose Host is not one of these (unset: any Host).
        "TRUSTED_HOSTS": _host_list("TRUSTED_HOSTS"),
        "PROXY_COUNT": _whole_number("PROXY_COUNT", 0, minimum=0),
        "MAX_CONTENT_LENGTH": _whole_number("MAX_CONTENT_LENGTH", 1_048_576, minimum=1024),
        "REDIS_URL": redis_url,
        # When set, /metrics answers only requests with `Authorization: Bearer <METRICS_TOKEN>` (else 401).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", "").strip() or None,
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Keys in the shared Redis start with this, so that several shops (or tests) can share one server.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "").strip() or "shop",
        # Moving windows: a burst at the end of one minute and the start of the next still counts as one.
        "RATELIMIT_STRATEGY": "moving-window",
        # Retry-After is set by the 429 answer itself (shop/ratelimits.py), for the limit or throttle that refused;
        # the API's answers carry the IETF draft's RateLimit-Policy and RateLimit instead of X-RateLimit-*.
        "RATELIMIT_HEADERS_ENABLED": False,
        # A Redis that is down or hung fails a check within REDIS_TIMEOUT_SECONDS; the limits then count in this
        # process's memory (Flask-Limiter's in-memory fallback, the same limits, checked again against Redis every
        # few seconds) rather than failing or holding up every sign-in; /readyz reports Redis as degraded.
        "RATELIMIT_STORAGE_OPTIONS": redis_timeouts(),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        **{name: _rate_limit(name, default) for name, default in DEFAULT_RATE_LIMITS.items()},
        **task_queue_settings(instance_path, redis_url),
        **document_storage_settings(instance_path),
        **mail_settings(mail_backend),
        "LOG_LEVEL": _log_level(),
        "SHOP_CURRENCY": os.environ.get("SHOP_CURRENCY", "EUR"),
        # The seller's country: the VAT of every order is decided from it (invoicing.vat), at its rate in vat_rate.
        "SHOP_COUNTRY": _country("SHOP_COUNTRY", "DE"),
        "SHOP_NAME": os.environ.get("SHOP_NAME", "Leucine Shop"),
        "LOW_STOCK_UNITS": _whole_number("LOW_STOCK_UNITS", 10, minimum=0),
        # The API promises that answers are kept at least 24 hours.
        "IDEMPOTENCY_TTL_HOURS": _whole_number("IDEMPOTENCY_TTL_HOURS", 24, minimum=24),
        # Orders that ask for no minimum remaining shelf life get lots expiring more than this many days ahead.
        "DEFAULT_MIN_SHELF_LIFE_DAYS": _whole_number("DEFAULT_MIN_SHELF_LIFE_DAYS", 90, minimum=0),
        # The order acknowledgement expects a confirmed order to leave within this many business days.
        "DISPATCH_WITHIN_DAYS": _whole_number("DISPATCH_WITHIN_DAYS", 3, minimum=0),
        # How long a link to join a company (an invitation) and a link to reset a password stay valid.
        "INVITATION_VALID_DAYS": _whole_number("INVITATION_VALID_DAYS", 7, minimum=1),
        "PASSWORD_RESET_VALID_MINUTES": _whole_number("PASSWORD_RESET_VALID_MINUTES", 60, minimum=5),
        # How long the link that opens an account asked for on the registration page stays valid.
        "REGISTRATION_VALID_HOURS": _whole_number("REGISTRATION_VALID_HOURS", 24, minimum=1),
        # Orders awaiting approval longer than this are cancelled and their stock released.
        "APPROVAL_EXPIRY_HOURS": _whole_number("APPROVAL_EXPIRY_HOURS", 72, minimum=1),
        # Two-person rule: who releases a lot must not have recorded (or last corrected) any of its results.
        "RELEASE_REQUIRES_SECOND_PERSON": _flag("RELEASE_REQUIRES_SECOND_PERSON", True),
        **seller_settings(),
        "LEGAL_TEXTS_DIR": _legal_texts_dir(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # A form left open longer than this is refused with the "Form expired" page; reloading it gives a new token.
        "WTF_CSRF_TIME_LIMIT": _whole_number("CSRF_TIME_LIMIT_SECONDS", 7200, minimum=60),
        # flask-smorest / OpenAPI
        "API_TITLE": "Leucine Shop API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_SWAGGER_UI_PATH": None,
    }


def _log_level() -> str:
    level = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}.")
    return level


def _instance_secret(instance_path: str) -> str:
    """Keep one random secret in the instance folder so that development sessions survive restarts.

    The key is written, readable by its owner only, to a file of its own and then linked into place, which
    fails if another process got there first: so the file is never seen half written, and processes that start
    together all end up with the one key that won.
    """
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
                file.flush()
                os.fsync(file.fileno())
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won the race: use its key
        finally:
            draft.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:  # a key file written by an older version, readable by others
        path.chmod(0o600)
    return path.read_text().strip()
