"""Integration tests: the shop's use cases, pages and API against a real database (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), through the fixtures of tests/conftest.py; each test's tables are emptied after it."""
from tests.support.api import (  # noqa: F401  (an API client, its company's admin key, a second company's, stock)
    admin_api,
    api,
    rival,
    stocked,
)
from tests.support.events import receiver  # noqa: F401  (a local webhook receiver answering 200)
from tests.support.redis_server import own_redis  # noqa: F401  (a redis-server of the test's own, to hang)
from tests.support.staff import staff_clients  # noqa: F401  (a signed-in client per staff role)
from tests.support.sweep import sweep_world  # noqa: F401  (one of everything, for walking every route)
