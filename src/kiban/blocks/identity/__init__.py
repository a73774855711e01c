"""Identity (公的個人認証 and sign-in): the card PKI, the OpenID Connect provider and business
accounts. The facade other blocks, the web layer and the CLI use.

Card PKI: a root CA and two issuing CAs (signing 署名用, authentication 利用者証明用) certify
RSA-2048 keys that the card (the virtual card reader) made; the server never sees a card's
private key. The resident register's events revoke certificates by the card rules (an address
or name change revokes the signing certificate, death both); CRLs and an OCSP responder publish
the status (``/pki/...``, see :mod:`kiban.blocks.identity.api`).

Error codes: ``identity.card_not_found`` (404), ``identity.card_exists`` (409),
``identity.card_not_active`` (409), ``identity.not_resident`` (409),
``identity.invalid_public_key`` (422), ``identity.certificate_invalid`` (401),
``identity.certificate_revoked`` (401), ``identity.certificate_expired`` (401),
``identity.signature_invalid`` (401), and ``residents.person_not_found`` (404) from the register.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from kiban.blocks.identity import business as _business
from kiban.blocks.identity import oidc as _oidc
from kiban.blocks.identity import oidc_clients as _oidc_clients
from kiban.blocks.identity import oidc_keys as _oidc_keys
from kiban.blocks.identity import oidc_tokens as _oidc_tokens
from kiban.blocks.identity import pki, service
from kiban.blocks.identity.business_models import (
    AccountStatus as BusinessAccountStatus,
)
from kiban.blocks.identity.business_models import (
    AccountType as BusinessAccountType,
)
from kiban.blocks.identity.business_schemas import (
    BusinessAccountRead,
    DelegationCreate,
    InvitationRedeem,
    MemberInvite,
    MemberInvited,
    PrimeApplicationContent,
    PrimeApplicationCreate,
)
from kiban.blocks.identity.events import (
    CARD_ISSUED,
    CARD_LOST,
    CERTIFICATE_ISSUED,
    CERTIFICATE_REVOKED,
    PIN_UNLOCK_AUTHORIZED,
)
from kiban.blocks.identity.models import CertificateKind
from kiban.blocks.identity.my_page import (
    MY_PAGE_TOKEN_ERRORS,
    MyPagePerson,
    require_my_page_person,
)
from kiban.blocks.identity.oidc_errors import AuthorizeError, OAuthError
from kiban.blocks.identity.oidc_schemas import (
    SCOPES,
    AccessTokenInfo,
    ClientCreate,
    ClientCreated,
    ClientRead,
    ConsentRequest,
    Scope,
    SectorCreate,
    SectorRead,
    SectorUpdate,
    SignInRequest,
    TokenResponse,
)
from kiban.blocks.identity.schemas import (
    BasicFour,
    CardRead,
    CertificateRead,
    VerifiedCertificate,
)

__all__ = [
    "CARD_ISSUED",
    "CARD_LOST",
    "CERTIFICATE_ISSUED",
    "CERTIFICATE_REVOKED",
    "PIN_UNLOCK_AUTHORIZED",
    "BasicFour",
    "CardRead",
    "CertificateKind",
    "CertificateRead",
    "VerifiedCertificate",
    "authorize_pin_unlock",
    "ca_chain_pem",
    "get_card",
    "get_card_by_number",
    "get_card_by_person",
    "issue_card",
    "reissue_certificate",
    "report_card_lost",
    "root_ca_pem",
    "verify_certificate",
    "verify_signature",
]


def issue_card(
    session: Session,
    person_id: uuid.UUID,
    *,
    auth_public_key: bytes,
    signing_public_key: bytes,
    actor: str,
) -> CardRead:
    """Issue a card to a resident: certify the two RSA-2048 public keys (DER
    SubjectPublicKeyInfo) the card made. ``identity.card_exists`` if the person already holds
    an active card; ``identity.not_resident``; ``identity.invalid_public_key``."""
    card = service.do_issue_card(
        session,
        person_id,
        auth_public_key=auth_public_key,
        signing_public_key=signing_public_key,
        actor=actor,
    )
    return service.to_read(session, card)


def reissue_certificate(
    session: Session,
    card_id: uuid.UUID,
    kind: CertificateKind,
    *,
    public_key: bytes,
    actor: str,
) -> CardRead:
    """Certify a new key pair of ``kind`` for an active card (PIN forgotten, or renewal after an
    address change); the previous certificate of that kind is revoked (superseded) if good."""
    card = service.do_reissue_certificate(
        session, card_id, CertificateKind(kind), public_key=public_key, actor=actor
    )
    return service.to_read(session, card)


def get_card(session: Session, card_id: uuid.UUID) -> CardRead:
    """A card and its current certificates; ``identity.card_not_found``."""
    return service.to_read(session, service.get_card(session, card_id))


def get_card_by_person(session: Session, person_id: uuid.UUID) -> CardRead | None:
    """The person's active card, else the card issued to them last, else ``None``."""
    card = service.get_card_by_person(session, person_id)
    return None if card is None else service.to_read(session, card)


