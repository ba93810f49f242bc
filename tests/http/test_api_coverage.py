"""docs/api-coverage.md is what scripts/api_coverage.py writes from the current code and tests
(the script builds the real app, runs tests/http for its schema-check registry, and compares)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_coverage_report_is_current() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "api_coverage.py"), "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
