"""The OpenID provider's statements on its hot paths: the authorization request, the card
sign-in, consent and the token endpoint. Private to the block.

Each is a Core statement compiled once per dialect and sent as driver SQL
(:class:`kiban.platform.statements.DriverStatement`, ADR 0037): on these paths SQLAlchemy's
ORM cost several times what the database does. The rows come back as small frozen records,
not ORM objects, so nothing here enters the session's identity map. Every write that must
happen once (consuming a challenge, completing a request, claiming a code) is a
compare-and-set whose matched row count the caller checks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

from kiban.blocks.identity.oidc_models import (
    OidcAccessToken,
    OidcAuthorization,
    OidcClient,
    OidcCode,
    OidcConsent,
)
from kiban.platform.statements import DriverStatement, Executor

_clients: Table = OidcClient.__table__  # type: ignore[assignment]
_authorizations: Table = OidcAuthorization.__table__  # type: ignore[assignment]
_codes: Table = OidcCode.__table__  # type: ignore[assignment]
_tokens: Table = OidcAccessToken.__table__  # type: ignore[assignment]
_consents: Table = OidcConsent.__table__  # type: ignore[assignment]


def _inserting(table: Table) -> ClauseElement:
    """``INSERT`` of every column of ``table``, each bound under its own name."""
    return insert(table).values({column.key: bindparam(column.key) for column in table.c})


# --- Clients ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientRow:
    """What the hot paths read of a registered client."""

    id: uuid.UUID
    client_id: str
    secret_hash: str | None
    auth_method: str
    name: str
    purpose: str
    allowed_scopes: list[Any]
    redirect_uris: list[Any]
    sector_identifier: str
    first_party: bool
    id_token_signed_response_alg: str


_CLIENT_COLUMNS = (
    _clients.c.id,
    _clients.c.client_id,
    _clients.c.secret_hash,
    _clients.c.auth_method,
    _clients.c.name,
    _clients.c.purpose,
    _clients.c.allowed_scopes,
    _clients.c.redirect_uris,
    _clients.c.sector_identifier,
    _clients.c.first_party,
    _clients.c.id_token_signed_response_alg,
)
_CLIENT_WIDTH = len(_CLIENT_COLUMNS)
_CLIENT = DriverStatement(
    select(*_CLIENT_COLUMNS).where(_clients.c.client_id == bindparam("client_id"))
)


def client_by_id(session: Executor, client_id: str) -> ClientRow | None:
    """The client registered as ``client_id``, read from the registry on every call (an
    operator's change to a registration applies to the next request in every process)."""
    row = _CLIENT.first(session, client_id=client_id)
    return None if row is None else ClientRow(*row)


# --- Authorization requests ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestRow:
    """An authorization request as the sign-in and consent steps read it."""

    id: uuid.UUID
    browser_binding: str
    status: str
    expires_at: datetime
    scopes: list[Any]
    challenge: str | None
    challenge_expires_at: datetime | None
    person_id: uuid.UUID | None
    redirect_uri: str
    state: str | None


_REQUEST_COLUMNS = (
    _authorizations.c.id,
    _authorizations.c.browser_binding,
    _authorizations.c.status,
    _authorizations.c.expires_at,
    _authorizations.c.scopes,
    _authorizations.c.challenge,
    _authorizations.c.challenge_expires_at,
    _authorizations.c.person_id,
    _authorizations.c.redirect_uri,
    _authorizations.c.state,
)
_REQUEST_WIDTH = len(_REQUEST_COLUMNS)
_REQUEST = DriverStatement(
    select(*_REQUEST_COLUMNS).where(_authorizations.c.id == bindparam("request_id"))
)
_REQUEST_WITH_CLIENT = DriverStatement(
    select(*_REQUEST_COLUMNS, *_CLIENT_COLUMNS)
    .join_from(_authorizations, _clients, _clients.c.id == _authorizations.c.client_pk)
    .where(_authorizations.c.id == bindparam("request_id"))
)


def request_by_id(session: Session, request_id: uuid.UUID) -> RequestRow | None:
    """The authorization request ``request_id``, or None."""
    row = _REQUEST.first(session, request_id=request_id)
    return None if row is None else RequestRow(*row)


def request_with_client(
    session: Executor, request_id: uuid.UUID
) -> tuple[RequestRow, ClientRow] | None:
    """The authorization request ``request_id`` and its client, in one statement."""
    row = _REQUEST_WITH_CLIENT.first(session, request_id=request_id)
    if row is None:
        return None
    return RequestRow(*row[:_REQUEST_WIDTH]), ClientRow(*row[_REQUEST_WIDTH:])


INSERT_REQUEST = DriverStatement(_inserting(_authorizations))

SET_CHALLENGE = DriverStatement(
    update(_authorizations)
    .where(_authorizations.c.id == bindparam("request_id"), _authorizations.c.status == "pending")
    .values(
        challenge=bindparam("new_challenge"),
        challenge_expires_at=bindparam("new_challenge_expires_at"),
        updated_at=bindparam("now"),
    )
)

# The card's answer consumes the challenge it signed: only the first answer to a challenge
# matches, however many arrive at once.
AUTHENTICATE = DriverStatement(
    update(_authorizations)
    .where(
        _authorizations.c.id == bindparam("request_id"),
        _authorizations.c.status == "pending",
        _authorizations.c.challenge == bindparam("answered_challenge"),
    )
    .values(
        challenge=None,
        challenge_expires_at=None,
        person_id=bindparam("new_person_id"),
        auth_time=bindparam("new_auth_time"),
        signing_certificate_pem=bindparam("new_signing_certificate_pem"),
        status="authenticated",
        updated_at=bindparam("now"),
    )
)

DROP_CHALLENGE = DriverStatement(
    update(_authorizations)
    .where(
        _authorizations.c.id == bindparam("request_id"),
        _authorizations.c.challenge == bindparam("answered_challenge"),
    )
    .values(challenge=None, challenge_expires_at=None, updated_at=bindparam("now"))
)

# Consent is decided once: the request moves from authenticated to completed or denied.
DECIDE = DriverStatement(
    update(_authorizations)
    .where(
        _authorizations.c.id == bindparam("request_id"),
        _authorizations.c.status == "authenticated",
    )
    .values(status=bindparam("new_status"), updated_at=bindparam("now"))
)


def _consent_upsert(dialect: Dialect) -> ClauseElement:
    """Remember what the resident agreed to share, touching the row only when it changed
    (one statement, and two first consents at once cannot collide on the unique key)."""
    module: Any = postgresql if dialect.name == "postgresql" else sqlite
    statement = module.insert(_consents).values(
        {column.key: bindparam(column.key) for column in _consents.c}
    )
    upsert: ClauseElement = statement.on_conflict_do_update(
        index_elements=[_consents.c.client_pk, _consents.c.person_id],
        set_={"scopes": statement.excluded.scopes, "updated_at": statement.excluded.updated_at},
        where=_consents.c.scopes.is_distinct_from(statement.excluded.scopes),
    )
    return upsert


REMEMBER_CONSENT = DriverStatement(_consent_upsert)
INSERT_CODE = DriverStatement(_inserting(_codes))


# --- Token endpoint -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeRow:
    """An authorization code with what its request bound it to."""

    id: uuid.UUID
    client_pk: uuid.UUID
    person_id: uuid.UUID
    scopes: list[Any]
    expires_at: datetime
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    auth_time: datetime | None


_CODE_COLUMNS = (
    _codes.c.id,
    _codes.c.client_pk,
    _codes.c.person_id,
    _codes.c.scopes,
    _codes.c.expires_at,
    _authorizations.c.redirect_uri,
    _authorizations.c.code_challenge,
    _authorizations.c.nonce,
    _authorizations.c.auth_time,
)
_CLIENT_AND_CODE = DriverStatement(
    select(*_CLIENT_COLUMNS, *_CODE_COLUMNS)
    .select_from(_clients)
    .outerjoin(_codes, _codes.c.code_hash == bindparam("code_hash"))
    .outerjoin(_authorizations, _authorizations.c.id == _codes.c.authorization_id)
    .where(_clients.c.client_id == bindparam("client_id"))
)


def client_and_code(
    session: Executor, client_id: str, code_hash: str
) -> tuple[ClientRow, CodeRow | None] | None:
    """The client ``client_id`` and the code whose hash is ``code_hash`` (whichever client it
    was issued to, or None), in one statement; None when there is no such client."""
    row = _CLIENT_AND_CODE.first(session, client_id=client_id, code_hash=code_hash)
    if row is None:
        return None
    client = ClientRow(*row[:_CLIENT_WIDTH])
    code = row[_CLIENT_WIDTH:]
    return client, (None if code[0] is None else CodeRow(*code))


CLAIM_CODE = DriverStatement(
    update(_codes)
    .where(_codes.c.id == bindparam("code_id"), _codes.c.used_at.is_(None))
    .values(used_at=bindparam("now"))
)
REVOKE_TOKENS = DriverStatement(
    update(_tokens)
    .where(_tokens.c.code_id == bindparam("code_id"), _tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
INSERT_TOKEN = DriverStatement(_inserting(_tokens))
