"""Settings of the credentials block (``KIBAN_CREDENTIALS_*``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class CredentialsSettings(BaseSettings):
    """Read afresh on each use (cheap, and tests change the environment)."""

    model_config = SettingsConfigDict(
        env_prefix="KIBAN_CREDENTIALS_", env_file=".env", extra="ignore"
    )

    wallet_clients: str = ""
    """Client ids (comma-separated) of OpenID Connect clients registered at kiban's provider
    that are wallets: an access token they got by the card sign-in (authorization code flow)
    may fetch the signed-in person's own register credentials."""

    @property
    def wallet_client_ids(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.wallet_clients.split(",") if c.strip())
