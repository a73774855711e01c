"""Signing a sign-in challenge without a browser: what the reader's ``POST /sign`` does.

Tests and relying-party developers call :func:`sign_challenge` with a card store and the PINs,
and send the fields it returns to the server's card callback exactly as the reader's redirect
would (together with the ``request_id`` the server gave them).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Final

from kiban.cardreader.errors import InvalidKind, InvalidPin
from kiban.cardreader.store import AUTH, KINDS, CardStore, check_kind, check_pin
from kiban.kernel.errors import ValidationFailed

# A challenge is the server's opaque string; the reader signs its UTF-8 bytes. Only URL-safe
# unreserved characters are accepted, so it travels in a query string unchanged.
CHALLENGE: Final = re.compile(r"[A-Za-z0-9._~-]{16,1024}")


def check_challenge(challenge: str) -> str:
    """``challenge`` if it is 16 to 1024 URL-safe characters (``A-Z a-z 0-9 - . _ ~``)."""
    if not isinstance(challenge, str) or not CHALLENGE.fullmatch(challenge):
        raise ValidationFailed(
            "チャレンジは URL で使える16～1024文字（英数字と - . _ ~）です。",
            "The challenge is 16 to 1024 URL-safe characters (letters, digits, - . _ ~).",
            field="challenge",
            code="cardreader.challenge_invalid",
        )
    return challenge


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2), as every field of the reader's answer is."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_keys(keys: str | Sequence[str]) -> tuple[str, ...]:
    """The key kinds to sign with: ``auth``, optionally ``signing``, each once, auth first.

    Accepts the query form ``"auth,signing"`` or a sequence. The authentication key is always
    used: a signature with the signing key alone does not sign anyone in.
    """
    kinds = [k.strip() for k in keys.split(",")] if isinstance(keys, str) else list(keys)
    for kind in kinds:
        check_kind(kind)
    if AUTH not in kinds or len(set(kinds)) != len(kinds):
        raise InvalidKind(",".join(kinds))
    return tuple(kind for kind in KINDS if kind in kinds)


def sign_challenge(
    store: CardStore,
    card_number: str,
    pins: Mapping[str, str],
    challenge: str,
    keys: Sequence[str] = (AUTH,),
) -> dict[str, str]:
    """Sign the UTF-8 bytes of ``challenge`` with each key in ``keys`` after its PIN.

    ``pins`` maps ``auth`` (and ``signing``) to the PIN. Returns ``auth_certificate``,
    ``auth_signature`` (and ``signing_certificate``, ``signing_signature``): DER certificate and
    RSA PKCS#1 v1.5 SHA-256 signature, base64url without padding. Every PIN's format is checked
    before any is tried; the first wrong PIN raises ``WrongPin`` (counted) and stops.
    """
    kinds = parse_keys(keys)
    check_challenge(challenge)
    for kind in kinds:
        if kind not in pins:
            raise InvalidPin(kind)
        check_pin(kind, pins[kind])
    data = challenge.encode("utf-8")
    fields: dict[str, str] = {}
    for kind in kinds:
        signature = store.sign(card_number, kind, pins[kind], data)
        fields[f"{kind}_certificate"] = b64url(store.certificate_der(card_number, kind))
        fields[f"{kind}_signature"] = b64url(signature)
    return fields
