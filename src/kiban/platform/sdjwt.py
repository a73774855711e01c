"""Selective Disclosure for JWTs (SD-JWT, RFC 9901): the format, without any policy.

Kept in the platform (not in the credentials block) because the holder's wallet, a separate
local program like the card reader, builds presentations with the same code the issuer and the
verifier use, and may not import a block.

- A *disclosure* is ``base64url(JSON [salt, name, value])`` (an object member) or
  ``base64url(JSON [salt, value])`` (an array element); the payload carries its digest
  ``base64url(SHA-256(disclosure))`` in ``_sd`` (or ``{"...": digest}`` in an array).
- The compact form is ``<issuer-signed JWT>~<disclosure>~…~<disclosure>~[<KB-JWT>]``.
- The Key Binding JWT (``typ`` ``kb+jwt``) signs ``iat``, ``aud``, ``nonce`` and ``sd_hash``
  (the digest of everything before it), proving the holder of the ``cnf`` key presents it to
  this audience, now.

Errors are :class:`SdJwtError` with a short stable ``reason`` (the credentials block turns
each into an API error code).
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

SD_ALG: Final = "sha-256"
TYP_KB: Final = "kb+jwt"
ALGORITHMS: Final = ["ES256"]
_RESERVED_NAMES: Final = frozenset({"_sd", "...", "_sd_alg"})
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")
_TO_URL: Final = bytes.maketrans(b"+/", b"-_")
_FROM_URL: Final = bytes.maketrans(b"-_", b"+/")


class SdJwtError(ValueError):
    """An SD-JWT that is malformed or does not verify; ``reason`` is stable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; anything else is refused."""
    if not _B64URL.fullmatch(text):
        raise SdJwtError("malformed", "not unpadded base64url")
    try:
        padded = text.encode("ascii") + b"=" * (-len(text) % 4)
        return binascii.a2b_base64(padded.translate(_FROM_URL))
    except (binascii.Error, ValueError) as exc:
        raise SdJwtError("malformed", "not base64url") from exc


def digest(text: str) -> str:
    """``base64url(SHA-256(ascii(text)))``: a disclosure's digest, and the KB-JWT's sd_hash."""
    return b64url(hashlib.sha256(text.encode("ascii")).digest())


@dataclass(frozen=True)
class Disclosure:
    """One disclosure: ``name`` is ``None`` for an array element."""

    encoded: str
    salt: str
    name: str | None
    value: Any
    digest: str = ""

    def __post_init__(self) -> None:
        # Computed once: the verifier looks it up more than once per disclosure.
        if not self.digest:
            object.__setattr__(self, "digest", digest(self.encoded))


def make_disclosure(name: str | None, value: Any) -> Disclosure:
    """A new disclosure with a fresh 128-bit salt."""
    salt = b64url(secrets.token_bytes(16))
    items: list[Any] = [salt, value] if name is None else [salt, name, value]
    encoded = b64url(json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode())
    return Disclosure(encoded, salt, name, value)


def parse_disclosure(encoded: str) -> Disclosure:
    """The disclosure ``encoded`` carries; a malformed one is refused."""
    try:
        items = json.loads(b64url_decode(encoded).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SdJwtError("disclosure_malformed", "a disclosure is not JSON") from exc
    except SdJwtError as exc:
        raise SdJwtError("disclosure_malformed", "a disclosure is not base64url") from exc
    if not isinstance(items, list) or len(items) not in (2, 3) or not isinstance(items[0], str):
        raise SdJwtError("disclosure_malformed", "a disclosure is not [salt, (name,) value]")
    if len(items) == 2:
        return Disclosure(encoded, items[0], None, items[1])
    if not isinstance(items[1], str) or items[1] in _RESERVED_NAMES:
        raise SdJwtError("disclosure_malformed", "a disclosure's claim name is not allowed")
    return Disclosure(encoded, items[0], items[1], items[2])


def decoy_digest() -> str:
    """A digest no disclosure has, so the number of claims does not show (RFC 9901 §4.2.5)."""
    return b64url(hashlib.sha256(secrets.token_bytes(32)).digest())


def conceal(
    claims: Mapping[str, Any], *, decoys: tuple[int, int] = (1, 4)
) -> tuple[dict[str, Any], list[Disclosure]]:
    """Make every member of ``claims`` selectively disclosable.

    A member whose value is an object is concealed member by member first, and then as a
    whole (recursive disclosure), so a holder may disclose a whole address or none of it. Each
    ``_sd`` array gets between ``decoys[0]`` and ``decoys[1]`` decoy digests and is sorted, so
    neither the number nor the order of the claims shows.
    """
    digests: list[str] = []
    disclosures: list[Disclosure] = []
    for name, plain in claims.items():
        value = plain
        if isinstance(plain, Mapping):
            value, inner = conceal(plain, decoys=decoys)
            disclosures.extend(inner)
        disclosure = make_disclosure(name, value)
        disclosures.append(disclosure)
        digests.append(disclosure.digest)
    low, high = decoys
    digests.extend(decoy_digest() for _ in range(low + secrets.randbelow(high - low + 1)))
    return {"_sd": sorted(digests)}, disclosures


def issue(header: dict[str, Any], payload: dict[str, Any], key: ECKey) -> str:
    """The issuer-signed JWT of ``payload`` (which should hold ``_sd`` digests)."""
    return jwt.encode(header, {**payload, "_sd_alg": SD_ALG}, key, algorithms=ALGORITHMS)


def compact(issuer_jwt: str, disclosures: Collection[Disclosure], kb_jwt: str = "") -> str:
    """``<JWT>~<D1>~…~<Dn>~<KB-JWT>`` (the KB-JWT may be empty)."""
    return "~".join([issuer_jwt, *(d.encoded for d in disclosures), kb_jwt])


@dataclass(frozen=True)
class Parts:
    """An SD-JWT split into its issuer-signed JWT, disclosures and KB-JWT (or ``None``)."""

    issuer_jwt: str
    disclosures: list[str]
    kb_jwt: str | None

    @property
    def without_kb(self) -> str:
        """The part the KB-JWT's ``sd_hash`` covers (ending with ``~``)."""
        return "~".join([self.issuer_jwt, *self.disclosures, ""])


