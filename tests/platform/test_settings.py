"""Settings refuse what kiban cannot run on when the process starts, naming the variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from kiban.cli import app
from kiban.platform.settings import Settings, get_settings


@pytest.mark.parametrize(
    "url",
    [
        "",
        "sqlite:///var/kiban.db",
        "postgresql+psycopg://postgres@127.0.0.1:5432/kiban",
        "postgresql://postgres@127.0.0.1/kiban",
    ],
)
def test_sqlite_and_postgresql_are_accepted(url: str) -> None:
    assert Settings(database_url=url).database_url == url


@pytest.mark.parametrize(
    "url", ["mysql+pymysql://root@127.0.0.1/kiban", "mariadb://root@127.0.0.1/kiban"]
)
def test_another_database_is_refused_naming_the_field(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url=url)
    message = str(refused.value)
    assert "database_url" in message
    assert url.split(":", 1)[0].split("+", 1)[0] + "://" in message


def test_the_cli_names_the_variable_and_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIBAN_DATABASE_URL", "mysql+pymysql://root@127.0.0.1/kiban")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "KIBAN_DATABASE_URL" in result.output
    assert "mysql://" in result.output
    assert "Traceback" not in result.output
