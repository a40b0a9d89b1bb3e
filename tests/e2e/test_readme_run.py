"""Finding 9: the README's `make run` section names what a newcomer may want to set, and `make run` honours it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _make_run_section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("make run")
    following = re.search(r"^#{2,3} ", readme[start:], re.M)
    return readme[start:start + following.start()] if following else readme[start:]


def test_readme_says_how_to_choose_port_database_and_seller_for_make_run():
    section = _make_run_section()
    for setting in ("PORT=", "HOST=", "DATABASE_URL", "SELLER_LEGAL_NAME", "LEGAL_TEXTS_DIR"):
        assert setting in section, setting


def test_make_run_serves_on_the_port_given():
    dry_run = subprocess.run(["make", "-n", "run", "PORT=5151", "HOST=0.0.0.0"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert "--port 5151" in dry_run and "--host 0.0.0.0" in dry_run
