"""The wallet's file: credentials with their holder keys sealed under the PIN, and the log.

One JSON file, ``wallet.json``, in the wallet's directory:

- ``pin``: the scrypt salt and parameters, and a sealed check value (a wrong PIN fails to open
  it, which is how a wrong PIN is told from a damaged file);
- ``credentials``: for each credential, what the list page shows without the PIN (its type,
  ``vct``, issuer, when it was received and until when it is valid) and, sealed, the holder's
  private key and the SD-JWT VC itself (its disclosures are personal data);
- ``presentations``: the log: when, to whom (the relying party's registered name), which
  claims (names, never values), and the outcome.

Sealing is AES-256-GCM under a key derived from the PIN by scrypt (N=2^15, r=8, p=1), a fresh
96-bit nonce each time, the credential's id as associated data (a sealed blob moved to another
entry does not open). The file is replaced atomically and readable only by its owner.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from joserfc.jwk import ECKey

from kiban.kernel.errors import Conflict, NotFound, ValidationFailed

FILE_NAME: Final = "wallet.json"
SCRYPT_N: Final = 1 << 15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
PIN_MIN: Final = 6
PIN_MAX: Final = 16
_CHECK: Final = b"kiban wallet"
MAX_LOG: Final = 1000


class WalletPinInvalid(ValidationFailed):
    code = "wallet.pin_invalid"

    def __init__(self) -> None:
        super().__init__(
            f"暗証番号は{PIN_MIN}～{PIN_MAX}桁の数字です。",
            f"The PIN is {PIN_MIN} to {PIN_MAX} digits.",
            field="pin",
        )


class WrongWalletPin(ValidationFailed):
    code = "wallet.wrong_pin"

    def __init__(self) -> None:
        super().__init__("暗証番号が違います。", "The PIN is wrong.", field="pin")


class WalletNotSetUp(Conflict):
    code = "wallet.not_set_up"

    def __init__(self) -> None:
        super().__init__(
            "ウォレットの暗証番号がまだ設定されていません。",
            "The wallet has no PIN yet: set one first.",
            field="pin",
        )


class WalletAlreadySetUp(Conflict):
    code = "wallet.already_set_up"

    def __init__(self) -> None:
        super().__init__(
            "ウォレットの暗証番号はすでに設定されています。",
            "The wallet already has a PIN.",
            field="pin",
        )


class HeldCredentialNotFound(NotFound):
    code = "wallet.credential_not_found"

    def __init__(self) -> None:
        super().__init__(
            "該当する証明書はウォレットにありません。",
            "No such credential in the wallet.",
            field="credential",
        )


@dataclass(frozen=True)
class HeldCredential:
    """What the wallet shows of a credential without the PIN."""

    id: str
    credential_type: str
    vct: str
    issuer: str
    display_ja: str
    display_en: str
    received_at: datetime
    expires_at: datetime

    def display(self, lang: str) -> str:
        return self.display_en if lang == "en" else self.display_ja


@dataclass(frozen=True)
class Presentation:
    """One entry of the log."""

    at: datetime
    verifier: str
    verifier_ja: str
    verifier_en: str
    client_id: str
    credential_type: str
    claims: tuple[str, ...]
    outcome: str
    reason: str | None
    labels_ja: tuple[str, ...] = ()
    labels_en: tuple[str, ...] = ()

    def verifier_name(self, lang: str) -> str:
        return self.verifier_en if lang == "en" else self.verifier_ja

    def labels(self, lang: str) -> tuple[str, ...]:
        """The claims sent, as the person saw them named (their names when not recorded)."""
        return (self.labels_en if lang == "en" else self.labels_ja) or self.claims


def check_pin(pin: str) -> str:
    if not isinstance(pin, str) or not (PIN_MIN <= len(pin) <= PIN_MAX) or not pin.isascii():
        raise WalletPinInvalid
    if not pin.isdigit():
        raise WalletPinInvalid
    return pin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


class WalletStore:
    """The wallet's file in ``directory``; safe for the threads of one process."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._lock = threading.RLock()

    # --- the file ---------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"version": 1, "pin": None, "credentials": [], "presentations": []}
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    # --- the PIN ----------------------------------------------------------------------------

    @staticmethod
    def _derive(pin: str, salt: bytes) -> AESGCM:
        key = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
            pin.encode("ascii")
        )
        return AESGCM(key)

    @property
    def is_set_up(self) -> bool:
        with self._lock:
            return self._load()["pin"] is not None

    def set_up(self, pin: str) -> None:
        """Choose the wallet's PIN (once)."""
        check_pin(pin)
        with self._lock:
            data = self._load()
            if data["pin"] is not None:
                raise WalletAlreadySetUp
            salt = secrets.token_bytes(16)
            nonce = secrets.token_bytes(12)
            sealed = self._derive(pin, salt).encrypt(nonce, _CHECK, b"check")
            data["pin"] = {
                "kdf": "scrypt",
                "n": SCRYPT_N,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
                "salt": _b64(salt),
                "check": {"nonce": _b64(nonce), "sealed": _b64(sealed)},
            }
            self._save(data)

    def _unlock(self, data: dict[str, Any], pin: str) -> AESGCM:
        if data["pin"] is None:
            raise WalletNotSetUp
        if not isinstance(pin, str) or not pin.isascii() or not pin:
            raise WrongWalletPin
        params = data["pin"]
        aead = self._derive(pin, _unb64(params["salt"]))
        try:
            aead.decrypt(
                _unb64(params["check"]["nonce"]), _unb64(params["check"]["sealed"]), b"check"
            )
        except InvalidTag as exc:
            raise WrongWalletPin from exc
        return aead

    def verify_pin(self, pin: str) -> None:
        """Raise :class:`WrongWalletPin` unless ``pin`` opens the wallet."""
        with self._lock:
            self._unlock(self._load(), pin)

    # --- credentials ------------------------------------------------------------------------

    def add(
        self,
        pin: str,
        *,
        credential: str,
        holder_key: ECKey,
        credential_type: str,
        vct: str,
        issuer: str,
        display_ja: str,
        display_en: str,
        expires_at: datetime,
    ) -> HeldCredential:
        """Keep a credential and its holder key, sealed under the PIN."""
        with self._lock:
            data = self._load()
            aead = self._unlock(data, pin)
            entry_id = str(uuid.uuid4())
            nonce = secrets.token_bytes(12)
            secret = json.dumps(
                {"holder_key": holder_key.as_dict(private=True), "credential": credential}
            ).encode("utf-8")
            entry = {
                "id": entry_id,
                "credential_type": credential_type,
                "vct": vct,
                "issuer": issuer,
                "display_ja": display_ja,
                "display_en": display_en,
                "received_at": datetime.now(UTC).isoformat(),
                "expires_at": expires_at.isoformat(),
                "nonce": _b64(nonce),
                "sealed": _b64(aead.encrypt(nonce, secret, entry_id.encode("ascii"))),
            }
            data["credentials"].append(entry)
            self._save(data)
            return self._held(entry)

    @staticmethod
    def _held(entry: dict[str, Any]) -> HeldCredential:
        return HeldCredential(
            id=entry["id"],
            credential_type=entry["credential_type"],
            vct=entry["vct"],
            issuer=entry["issuer"],
            display_ja=entry["display_ja"],
            display_en=entry["display_en"],
            received_at=datetime.fromisoformat(entry["received_at"]),
            expires_at=datetime.fromisoformat(entry["expires_at"]),
        )

    def credentials(self) -> list[HeldCredential]:
        """The credentials held, newest first (no PIN needed: no claim is shown)."""
        with self._lock:
            found = [self._held(entry) for entry in self._load()["credentials"]]
        return sorted(found, key=lambda held: held.received_at, reverse=True)

    def open(self, pin: str, credential_id: str) -> tuple[str, ECKey]:
        """The SD-JWT VC and its holder key, for the right PIN."""
        with self._lock:
            data = self._load()
            aead = self._unlock(data, pin)
            for entry in data["credentials"]:
                if entry["id"] == credential_id:
                    plain = aead.decrypt(
                        _unb64(entry["nonce"]),
                        _unb64(entry["sealed"]),
                        credential_id.encode("ascii"),
                    )
                    secret = json.loads(plain)
                    key = ECKey.import_key(secret["holder_key"])
                    return str(secret["credential"]), key
        raise HeldCredentialNotFound

    def remove(self, pin: str, credential_id: str) -> None:
        """Delete a credential from the wallet (the PIN is asked)."""
        with self._lock:
            data = self._load()
            self._unlock(data, pin)
            kept = [entry for entry in data["credentials"] if entry["id"] != credential_id]
            if len(kept) == len(data["credentials"]):
                raise HeldCredentialNotFound
            data["credentials"] = kept
            self._save(data)

    # --- the log ----------------------------------------------------------------------------

    def log(self, entry: Presentation) -> None:
        """Add one presentation (or refusal) to the log; the oldest go past 1,000 entries."""
        with self._lock:
            data = self._load()
            data["presentations"].append(
                {
                    "at": entry.at.isoformat(),
                    "verifier": entry.verifier,
                    "verifier_ja": entry.verifier_ja,
                    "verifier_en": entry.verifier_en,
                    "client_id": entry.client_id,
                    "credential_type": entry.credential_type,
                    "claims": list(entry.claims),
                    "outcome": entry.outcome,
                    "reason": entry.reason,
                    "labels_ja": list(entry.labels_ja),
                    "labels_en": list(entry.labels_en),
                }
            )
            data["presentations"] = data["presentations"][-MAX_LOG:]
            self._save(data)

    def presentations(self) -> list[Presentation]:
        """The log, newest first."""
        with self._lock:
            entries = self._load()["presentations"]
        return [
            Presentation(
                at=datetime.fromisoformat(e["at"]),
                verifier=e["verifier"],
                verifier_ja=e["verifier_ja"],
                verifier_en=e["verifier_en"],
                client_id=e["client_id"],
                credential_type=e["credential_type"],
                claims=tuple(e["claims"]),
                outcome=e["outcome"],
                reason=e["reason"],
                labels_ja=tuple(e.get("labels_ja", ())),
                labels_en=tuple(e.get("labels_en", ())),
            )
            for e in reversed(entries)
        ]
