"""rules/ stays a pure domain package: no framework imports, no clock, no file or network I/O."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
SOURCES = sorted(RULES_DIR.glob("*.py"))

FORBIDDEN_TOP_LEVEL = {
    "telegram", "sqlalchemy", "aiohttp", "aiosqlite", "asyncpg", "alembic", "httpx", "requests",
    "socket", "subprocess", "asyncio", "logging", "storage", "handlers", "bot",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval"}
CLOCK_CALLS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time"),
}  # fmt: skip


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_package_sources_are_found() -> None:
    assert {p.name for p in SOURCES} >= {"model.py", "policy.py", "evaluate.py", "validators.py", "regions.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_framework_or_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offending = {name for name in imported_modules(tree) if name.split(".")[0] in FORBIDDEN_TOP_LEVEL}
    assert not offending, f"{path.name} imports {sorted(offending)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_clock_or_direct_io_calls(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name):
            assert function.id not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {function.id}()"
        elif isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
            pair = (function.value.id, function.attr)
            assert pair not in CLOCK_CALLS, f"{path.name}:{node.lineno} reads the clock ({'.'.join(pair)})"


def test_the_scanner_detects_a_forbidden_import() -> None:
    # Guards the scan itself: it must flag the patterns it claims to flag.
    tree = ast.parse("import telegram.ext\nfrom sqlalchemy import select\nfrom . import model\n")
    assert imported_modules(tree) == {"telegram.ext", "sqlalchemy"}
