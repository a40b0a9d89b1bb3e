"""Tools nobody here wrote accept the served OpenAPI document whole: Redocly's recommended rules and Spectral's
spectral:oas report no error and no warning, and openapi-python-client generates a client without a warning.
The tools are pinned in package.json and requirements.txt; a missing one skips its test with the reason, unless
SHOP_REQUIRE_API_TOOLS=1 (CI) makes that a failure."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent
# The tools' own telemetry and update checks stay off: CI reaches the package registries only.
QUIET = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1",
         "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def require_tool(path: Path | str | None, how: str) -> str:
    """The tool's path, or skip (fail under SHOP_REQUIRE_API_TOOLS=1) saying how to install it."""
    if path is None or not Path(path).exists():
        message = f"{how} is missing"
        if os.environ.get("SHOP_REQUIRE_API_TOOLS") == "1":
            pytest.fail(f"SHOP_REQUIRE_API_TOOLS=1 but {message}")
        pytest.skip(message)
    return str(path)


def served_document(client, directory: Path) -> Path:
    """The document as /api/v1/openapi.json serves it, written to a file for the tools."""
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    path = directory / "openapi.json"
    path.write_text(json.dumps(response.get_json(), indent=2))
    return path


def generate_client(document: Path, output: Path) -> subprocess.CompletedProcess:
    """openapi-python-client's package generated from `document` into `output` (a directory it creates)."""
    tool = require_tool(shutil.which("openapi-python-client", path=QUIET["PATH"]),
                        "openapi-python-client (pip install -r requirements.txt)")
    # The files the API answers (invoice PDFs and XML) are bytes to the client, as the tool's docs advise.
    config = output.parent / "openapi-python-client.json"
    config.write_text(json.dumps({"content_type_overrides": {"application/pdf": "application/octet-stream",
                                                              "application/xml": "application/octet-stream"}}))
    return subprocess.run([tool, "generate", "--path", str(document), "--meta", "none", "--output-path",
                           str(output), "--config", str(config)], capture_output=True, text=True, env=QUIET,
                          timeout=300, check=False)


@pytest.fixture
def backend() -> str:
    """The document does not depend on the database: the tools read it once, on SQLite."""
    return "sqlite"


@pytest.fixture
def document(client, tmp_path) -> Path:
    return served_document(client, tmp_path)


def test_redocly_recommended_rules_find_no_error_and_no_warning(document):
    redocly = require_tool(NODE_BIN / "redocly", "@redocly/cli (npm ci)")
    run = subprocess.run([redocly, "lint", str(document), "--extends=recommended", "--format=json"],
                         capture_output=True, text=True, env=QUIET, timeout=300, check=False, cwd=ROOT)
    report = json.loads(run.stdout)
    assert report["totals"]["errors"] == 0 and report["totals"]["warnings"] == 0, json.dumps(report["problems"],
                                                                                               indent=1)


def test_spectral_oas_rules_find_nothing(document):
    spectral = require_tool(NODE_BIN / "spectral", "@stoplight/spectral-cli (npm ci)")
    run = subprocess.run([spectral, "lint", str(document), "--ruleset", str(ROOT / ".spectral.yaml"),
                          "--format", "json", "--fail-severity", "hint", "--quiet"],
                         capture_output=True, text=True, env=QUIET, timeout=300, check=False, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout or "[]") == []


def test_openapi_python_client_generates_a_client_without_warnings(document, tmp_path):
    run = generate_client(document, tmp_path / "leucine_shop_client")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    assert (tmp_path / "leucine_shop_client" / "api" / "orders" / "place_order.py").exists()
