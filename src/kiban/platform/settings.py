"""Typed settings read from the environment (prefix ``KIBAN_``) and an optional ``.env`` file.

The defaults are the embedded development setup: a SQLite file under ``./var/`` and in-process
events. Outside development, placeholder secrets are refused at start-up.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-only-change-me"  # noqa: S105 - a marker, refused outside development.


class Settings(BaseSettings):
    """Process-wide settings. Every field is documented in ``.env.example``."""

    model_config = SettingsConfigDict(env_prefix="KIBAN_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"), description="Where the embedded database lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means sqlite:///<data_dir>/kiban.db."
    )
    events_url: str = Field(
        default="", description="Empty for in-process delivery, or nats://host:port for JetStream."
    )
    events_stream: str = "KIBAN"
    secret_key: str = PLACEHOLDER_SECRET
    operator_token: str = PLACEHOLDER_SECRET
    default_language: Literal["ja", "en"] = "ja"
    base_url: str = "http://127.0.0.1:8000"
    card_reader_url: str = Field(
        default="http://127.0.0.1:8765",
        description="The virtual card reader the sign-in page sends residents to.",
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            for name in ("secret_key", "operator_token"):
                if getattr(self, name) == PLACEHOLDER_SECRET:
                    raise ValueError(f"KIBAN_{name.upper()} must be set outside development")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kiban.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()
