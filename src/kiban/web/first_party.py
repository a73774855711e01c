"""The start of a first party's sign-in (the portal's and the office's): an authorization code
request with PKCE (S256) to kiban's own OpenID provider, and the secrets the callback checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from kiban.blocks import identity
from kiban.platform import i18n


@dataclass(frozen=True)
class AuthorizationStart:
    """Where to send the browser, and what the callback must find again (kept in a cookie)."""

    url: str
    state: str
    nonce: str
    verifier: str


def start_authorization(client: identity.ClientRead, lang: i18n.Language) -> AuthorizationStart:
    """A fresh authorization request of ``client`` (its first redirect URI, all its scopes)."""
    state, nonce, verifier = (secrets.token_urlsafe(n) for n in (24, 24, 48))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uris[0],
            "scope": " ".join(client.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode("ascii"),
            "code_challenge_method": "S256",
            "ui_locales": lang,
        }
    )
    return AuthorizationStart(f"/oidc/authorize?{query}", state, nonce, verifier)
