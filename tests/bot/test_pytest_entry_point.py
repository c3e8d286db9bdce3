"""`pytest` (the console script) works like `python -m pytest`: tests import `tests.…` helpers."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]


def _run_pytest(*arguments: str) -> subprocess.CompletedProcess[str]:
    # The console script, unlike `python -m pytest`, does not put the current folder on sys.path.
    pytest_script = Path(sys.executable).parent / "pytest"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(pytest_script), "-q", *arguments], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_pytest_console_script_imports_the_tests_package() -> None:
    collected = _run_pytest("--collect-only", "tests/web/test_web_api.py")  # conftest imports tests.handlers
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    ran = _run_pytest("tests/vectors/test_vectors.py::test_generator_reproduces_the_committed_vectors")
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
