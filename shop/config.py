"""Settings read from the environment, with safe defaults for a laptop."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


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


def load_config(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        # A random key per process start is safe but signs everyone out on restart;
        # production sets SECRET_KEY (README says so).
        secret = _instance_secret(instance_path)
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        # No pre-ping: it cost a round trip on every checkout (two per order). A connection that died (database
        # restart, idle timeout) fails its request and is discarded with the whole pool (SQLAlchemy's disconnect
        # handling); pool_recycle keeps connections younger than a typical server or firewall idle timeout.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "SHOP_CURRENCY": os.environ.get("SHOP_CURRENCY", "EUR"),
        "SHOP_NAME": os.environ.get("SHOP_NAME", "Leucine Shop"),
        "LOW_STOCK_UNITS": _whole_number("LOW_STOCK_UNITS", 10, minimum=0),
        # The API promises that answers are kept at least 24 hours.
        "IDEMPOTENCY_TTL_HOURS": _whole_number("IDEMPOTENCY_TTL_HOURS", 24, minimum=24),
        # How long the product page's catalog data (not stock) is cached per app process; 0 turns it off.
        "CATALOG_CACHE_SECONDS": _whole_number("CATALOG_CACHE_SECONDS", 30, minimum=0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # flask-smorest / OpenAPI
        "API_TITLE": "Leucine Shop API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_SWAGGER_UI_PATH": None,
    }


def _instance_secret(instance_path: str) -> str:
    """Keep one random secret in the instance folder so sessions survive restarts locally."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        return key
