"""The layers of the house as the code has them: no business area reads a request, and no area reaches up."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parents[2] / "shop"
AREAS = ("accounts", "catalog", "inventory", "ordering", "quality", "reporting", "events", "platform")
# Flask's request machinery: what only an adapter may read or call.
REQUEST_NAMES = {"request", "g", "session", "flash", "abort", "redirect", "url_for", "make_response"}


def _modules(area: str) -> list[Path]:
    return sorted((SHOP / area).rglob("*.py"))


@pytest.mark.parametrize("area", [a for a in AREAS if a != "platform"])
def test_no_business_area_reads_the_request(area):
    found = []
    for path in _modules(area):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                found += [f"{path.name}: {a.name}" for a in node.names if a.name in REQUEST_NAMES]
    assert found == []


@pytest.mark.parametrize("area", AREAS)
def test_no_area_imports_a_web_adapter(area):
    adapters = ("shop.api", "shop.storefront", "shop.staff", "shop.cli", "shop.jobs", "shop.demo")
    found = []
    for path in _modules(area):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(adapters):
                found.append(f"{path.name}: {node.module}")
    assert found == []