def get_card_by_number(session: Session, card_number: str) -> CardRead:
    """The card with this 12-digit number; ``identity.card_not_found``."""
    return service.to_read(session, service.get_card_by_number(session, card_number))


def report_card_lost(session: Session, card_id: uuid.UUID, *, actor: str) -> CardRead:
    """The card was lost: it becomes ``lost`` and both certificates are revoked
    (keyCompromise). ``identity.card_not_active`` if it is not active."""
    return service.to_read(session, service.do_report_card_lost(session, card_id, actor=actor))


def verify_certificate(
    session: Session,
    certificate_der: bytes,
    *,
    kind: CertificateKind,
    at: datetime | None = None,
) -> VerifiedCertificate:
    """Check a card certificate (chain to the CA of ``kind``, key usage, registration here,
    validity period and revocation at ``at``). ``identity.certificate_invalid``,
    ``identity.certificate_revoked``, ``identity.certificate_expired`` (401, field
    ``certificate``)."""
    return service.verify_certificate(session, certificate_der, kind=CertificateKind(kind), at=at)


def verify_signature(
    session: Session,
    certificate_der: bytes,
    data: bytes,
    signature: bytes,
    *,
    kind: CertificateKind,
) -> VerifiedCertificate:
    """As :func:`verify_certificate`, then the RSA PKCS#1 v1.5 SHA-256 ``signature`` over
    ``data``: ``identity.signature_invalid`` (401, field ``signature``)."""
    return service.verify_signature(
        session, certificate_der, data, signature, kind=CertificateKind(kind)
    )


def authorize_pin_unlock(
    session: Session, card_id: uuid.UUID, kind: CertificateKind, *, actor: str
) -> str:
    """An official unlocks a locked PIN: a compact JWS (RS256, signed by the issuing CA of
    ``kind``) with claims ``card_number, kind, jti, iat, exp (+10 min), purpose="pin-unlock"``
    that the card reader checks against the CA certificate it holds. Audited."""
    return service.do_authorize_pin_unlock(session, card_id, CertificateKind(kind), actor=actor)


def ca_chain_pem(kind: CertificateKind) -> str:
    """The issuing CA certificate of ``kind`` followed by the root's, PEM."""
    return pki.chain_pem(CertificateKind(kind))


def root_ca_pem() -> str:
    """The root CA certificate, PEM."""
    return pki.get_ca("root").pem


# --- OpenID Connect provider ------------------------------------------------------------------
# Sign-in with the card for residents and relying parties (authorization code + PKCE S256,
# pairwise subjects, RS256 or ES256 ID tokens). Protocol errors are ``OAuthError`` (RFC 6749
# codes); registry errors ``identity.client_invalid`` (422), ``identity.client_exists`` (409),
# ``identity.client_not_found`` (404); approved sectors (Core §8.1) ``identity.sector_invalid``
# (422), ``identity.sector_exists`` (409), ``identity.sector_not_found`` (404); sign-in pages
# ``identity.signin_not_found`` (404), ``identity.signin_expired`` (401),
# ``identity.card_response_invalid`` (401) besides the card PKI's verification codes. See
# kiban.blocks.identity.oidc for the flow and kiban.blocks.identity.oidc_clients for sectors.

