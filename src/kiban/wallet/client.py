"""The wallet's protocol work with the kiban server, over HTTP.

- :func:`parse_offer` and :func:`receive`: OpenID4VCI 1.0's pre-authorized code flow. The
  offer link (``openid-credential-offer://?credential_offer=…``) names the issuer and the
  pre-authorized code; the wallet reads the issuer's metadata, trades the code and the
  transaction code for an access token, fetches a ``c_nonce``, proves possession of a fresh
  P-256 holder key with an ``openid4vci-proof+jwt``, and gets the SD-JWT VC.
- :func:`fetch_request`, :func:`answer` and :func:`decline`: OpenID4VP 1.0. The link
  (``openid4vp://?client_id=…&request_uri=…``) points to a request object, which the wallet
  fetches and reads (unsigned, for the ``redirect_uri:`` client identifier prefix, so the
  client id must be the response URI itself); the answer goes back by ``direct_post``.

The wallet talks only to the kiban server it was started with: an offer from another issuer,
or a request served elsewhere, is refused before anything is sent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from kiban.kernel.errors import ValidationFailed
from kiban.platform import sdjwt

OFFER_SCHEME: Final = "openid-credential-offer://"
REQUEST_SCHEME: Final = "openid4vp://"
PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP: Final = "openid4vci-proof+jwt"
MAX_LINK: Final = 4096


class WalletRefused(ValidationFailed):
    """Something the wallet will not do, or the server would not do for it; names the field."""

    code = "wallet.refused"

    def __init__(self, field: str, message_ja: str, message_en: str, code: str) -> None:
        super().__init__(message_ja, message_en, field=field, code=f"wallet.{code}")


@dataclass(frozen=True)
class CredentialOffer:
    issuer: str
    configuration_id: str
    pre_authorized_code: str
    tx_code_length: int | None


@dataclass(frozen=True)
class Received:
    """A credential as issued, with the key it is bound to and what the list shows of it."""

    credential: str
    holder_key: ECKey
    credential_type: str
    vct: str
    issuer: str
    display_ja: str
    display_en: str
    expires_at: datetime


@dataclass(frozen=True)
class AskedClaim:
    name: str
    label_ja: str
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_ja


@dataclass(frozen=True)
class VerifierRequest:
    """A presentation request as the person is shown it: who asks, why, and for what."""

    client_id: str
    response_uri: str
    nonce: str
    state: str
    query_id: str
    credential_type: str
    vct: str
    claims: tuple[AskedClaim, ...]
    verifier: str
    verifier_ja: str
    verifier_en: str
    purpose_ja: str
    purpose_en: str

    def verifier_name(self, lang: str) -> str:
        return self.verifier_en if lang == "en" else self.verifier_ja

    def purpose(self, lang: str) -> str:
        return self.purpose_en if lang == "en" else self.purpose_ja


def _under(url: str, origin: str) -> bool:
    return isinstance(url, str) and (url == origin or url.startswith(origin + "/"))


def _link_query(link: str, scheme: str, field: str) -> dict[str, str]:
    text = link.strip() if isinstance(link, str) else ""
    if not text.startswith(scheme) or len(text) > MAX_LINK:
        raise WalletRefused(
            field,
            f"{scheme} で始まるリンクを貼り付けてください。",
            f"Paste a link that starts with {scheme}",
            "link_invalid",
        )
    return {key: values[0] for key, values in parse_qs(urlsplit(text).query).items()}


def parse_offer(link: str, origin: str) -> CredentialOffer:
    """The offer in an ``openid-credential-offer://`` link, from ``origin`` only."""
    query = _link_query(link, OFFER_SCHEME, "offer")
    try:
        body = json.loads(query["credential_offer"])
        issuer = body["credential_issuer"]
        (configuration_id,) = body["credential_configuration_ids"]
        grant = body["grants"][PRE_AUTHORIZED_GRANT]
        code = grant["pre-authorized_code"]
    except (KeyError, ValueError, TypeError) as exc:
        raise WalletRefused(
            "offer",
            "証明書の発行案内（オファー）の形式が正しくありません。",
            "The credential offer is not valid.",
            "offer_invalid",
        ) from exc
    if issuer != origin:
        raise WalletRefused(
            "offer",
            f"このウォレットは {origin} が発行する証明書だけを受け取ります。",
            f"This wallet receives credentials from {origin} only.",
            "issuer_unknown",
        )
    tx = grant.get("tx_code")
    return CredentialOffer(
        issuer=issuer,
        configuration_id=str(configuration_id),
        pre_authorized_code=str(code),
        tx_code_length=tx.get("length") if isinstance(tx, dict) else None,
    )


