"""Settings of the payments block (``KIBAN_PAYMENTS_*``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PaymentsSettings(BaseSettings):
    """Read afresh on each use (cheap, and tests change the environment)."""

    model_config = SettingsConfigDict(env_prefix="KIBAN_PAYMENTS_", env_file=".env", extra="ignore")

    bank_service: str = "JP/COM/KIBAN-BANK/accounts/account-check"
    """The mesh service that verifies a receiving account (the reference bank by default)."""

    payer_bank_code: str = "0001"
    payer_branch_code: str = "001"
    payer_account_number: str = "0000001"
    """The payer's own account the transfer file draws on (仕向銀行・支店・口座)."""

    payer_name_kana: str = "ｺｳｷﾝ ｼﾊﾗｲ"
    """The payer name (振込依頼人名) written in the file's header."""

    fee_provider_dir: str = ""
    """Where the local reference payment provider keeps its state and settlement reports
    (empty: ``<data_dir>/refpay``)."""
