"""A software WebAuthn authenticator for the unit tests: an ES256 key pair per credential,
"none" attestation, user presence and verification flags set, and a sign counter it moves on
itself (or that a test sets, to play a cloned key). It makes the same JSON the browser's
``navigator.credentials`` answers carry, over the options the server hands out."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

_UP, _UV, _AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    counter: int = 0


@dataclass
class SoftAuthenticator:
    """Holds credentials by RP id; ``origin`` is what its client (the "browser") reports."""

    origin: str
    credentials: list[SoftCredential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        ).encode()

    def create(self, options_json: str, *, origin: str | None = None) -> dict[str, Any]:
        """Answer creation options: a new credential, returned as the browser would post it."""
        options = json.loads(options_json)
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        credential = SoftCredential(
            secrets.token_bytes(16), key, rp_id, unb64(options["user"]["id"]), counter=1
        )
        self.credentials.append(credential)
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = (
            bytes(16) + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        )
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([_UP | _UV | _AT])
            + struct.pack(">I", credential.counter)
            + attested
            + cose
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64(credential.credential_id),
            "rawId": b64(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options_json: str,
        *,
        credential: SoftCredential | None = None,
        origin: str | None = None,
        challenge: str | None = None,
    ) -> dict[str, Any]:
        """Answer request options with ``credential`` (else the first one allowed, else the
        first one for the RP), moving its counter on."""
        options = json.loads(options_json)
        allowed = {item["id"] for item in options.get("allowCredentials", [])}
        chosen = credential or next(
            c
            for c in self.credentials
            if c.rp_id == options["rpId"] and (not allowed or b64(c.credential_id) in allowed)
        )
        chosen.counter += 1
        auth_data = (
            hashlib.sha256(chosen.rp_id.encode()).digest()
            + bytes([_UP | _UV])
            + struct.pack(">I", chosen.counter)
        )
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = chosen.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64(chosen.credential_id),
            "rawId": b64(chosen.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": b64(chosen.user_handle),
            },
            "clientExtensionResults": {},
        }
