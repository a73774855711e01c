"""Typed settings read from the environment (prefix ``KIBAN_``) and an optional ``.env`` file.

The defaults are the embedded development setup: a SQLite file under ``./var/`` and in-process
events. When ``KIBAN_SECRET_KEY`` is not set, the installation's own random secret is used: it
is generated on first run into ``<data_dir>/keys/secret-key`` (mode 0600), beside the keys it
protects, so no two installations share a secret and none is published in the source. A known
placeholder secret is refused in production, and :func:`refuse_placeholder_secrets` refuses it
for any server not bound to a loopback address.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-only-change-me"  # noqa: S105 - a marker, refused outside development.
PLACEHOLDER_SECRETS = frozenset(
    {PLACEHOLDER_SECRET, "change-me", "changeme", "secret", "development", "test", "kiban"}
)
"""Values published in kiban's source or documentation (or too obvious to be secret)."""
SUPPORTED_DATABASES = frozenset({"sqlite", "postgresql"})
"""The database dialects kiban runs on (ADR 0002)."""
SECRET_FILE = "secret-key"  # noqa: S105 - a file name, not a secret.
"""The generated installation secret, under ``<data_dir>/keys/``."""


class PlaceholderSecret(RuntimeError):
    """A known placeholder secret where it would let anyone forge sessions or tokens."""


def installation_secret(data_dir: Path) -> str:
    """The random secret of the installation at ``data_dir``, created (mode 0600) on first use.

    Several processes starting at once all end up with the same secret (the file is linked
    into place only once whole, and the first link wins).
    """
    from kiban.platform.keys import create_file_once, reencrypt_keys  # noqa: PLC0415 - keys imports settings.

    path = (data_dir / "keys" / SECRET_FILE).resolve()
    created = False
    if not path.exists():
        create_file_once(path, secrets.token_urlsafe(48).encode("ascii"))
        created = True
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise PlaceholderSecret(f"{path} holds no usable secret; remove it to generate one")
    if created:
        # An installation from before the generated secret kept its keys under the published
        # placeholder: they move to the new secret (each file replaced whole).
        reencrypt_keys(path.parent, PLACEHOLDER_SECRET, value)
    return value


class Settings(BaseSettings):
    """Process-wide settings. Every field is documented in ``.env.example``."""

    model_config = SettingsConfigDict(env_prefix="KIBAN_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"), description="Where the embedded database lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means sqlite:///<data_dir>/kiban.db."
    )
    events_url: str = Field(
        default="",
        description="Empty for in-process delivery, or nats://host:port for JetStream (several "
        "servers of one cluster separated by commas).",
    )
    events_stream: str = "KIBAN"
    events_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies JetStream keeps of the stream (3 on a three-node NATS cluster).",
    )
    events_prefix: str = Field(
        default="",
        description="Subject prefix of this installation's events; empty means the stream's "
        "name in lower case (KIBAN → kiban), so installations sharing NATS do not overlap.",
    )
    secret_key: str = Field(
        default="",
        description="Signs sessions and forms; empty means the generated installation secret.",
    )
    operator_token: str = PLACEHOLDER_SECRET
    default_language: Literal["ja", "en"] = "ja"
    base_url: str = "http://127.0.0.1:8000"
    card_reader_url: str = Field(
        default="http://127.0.0.1:8765",
        description="The virtual card reader the sign-in page sends residents to.",
    )
    wallet_url: str = Field(
        default="http://127.0.0.1:8766",
        description="The holder wallet on the resident's computer, which the reference "
        "verifiers' pages link to (beside the openid4vp:// link and its QR code).",
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        # kiban speaks SQLite (embedded) and PostgreSQL (scale-out) only: the upserts of the
        # throttle, the mesh and the outbox are written for those two. Anything else is refused
        # when the process starts (the CLI names the variable), not on a first request.
        scheme = value.split(":", 1)[0].split("+", 1)[0]
        if value and scheme not in SUPPORTED_DATABASES:
            raise ValueError(f"kiban runs on sqlite:// or postgresql://, not {scheme}://")
        return value

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            names = self.placeholder_secrets()
            if names:
                raise ValueError(f"KIBAN_{names[0].upper()} must be set outside development")
        if not self.secret_key:
            self.secret_key = installation_secret(self.data_dir)
        return self

    def placeholder_secrets(self) -> list[str]:
        """The names of the settings that hold a known placeholder value."""
        return [
            name
            for name in ("secret_key", "operator_token")
            if getattr(self, name).strip().lower() in PLACEHOLDER_SECRETS
        ]

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


def is_loopback(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_placeholder_secrets(settings: Settings, host: str) -> None:
    """Refuse (:class:`PlaceholderSecret`) to serve with a known placeholder secret anywhere
    but a development or test run bound to a loopback address: anyone who has read kiban's
    source could otherwise mint a session cookie or call the operator API."""
    names = settings.placeholder_secrets()
    if not names:
        return
    if settings.environment in ("development", "test") and is_loopback(host):
        return
    variables = ", ".join(f"KIBAN_{name.upper()}" for name in names)
    raise PlaceholderSecret(
        f"{variables} holds a published placeholder; set a secret of your own "
        f"(or leave KIBAN_SECRET_KEY empty to use the generated one) before serving on {host}"
    )