def _json(answer: httpx.Response, field: str) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code >= 400 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        if error == "invalid_grant":
            raise WalletRefused(
                "tx_code",
                "確認コードが違うか、この案内はもう使えません。",
                "The transaction code is wrong, or this offer can no longer be used.",
                "invalid_grant",
            )
        raise WalletRefused(
            field,
            f"サーバーが受け付けませんでした（{answer.status_code}）。",
            f"The server refused ({answer.status_code}).",
            "server_refused",
        )
    return body


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def receive(http: httpx.Client, offer: CredentialOffer, tx_code: str) -> Received:
    """Redeem ``offer`` with ``tx_code``: a fresh holder key, its proof, the credential."""
    metadata = _json(http.get("/.well-known/openid-credential-issuer"), "offer")
    configuration = metadata["credential_configurations_supported"].get(offer.configuration_id)
    if configuration is None:
        raise WalletRefused(
            "offer",
            "発行者がこの種類の証明書を発行していません。",
            "The issuer does not issue this credential.",
            "offer_invalid",
        )
    server = _json(http.get("/.well-known/oauth-authorization-server/credentials"), "offer")
    token = _json(
        http.post(
            _path(server["token_endpoint"]),
            data={
                "grant_type": PRE_AUTHORIZED_GRANT,
                "pre-authorized_code": offer.pre_authorized_code,
                "tx_code": tx_code.strip(),
            },
        ),
        "tx_code",
    )
    nonce = _json(http.post(_path(metadata["nonce_endpoint"])), "offer")["c_nonce"]
    holder_key = ECKey.generate_key("P-256", private=True)
    proof = jwt.encode(
        {"alg": "ES256", "typ": PROOF_TYP, "jwk": holder_key.as_dict(private=False)},
        {"aud": offer.issuer, "iat": int(time.time()), "nonce": nonce},
        holder_key,
        algorithms=["ES256"],
    )
    issued = _json(
        http.post(
            _path(metadata["credential_endpoint"]),
            json={
                "credential_configuration_id": offer.configuration_id,
                "proofs": {"jwt": [proof]},
            },
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ),
        "offer",
    )
    credential = issued["credentials"][0]["credential"]
    _header, payload = sdjwt.peek(sdjwt.split(credential).issuer_jwt)
    display = {
        entry.get("locale", "")[:2]: entry.get("name", "")
        for entry in configuration.get("credential_metadata", {}).get("display", [])
    }
    return Received(
        credential=credential,
        holder_key=holder_key,
        credential_type=offer.configuration_id,
        vct=str(payload["vct"]),
        issuer=str(payload["iss"]),
        display_ja=display.get("ja", offer.configuration_id),
        display_en=display.get("en", offer.configuration_id),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )


def _request_refused() -> WalletRefused:
    return WalletRefused(
        "link",
        "検証者の提示要求の形式が正しくありません。",
        "The verifier's request is not valid.",
        "request_invalid",
    )


