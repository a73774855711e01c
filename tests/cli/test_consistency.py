"""The command line speaks one way: ``--person-id`` names a person everywhere, help is plain
text (no reStructuredText), and failures are bilingual messages, never tracebacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from kiban.cli import app
from kiban.platform.settings import get_settings

RST = re.compile(r"``|:(func|class|data|mod|meth|attr|ref):`")
runner = CliRunner()


def _commands(command: Any, path: str) -> list[tuple[str, Any]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found.extend(_commands(sub, f"{path} {name}"))
    return found


COMMANDS = _commands(typer.main.get_command(app), "kiban")


def test_help_is_plain_text() -> None:
    marked = [
        f"{path}: {text[:80]!r}"
        for path, command in COMMANDS
        for text in [command.help or "", *((getattr(p, "help", "") or "") for p in command.params)]
        if RST.search(text)
    ]
    assert marked == []


def test_a_person_is_named_by_person_id_everywhere() -> None:
    named = {
        path: [p.name for p in command.params if "person" in (p.name or "")]
        for path, command in COMMANDS
    }
    for path, names in named.items():
        for name in names:
            param = next(p for p in dict(COMMANDS)[path].params if p.name == name)
            assert "--person-id" in param.opts, f"{path}: {param.opts}"


@pytest.fixture
def fresh_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory nobody has migrated, as on a first run."""
    monkeypatch.delenv("KIBAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("KIBAN_DATA_DIR", str(tmp_path / "fresh"))
    get_settings.cache_clear()
    from kiban.platform.db import dispose_engines  # noqa: PLC0415

    dispose_engines()
    yield tmp_path / "fresh"
    dispose_engines()
    get_settings.cache_clear()


def test_an_unmigrated_database_is_named_not_a_traceback(fresh_data_dir: Path) -> None:
    result = runner.invoke(app, ["residents", "list"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "kiban migrate" in result.output
    assert "データベース" in result.output  # Japanese too.
    assert "Traceback" not in result.output
    assert "no such table" not in result.output


def test_a_seed_that_fails_leaves_no_progress_bar(fresh_data_dir: Path) -> None:
    result = runner.invoke(app, ["seed", "--size", "tiny"])
    assert result.exit_code == 1
    assert "kiban migrate" in result.output
    assert "seeding" not in result.output  # The bar was erased before the error.


def test_exporting_a_card_nobody_issued_says_how_to_issue_one(
    database_url: str, engine: Any, tmp_path: Path
) -> None:
    from kiban.blocks import residents  # noqa: PLC0415
    from kiban.platform.db import transaction  # noqa: PLC0415

    with transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=4)
        person = residents.list_people(session, limit=1)[0]
    result = runner.invoke(
        app, ["card", "export", "--person-id", str(person.id), "--dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert f"kiban card issue --person-id {person.id}" in result.output
    assert "カードが発行されていません" in result.output
