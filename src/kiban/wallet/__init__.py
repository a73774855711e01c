"""The holder wallet: a separate local program that holds SD-JWT VC credentials for a resident.

- :class:`WalletStore` (``kiban.wallet.store``): credentials with their holder keys sealed
  under the PIN (scrypt, AES-256-GCM), and the log of presentations;
- ``kiban.wallet.client``: OpenID4VCI (pre-authorized code with a transaction code) and
  OpenID4VP (request by reference, ``direct_post``) against the kiban server, over HTTP;
- ``kiban.wallet.app.create_wallet_app``: the wallet's pages (``kiban wallet serve``).

Like the card reader it never imports kiban's blocks or web layer: it builds presentations with
``kiban.platform.sdjwt`` and talks to kiban only over HTTP (docs/adr/0032-holder-wallet.md).
"""

from kiban.wallet.client import (
    Answered,
    CredentialOffer,
    Received,
    VerifierRequest,
    WalletRefused,
    answer,
    decline,
    fetch_request,
    parse_offer,
    receive,
)
from kiban.wallet.store import (
    HeldCredential,
    HeldCredentialNotFound,
    Presentation,
    WalletAlreadySetUp,
    WalletNotSetUp,
    WalletPinInvalid,
    WalletStore,
    WrongWalletPin,
)

__all__ = [
    "Answered",
    "CredentialOffer",
    "HeldCredential",
    "HeldCredentialNotFound",
    "Presentation",
    "Received",
    "VerifierRequest",
    "WalletAlreadySetUp",
    "WalletNotSetUp",
    "WalletPinInvalid",
    "WalletRefused",
    "WalletStore",
    "WrongWalletPin",
    "answer",
    "decline",
    "fetch_request",
    "parse_offer",
    "receive",
]
