"""Unit tests: pure functions and rules over plain values (the planner, prices, result parsing, packing), and checks
of the code itself (the layers); no app, no database, fast."""
import pytest


@pytest.fixture(autouse=True)
def _no_database(monkeypatch):
    """A unit test that reaches for the database is an integration test: fail it, and say so."""
    def refuse(*args, **kwargs):
        raise AssertionError("a unit test opened a database connection: move it to tests/integration")

    monkeypatch.setattr("sqlalchemy.engine.Engine.connect", refuse)