def fetch_request(http: httpx.Client, link: str, origin: str) -> VerifierRequest:
    """The request an ``openid4vp://`` link points to, fetched from ``origin`` only."""
    query = _link_query(link, REQUEST_SCHEME, "link")
    request_uri = query.get("request_uri", "")
    if not _under(request_uri, origin):
        raise WalletRefused(
            "link",
            f"このウォレットは {origin} にある提示要求だけを開きます。",
            f"This wallet opens requests served by {origin} only.",
            "request_elsewhere",
        )
    answer = http.get(_path(request_uri))
    if answer.status_code in (404, 409):
        raise WalletRefused(
            "link",
            "この提示要求は見つからないか、回答済みまたは期限切れです。",
            "This request does not exist, or has been answered or has expired.",
            "request_closed",
        )
    try:
        header_b64, body_b64, _signature = answer.text.split(".")
        header = json.loads(sdjwt.b64url_decode(header_b64))
        body = json.loads(sdjwt.b64url_decode(body_b64))
        (query_entry,) = body["dcql_query"]["credentials"]
        (vct,) = query_entry["meta"]["vct_values"]
        names = [claim["path"][0] for claim in query_entry["claims"]]
        party = body["kiban_relying_party"]
        response_uri = body["response_uri"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _request_refused() from exc
    # Unsigned requests are only for the redirect_uri: prefix, whose client id is the very
    # address the answer goes to; and that address must be the server's.
    if (
        answer.status_code != 200
        or header.get("alg") != "none"
        or body.get("client_id") != f"redirect_uri:{response_uri}"
        or query.get("client_id") != body.get("client_id")
        or body.get("response_mode") != "direct_post"
        or not _under(response_uri, origin)
        or body.get("exp", 0) < time.time()
    ):
        raise _request_refused()
    metadata = _json(http.get("/.well-known/openid-credential-issuer"), "link")
    credential_type, labels = "", {}
    for name, configuration in metadata["credential_configurations_supported"].items():
        if configuration.get("vct") == vct:
            credential_type = name
            for claim in configuration.get("credential_metadata", {}).get("claims", []):
                shown = {d.get("locale", "")[:2]: d.get("name", "") for d in claim["display"]}
                labels[claim["path"][0]] = shown
    return VerifierRequest(
        client_id=body["client_id"],
        response_uri=response_uri,
        nonce=body["nonce"],
        state=body["state"],
        query_id=str(query_entry["id"]),
        credential_type=credential_type,
        vct=vct,
        claims=tuple(
            AskedClaim(
                name,
                labels.get(name, {}).get("ja", name),
                labels.get(name, {}).get("en", name),
            )
            for name in names
        ),
        verifier=str(party["name"]),
        verifier_ja=str(party["display_ja"]),
        verifier_en=str(party["display_en"]),
        purpose_ja=str(party["purpose_ja"]),
        purpose_en=str(party["purpose_en"]),
    )


@dataclass(frozen=True)
class Answered:
    """The verifier's answer: ``verified``, or ``refused`` with its reason code and message
    (in the language asked)."""

    outcome: str
    reason: str | None
    message: str


def _answered(answer: httpx.Response) -> Answered:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 200 and isinstance(body, dict):
        return Answered(str(body.get("outcome", "verified")), None, "")
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code", ""))
        return Answered("refused", code.rsplit(".", 1)[-1], str(error.get("message", "")))
    return Answered("refused", None, f"HTTP {answer.status_code}")


def answer(
    http: httpx.Client,
    request: VerifierRequest,
    credential: str,
    holder_key: ECKey,
    claims: list[str],
    *,
    lang: str = "ja",
) -> Answered:
    """Present ``claims`` of ``credential`` to the verifier (KB-JWT for its nonce and
    client id), by ``direct_post``."""
    presentation = sdjwt.present(
        credential,
        holder_key,
        disclose=claims,
        nonce=request.nonce,
        audience=request.client_id,
        issued_at=int(time.time()),
    )
    sent = http.post(
        _path(request.response_uri),
        data={"state": request.state, "vp_token": json.dumps({request.query_id: [presentation]})},
        headers={"Accept-Language": lang},
    )
    return _answered(sent)


def decline(http: httpx.Client, request: VerifierRequest, *, lang: str = "ja") -> Answered:
    """Tell the verifier the person declined (``error=access_denied``); nothing is shown."""
    sent = http.post(
        _path(request.response_uri),
        data={"state": request.state, "error": "access_denied"},
        headers={"Accept-Language": lang},
    )
    return _answered(sent)