def split(text: str) -> Parts:
    """The parts of a compact SD-JWT (with or without a KB-JWT)."""
    text = text.strip()
    parts = text.split("~")
    if len(parts) < 2 or parts[0].count(".") != 2:
        raise SdJwtError("malformed", "not <JWT>~<disclosures>~[<KB-JWT>]")
    middle = parts[1:-1]
    if any(not p for p in middle):
        raise SdJwtError("malformed", "an empty disclosure")
    return Parts(parts[0], middle, parts[-1] or None)


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a JWS compact token, NOT verified (to find the key to verify it)."""
    pieces = token.split(".")
    if len(pieces) != 3:
        raise SdJwtError("malformed", "not a compact JWS")
    try:
        header = json.loads(b64url_decode(pieces[0]))
        payload = json.loads(b64url_decode(pieces[1]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SdJwtError("malformed", "the JWT is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SdJwtError("malformed", "the JWT is not a JSON object")
    return header, payload


def verify_jws(token: str, key: ECKey) -> dict[str, Any]:
    """The payload of ``token`` if ``key`` signed it with ES256; else ``signature_invalid``."""
    try:
        obj = jws.deserialize_compact(token, key, algorithms=ALGORITHMS)
        payload = json.loads(obj.payload)
    except (JoseError, ValueError) as exc:
        raise SdJwtError("signature_invalid", "the signature does not verify") from exc
    if not isinstance(payload, dict):
        raise SdJwtError("malformed", "the JWT payload is not an object")
    return payload


@dataclass(frozen=True)
class Jws:
    """A compact JWS split and decoded, its signature NOT yet checked (:meth:`check_es256`)."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    def check_es256(self, key: ec.EllipticCurvePublicKey) -> None:
        """Raise ``signature_invalid`` unless ``key`` made the signature with ES256."""
        if self.header.get("alg") != "ES256" or len(self.signature) != 64:
            raise SdJwtError("signature_invalid", "not an ES256 signature")
        r = int.from_bytes(self.signature[:32], "big")
        s = int.from_bytes(self.signature[32:], "big")
        try:
            key.verify(encode_dss_signature(r, s), self.signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise SdJwtError("signature_invalid", "the signature does not verify") from exc


def parse_jws(token: str) -> Jws:
    """``token`` decoded once: the verifier's fast path (cryptography directly, no JOSE
    library), used where every presentation passes."""
    pieces = token.split(".")
    if len(pieces) != 3:
        raise SdJwtError("malformed", "not a compact JWS")
    try:
        header = json.loads(b64url_decode(pieces[0]).decode("utf-8"))
        payload = json.loads(b64url_decode(pieces[1]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SdJwtError("malformed", "the JWT is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SdJwtError("malformed", "the JWT is not a JSON object")
    signing_input = f"{pieces[0]}.{pieces[1]}".encode("ascii")
    return Jws(header, payload, signing_input, b64url_decode(pieces[2]))


def _coordinate(value: Any) -> int:
    if not isinstance(value, str):
        raise SdJwtError("malformed", "a key coordinate is not a string")
    raw = b64url_decode(value)
    if len(raw) != 32:
        raise SdJwtError("malformed", "a P-256 coordinate is not 32 bytes")
    return int.from_bytes(raw, "big")


def _p256(x: Any, y: Any) -> ec.EllipticCurvePublicKey:
    try:
        numbers = ec.EllipticCurvePublicNumbers(_coordinate(x), _coordinate(y), ec.SECP256R1())
        return numbers.public_key()
    except ValueError as exc:  # Not a point on the curve.
        raise SdJwtError("malformed", "not a P-256 public key") from exc


def p256_public_key(jwk: Any) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a JWK (``kty`` EC, ``crv`` P-256)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise SdJwtError("malformed", "not an EC P-256 JWK")
    return _p256(jwk.get("x"), jwk.get("y"))


def unpack(payload: Mapping[str, Any], disclosures: Collection[str]) -> dict[str, Any]:
    """The claims of ``payload`` with ``disclosures`` put in place (RFC 9901 §7.1 step 3).

    Refuses a disclosure no digest refers to (``disclosure_unknown``, which is what a disclosure
    changed after issuance looks like), a digest that appears twice, a disclosed name already
    present, and a disclosure of the wrong shape for where it is referred to.
    """
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        disclosure = parse_disclosure(encoded)
        if disclosure.digest in by_digest:
            raise SdJwtError("disclosure_duplicate", "the same disclosure twice")
        by_digest[disclosure.digest] = disclosure
    seen: set[str] = set()
    used: set[str] = set()

    def note(value: str) -> Disclosure | None:
        if not isinstance(value, str):
            raise SdJwtError("malformed", "a digest is not a string")
        if value in seen:
            raise SdJwtError("digest_duplicate", "a digest appears twice")
        seen.add(value)
        found = by_digest.get(value)
        if found is not None:
            used.add(value)
        return found

    def walk_object(node: dict[str, Any]) -> dict[str, Any]:
        out = {n: walk(v) for n, v in node.items() if n not in ("_sd", "_sd_alg")}
        sd = node.get("_sd", [])
        if not isinstance(sd, list):
            raise SdJwtError("malformed", "_sd is not an array")
        for value in sd:
            found = note(value)
            if found is None:
                continue
            if found.name is None:
                raise SdJwtError("disclosure_malformed", "an array disclosure in _sd")
            if found.name in out:
                raise SdJwtError("claim_conflict", f"claim {found.name!r} twice")
            out[found.name] = walk(found.value)
        return out

    def walk_list(node: list[Any]) -> list[Any]:
        items: list[Any] = []
        for element in node:
            if isinstance(element, dict) and set(element) == {"..."}:
                found = note(element["..."])
                if found is None:
                    continue
                if found.name is not None:
                    raise SdJwtError("disclosure_malformed", "an object disclosure in array")
                items.append(walk(found.value))
            else:
                items.append(walk(element))
        return items

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return walk_object(node)
        if isinstance(node, list):
            return walk_list(node)
        return node

    claims = walk(dict(payload))
    if used != set(by_digest):
        raise SdJwtError("disclosure_unknown", "a disclosure the credential does not refer to")
    return claims  # type: ignore[no-any-return]


def key_binding_jwt(
    without_kb: str, holder_key: ECKey, *, nonce: str, audience: str, issued_at: int
) -> str:
    """A KB-JWT over ``without_kb`` (which ends with ``~``)."""
    header = {"alg": "ES256", "typ": TYP_KB}
    claims = {"iat": issued_at, "aud": audience, "nonce": nonce, "sd_hash": digest(without_kb)}
    return jwt.encode(header, claims, holder_key, algorithms=ALGORITHMS)


def present(
    issued: str,
    holder_key: ECKey,
    *,
    disclose: Callable[[str], bool] | Collection[str],
    nonce: str,
    audience: str,
    issued_at: int,
) -> str:
    """The holder's presentation of ``issued``: the disclosures of the top-level claims named
    in ``disclose`` (with everything inside them), and a KB-JWT for ``audience`` and ``nonce``.
    """
    wanted = disclose if callable(disclose) else disclose.__contains__
    parts = split(issued)
    _header, payload = peek(parts.issuer_jwt)
    by_digest = {parse_disclosure(e).digest: e for e in parts.disclosures}
    chosen: list[str] = []

    def walk(node: Any, everything: bool) -> None:
        if isinstance(node, dict):
            for value in node.get("_sd", []):
                encoded = by_digest.get(value)
                if encoded is None:
                    continue
                found = parse_disclosure(encoded)
                if everything or (found.name is not None and wanted(found.name)):
                    chosen.append(encoded)
                    walk(found.value, True)
            for name, value in node.items():
                if name != "_sd":
                    walk(value, everything)
        elif isinstance(node, list):
            for element in node:
                if isinstance(element, dict) and set(element) == {"..."}:
                    encoded = by_digest.get(element["..."])
                    if encoded is not None and everything:
                        chosen.append(encoded)
                        walk(parse_disclosure(encoded).value, True)
                else:
                    walk(element, everything)

    walk(payload, False)
    without_kb = "~".join([parts.issuer_jwt, *chosen, ""])
    kb = key_binding_jwt(
        without_kb, holder_key, nonce=nonce, audience=audience, issued_at=issued_at
    )
    return without_kb + kb
