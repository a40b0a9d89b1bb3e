"""End-to-end tests: the shop served on a local port and driven through Debian's chromium (Playwright), or run as
processes (`make run`, two gunicorn servers sharing Redis). The browser's fixtures serve the app with CSRF on, as
in production, on the embedded SQLite database."""
from tests.support.browser import app, backend, browser, live_server, new_page, playwright_session  # noqa: F401
from tests.support.page_sweep import shop  # noqa: F401  (the shop the page sweeps walk)
