"""Browser-test fixtures: the app served on a local port, and Debian's chromium driven by Playwright.

Use in a test module with `pytestmark = pytest.mark.browser` and the fixtures `app` (CSRF on, as in production),
`live_server` (base URL), `browser` and `new_page(width=1280)`; `screenshot(page, name)` saves into screenshots/
(ignored by git), `axe_violations(page)` and `overflow(page)` check a page.
Browser tests run on SQLite only: the serving thread and the test share one database file.
"""
from __future__ import annotations

import atexit
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _require_chromium() -> None:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("SHOP_REQUIRE_BROWSER") == "1":
            pytest.fail("SHOP_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")


@pytest.fixture
def backend() -> str:
    """Browser tests run against the embedded SQLite database only."""
    return "sqlite"


@pytest.fixture
def app(make_app):
    """The served app with CSRF switched on, as in production: every form a browser sends must carry its token."""
    from shop.platform.extensions import db

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def live_server(app):
    """Serve `app` on a free local port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright_session():
    # Every module that star-imports this file gets its own copy of a session fixture, and Playwright's
    # sync API refuses a second instance in one thread: so one instance per process, shared by all copies.
    _require_chromium()
    if "playwright" not in _SHARED:
        from playwright.sync_api import sync_playwright

        manager = sync_playwright()
        _SHARED["playwright"] = (manager, manager.start())
        atexit.register(_stop_shared)
    return _SHARED["playwright"][1]


@pytest.fixture(scope="session")
def browser(playwright_session):
    if "browser" not in _SHARED:
        _SHARED["browser"] = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                                                               headless=True)
    return _SHARED["browser"]


_SHARED: dict = {}


def _stop_shared() -> None:
    if "browser" in _SHARED:
        _SHARED.pop("browser").close()
    if "playwright" in _SHARED:
        _SHARED.pop("playwright")[0].__exit__(None, None, None)


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh browser context (its own cookies); closed after the test."""
    contexts = []

    def factory(viewport: dict | None = None, **kwargs):
        context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, **kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield factory
    for context in contexts:
        context.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# What a page must be free of: axe-core's serious and critical findings (minor and moderate ones are reported
# by axe as best practice; they are not failures here).
BLOCKING_IMPACTS = ("serious", "critical")


def _axe_source() -> str:
    if "axe" not in _SHARED:
        if not AXE.exists():
            message = f"{AXE} is missing: `make axe` (npm ci) installs axe-core for the accessibility checks"
            if os.environ.get("SHOP_REQUIRE_BROWSER") == "1":
                pytest.fail(message)
            pytest.skip(message)
        _SHARED["axe"] = AXE.read_text(encoding="utf-8")
    return _SHARED["axe"]


def axe_violations(page, skip: tuple[str, ...] = ()) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page as it is now, one line each; `skip`
    names rules not to run (one that a page's other width has checked already).

    axe is evaluated into the page through the DevTools protocol (page.evaluate), not added as a <script>, so a
    strict Content-Security-Policy does not stop it.
    """
    source = _axe_source()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    options = {"resultTypes": ["violations"], "rules": {rule: {"enabled": False} for rule in skip}}
    result = page.evaluate("(options) => axe.run(document, options)", options)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:4]}"
            for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


_STICKING_OUT = """() => {
  const width = window.innerWidth, found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5 && !found.some(parent => parent.contains(el))) {
      let inScroller = false;
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) { inScroller = true; break; }
      }
      if (!inScroller) found.push(el);
    }
  }
  return found.slice(0, 4).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className)
    .trim().replace(/\\s+/g, '.') : '') + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
}"""


def sticking_out(page) -> list[str]:
    """The outermost elements that reach past the right edge of the screen (outside any scroll box)."""
    return page.evaluate(_STICKING_OUT)


# Radio buttons of one name are one control: Tab enters the group once, the arrow keys choose within it.
_MARK_CONTROLS = """() => {
  const controls = [], groups = {};
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button')) {
    if (el.disabled || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const group = el.type === 'radio' && el.name ? el.name : null;
    if (group !== null && group in groups) { el.dataset.keyboardCheck = String(groups[group]); continue; }
    el.dataset.keyboardCheck = String(controls.length);
    if (group !== null) groups[group] = controls.length;
    controls.push(el);
  }
  return controls.map(el => (el.labels && el.labels[0] ? el.labels[0].innerText : '')
                            || el.innerText || el.value || el.name || el.tagName);
}"""


def unreachable_by_tab(page, limit: int = 250) -> list[str]:
    """The form controls (inputs, selects, text areas, buttons) that pressing Tab from the top of the page never
    reaches: each must be usable with the keyboard alone."""
    names = page.evaluate(_MARK_CONTROLS)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    reached: set[int] = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        mark = page.evaluate("() => document.activeElement ? document.activeElement.dataset.keyboardCheck : null")
        if mark is not None:
            reached.add(int(mark))
        if len(reached) == len(names):
            break
    return [name.strip() for i, name in enumerate(names) if i not in reached]


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG as screenshots/NAME.png and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # A full page of a long list can take a loaded CI machine past the 10 s default: a slow screenshot is no finding.
    page.screenshot(path=str(path), full_page=True, timeout=30_000)
    return path


def buyer_signed_in(new_page, live_server: str, email: str, password: str, viewport: dict | None = None):
    """A page of a storefront customer signed in (on the page the sign-in leads to)."""
    page = new_page(viewport)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return page


def staff_signed_in(new_page, live_server: str, email: str = "fulfilment@shop.example", viewport: dict | None = None):
    """A page of a staff member signed in, on the dashboard (every test staff account has "staff password")."""
    page = new_page(viewport)
    page.goto(live_server + "/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("staff password")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Dashboard"
    return page