PORTAL_CLIENT_ID = _oidc_clients.PORTAL_CLIENT_ID
register_client = _oidc_clients.do_register_client
ensure_portal_client = _oidc_clients.do_ensure_portal_client
ensure_office_client = _oidc_clients.do_ensure_office_client
OFFICE_CLIENT_ID = _oidc_clients.OFFICE_CLIENT_ID
list_clients = _oidc_clients.list_clients
get_client = _oidc_clients.get_client
approve_sector = _oidc_clients.do_approve_sector
update_sector = _oidc_clients.do_update_sector
list_sectors = _oidc_clients.list_sectors
get_sector = _oidc_clients.get_sector
oidc_issuer = _oidc_clients.issuer
oidc_discovery = _oidc.discovery
oidc_jwks = _oidc_keys.jwks
pairwise_subject = _oidc_keys.pairwise_subject
new_browser_binding = _oidc.new_browser_binding
start_authorization = _oidc.start_authorization
authorize_error_location = _oidc.authorize_error_location
begin_card_sign_in = _oidc.begin_card_sign_in
cancel_authorization = _oidc.cancel_authorization
complete_card_sign_in = _oidc.complete_card_sign_in
get_consent_request = _oidc.get_consent_request
decide_consent = _oidc.decide_consent
exchange_code = _oidc_tokens.exchange_code
decode_id_token = _oidc_tokens.decode_id_token
authenticate_access_token = _oidc_tokens.authenticate_access_token
userinfo = _oidc_tokens.userinfo

__all__ += [
    "MY_PAGE_TOKEN_ERRORS",
    "OFFICE_CLIENT_ID",
    "PORTAL_CLIENT_ID",
    "SCOPES",
    "AccessTokenInfo",
    "AuthorizeError",
    "ClientCreate",
    "ClientCreated",
    "ClientRead",
    "ConsentRequest",
    "MyPagePerson",
    "OAuthError",
    "Scope",
    "SectorCreate",
    "SectorRead",
    "SectorUpdate",
    "SignInRequest",
    "TokenResponse",
    "approve_sector",
    "authenticate_access_token",
    "authorize_error_location",
    "begin_card_sign_in",
    "cancel_authorization",
    "complete_card_sign_in",
    "decide_consent",
    "decode_id_token",
    "ensure_office_client",
    "ensure_portal_client",
    "exchange_code",
    "get_client",
    "get_consent_request",
    "get_sector",
    "list_clients",
    "list_sectors",
    "new_browser_binding",
    "oidc_discovery",
    "oidc_issuer",
    "oidc_jwks",
    "pairwise_subject",
    "register_client",
    "require_my_page_person",
    "start_authorization",
    "update_sector",
    "userinfo",
]


# --- Business accounts (GビズID-like) ------------------------------------------------------------
# A prime account per corporation, verified with the representative's signing certificate;
# member accounts the prime invites (one-time codes) and removes; procedures delegated to
# members. Error codes: identity.business_* (see kiban.blocks.identity.business_errors).

BUSINESS_ACCOUNT_CREATED = _business.ACCOUNT_CREATED
BUSINESS_ACCOUNT_INVITED = _business.ACCOUNT_INVITED
BUSINESS_ACCOUNT_ACTIVATED = _business.ACCOUNT_ACTIVATED
BUSINESS_ACCOUNT_REMOVED = _business.ACCOUNT_REMOVED
BUSINESS_ACCOUNT_DELEGATED = _business.ACCOUNT_DELEGATED
BUSINESS_ACCOUNT_DELEGATION_REVOKED = _business.ACCOUNT_DELEGATION_REVOKED
prime_application_bytes = _business.prime_application_bytes
prime_application_challenge = _business.prime_application_challenge
apply_prime_account = _business.apply_prime_account
invite_member = _business.invite_member
redeem_invitation = _business.redeem_invitation
remove_member = _business.remove_member
delegate_procedure = _business.delegate_procedure
revoke_delegation = _business.revoke_delegation
list_business_accounts = _business.list_business_accounts
list_corporation_accounts = _business.list_corporation_accounts
is_delegated = _business.is_delegated
business_claims = _business.business_claims

__all__ += [
    "BUSINESS_ACCOUNT_ACTIVATED",
    "BUSINESS_ACCOUNT_CREATED",
    "BUSINESS_ACCOUNT_DELEGATED",
    "BUSINESS_ACCOUNT_DELEGATION_REVOKED",
    "BUSINESS_ACCOUNT_INVITED",
    "BUSINESS_ACCOUNT_REMOVED",
    "BusinessAccountRead",
    "BusinessAccountStatus",
    "BusinessAccountType",
    "DelegationCreate",
    "InvitationRedeem",
    "MemberInvite",
    "MemberInvited",
    "PrimeApplicationContent",
    "PrimeApplicationCreate",
    "apply_prime_account",
    "business_claims",
    "delegate_procedure",
    "invite_member",
    "is_delegated",
    "list_business_accounts",
    "list_corporation_accounts",
    "prime_application_bytes",
    "prime_application_challenge",
    "redeem_invitation",
    "remove_member",
    "revoke_delegation",
]
