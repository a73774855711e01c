"""No forgeable secret: a random one per installation, placeholders refused off loopback."""

# ruff: noqa: S105, S106 - the secrets below are test values, on purpose.

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kiban.cli import app
from kiban.platform.settings import (
    PLACEHOLDER_SECRET,
    PlaceholderSecret,
    Settings,
    get_settings,
    refuse_placeholder_secrets,
)


def test_without_a_configured_secret_each_installation_generates_its_own(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "a")
    again = Settings(data_dir=tmp_path / "a")
    other = Settings(data_dir=tmp_path / "b")
    assert first.secret_key == again.secret_key
    assert first.secret_key != other.secret_key
    assert first.secret_key != PLACEHOLDER_SECRET
    assert len(first.secret_key) >= 48
    path = tmp_path / "a" / "keys" / "secret-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == first.secret_key


def test_the_default_settings_hold_no_placeholder_secret() -> None:
    assert "secret_key" not in get_settings().placeholder_secrets()


def test_a_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="operator-chosen-secret-0123456789")
    assert settings.secret_key == "operator-chosen-secret-0123456789"
    assert not (tmp_path / "keys" / "secret-key").exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "kiban.example.jp"])  # noqa: S104
def test_a_placeholder_secret_is_refused_off_loopback(tmp_path: Path, host: str) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=PLACEHOLDER_SECRET, environment="development")
    with pytest.raises(PlaceholderSecret, match="KIBAN_SECRET_KEY"):
        refuse_placeholder_secrets(settings, host)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_a_placeholder_secret_is_tolerated_on_loopback_in_development(
    tmp_path: Path, host: str
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=PLACEHOLDER_SECRET, environment="development")
    refuse_placeholder_secrets(settings, host)


def test_production_refuses_a_placeholder_even_on_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="KIBAN_SECRET_KEY"):
        Settings(data_dir=tmp_path, secret_key="change-me", environment="production")


def test_kiban_serve_refuses_to_listen_publicly_with_a_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIBAN_SECRET_KEY", PLACEHOLDER_SECRET)
    monkeypatch.setenv("KIBAN_ENVIRONMENT", "development")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])  # noqa: S104
    assert result.exit_code == 2
    assert "KIBAN_SECRET_KEY" in result.output


def test_keys_kept_under_the_former_placeholder_move_to_the_generated_secret(
    tmp_path: Path,
) -> None:
    from kiban.platform.keys import FileKeyStore  # noqa: PLC0415

    keys = tmp_path / "keys"
    old = FileKeyStore(keys, PLACEHOLDER_SECRET).get_or_create("root-ca", "ec-p256")
    settings = Settings(data_dir=tmp_path)
    again = FileKeyStore(keys, settings.secret_key).get_or_create("root-ca", "ec-p256")
    assert old.private_numbers() == again.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="password"):
        FileKeyStore(keys, PLACEHOLDER_SECRET).get_or_create("root-ca", "ec-p256")
