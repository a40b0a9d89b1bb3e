"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
from shop import create_app
from shop.platform.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a setting the shop cannot use: say which, without a traceback
    raise SystemExit(f"Leucine Shop cannot start: {exc}") from None
