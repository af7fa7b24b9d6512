"""The import graph reads from top to bottom: the import-linter contracts in pyproject.toml hold.

They place oms at the bottom, then inventory, channels, orders and the apps on top, forbid cycles between
sibling modules, and keep every app away from the others' views, API, admin, forms and tasks.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
