"""Alembic glue: ``kiban migrate`` runs the one migration history against the configured URL.

The history lives in ``migrations/`` at the repository root and is shipped inside the wheel as
``kiban/_migrations``. ``import_all_models`` loads every table definition so that autogenerate
and ``alembic check`` see the whole schema.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

import kiban


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed package, or the repository."""
    packaged = Path(kiban.__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(kiban.__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would eat a literal % in a password.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def import_all_models() -> MetaData:
    """Import every ``models`` module under kiban and return the shared metadata."""
    from kiban.platform.db import Base  # noqa: PLC0415 - keeps this module light to import.

    for info in pkgutil.walk_packages(kiban.__path__, prefix="kiban."):
        if info.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(info.name)
    return Base.metadata


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Fail if the models and the migration history disagree (``alembic check``)."""
    command.check(alembic_config(url))


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    from kiban.platform.db import make_engine  # noqa: PLC0415

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
