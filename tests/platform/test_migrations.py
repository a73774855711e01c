"""The migration history builds the schema and matches the models."""

from __future__ import annotations

from kiban.platform import migrate


def test_models_and_migrations_agree(database_url: str) -> None:
    # Given a database built by running every migration,
    # then autogenerate finds nothing the models have that the migrations lack.
    migrate.check(database_url)
    assert migrate.current(database_url) is not None
