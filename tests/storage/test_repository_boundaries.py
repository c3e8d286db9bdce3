"""Where storage's types and secrets live: records in storage.records, each repository's sealing
contexts and table handles private to it (so only DeclarationRepository opens declarations)."""
from __future__ import annotations

import ast
from pathlib import Path

import storage.repositories

REPOSITORIES = sorted(Path(storage.repositories.__file__).parent.glob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_repository_imports_another_repositorys_private_names() -> None:
    found = [
        f"{path.name}: {node.module}.{alias.name}"
        for path in REPOSITORIES
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage.repositories.")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert found == []


def test_record_types_are_defined_in_storage_records_not_in_repositories() -> None:
    found = [
        f"{path.name}: {node.name}"
        for path in REPOSITORIES
        for node in _tree(path).body
        if isinstance(node, ast.ClassDef) and not node.name.endswith("Repository")
    ]
    assert found == []
