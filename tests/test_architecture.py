"""Import rules import-linter cannot express: only a block's facade crosses its boundary.

A module outside block X may import ``kiban.blocks.X`` (the facade) and names from it, and the
web assembly may import ``kiban.blocks.X.api`` or ``kiban.blocks.X.<part>_api`` (routers of a
block with several parts, such as identity's OpenID provider); no other module of X. The layer and
DAG rules are import-linter contracts in pyproject.toml, run by ``make test``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kiban

SRC = Path(kiban.__file__).parent
BLOCKS = SRC / "blocks"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _is_submodule(block: str, name: str) -> bool:
    return (BLOCKS / block / f"{name}.py").exists() or (BLOCKS / block / name).is_dir()


def is_violation(importer: str, target: str) -> bool:
    """Whether ``importer`` reaching ``target`` breaks the facade rule."""
    parts = target.split(".")
    if parts[:2] != ["kiban", "blocks"] or len(parts) < 4:
        return False
    block, member = parts[2], parts[3]
    owner = f"kiban.blocks.{block}"
    if importer == owner or importer.startswith(owner + "."):
        return False
    if (member == "api" or member.endswith("_api")) and importer.startswith("kiban.web"):
        return False
    return _is_submodule(block, member)


def test_only_facades_cross_block_boundaries() -> None:
    problems = sorted(
        f"{_module_name(path)} imports {target}"
        for path in SRC.rglob("*.py")
        for target in _imports(path.read_text(encoding="utf-8"))
        if is_violation(_module_name(path), target)
    )
    assert problems == []


def test_the_rule_tells_facade_from_private_modules() -> None:
    source = "from kiban.blocks.address.models import Town\nfrom kiban.blocks import address\n"
    targets = _imports(source)
    assert is_violation("kiban.blocks.residents.service", "kiban.blocks.address.models")
    assert "kiban.blocks.address.models" in targets
    assert not is_violation("kiban.blocks.residents.service", "kiban.blocks.address")
    assert not is_violation("kiban.blocks.address.service", "kiban.blocks.address.models")
    assert not is_violation("kiban.web", "kiban.blocks.residents.api")
    assert not is_violation("kiban.web", "kiban.blocks.identity.oidc_api")
    assert is_violation("kiban.web", "kiban.blocks.identity.oidc")
    assert is_violation("kiban.cli.residents", "kiban.blocks.residents.api")
