"""``kiban migrate``: bring the configured database to the newest schema."""

from __future__ import annotations

import typer
from rich.console import Console

from kiban.platform import migrate as migrations
from kiban.platform.settings import get_settings


def migrate(
    revision: str = typer.Argument("head", help="Target revision."),
) -> None:
    """Run the migration history against KIBAN_DATABASE_URL (default: the embedded SQLite)."""
    settings = get_settings()
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(url, revision)
    Console(stderr=True).print(f"database at revision {migrations.current(url)}")
