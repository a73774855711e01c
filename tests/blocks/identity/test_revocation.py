"""Revocation by the card rules, and its publication through CRLs and OCSP over HTTP."""

from __future__ import annotations

import base64
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import OCSPExtensionOID
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kiban.blocks import address, identity, residents
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import events
from kiban.platform.models import AuditEntry, OutboxEvent
from tests.blocks.identity.conftest import (
    OFFICIAL,
    IssuedCard,
    TestClient,
    move_to,
    new_key,
    settle,
    spki,
)

AUTH = identity.CertificateKind.AUTH
SIGNING = identity.CertificateKind.SIGNING


def _card(session: Session, issued: IssuedCard) -> identity.CardRead:
    session.expire_all()
    return identity.get_card(session, issued.card.id)


def _revocation_events(session: Session) -> list[dict[str, object]]:
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.topic == identity.CERTIFICATE_REVOKED)
        .order_by(OutboxEvent.created_at)
    )
    return [dict(r.payload) for r in rows]


def test_address_change_revokes_the_signing_certificate_only(
    session: Session,
    engine: Engine,
    issued: IssuedCard,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    move_to(session, resident, towns["kudan"], "5番6号")
    settle(engine)
    card = _card(session, issued)
    assert card.status == "active"
    assert card.auth_certificate.status == "good"
    assert card.signing_certificate.status == "revoked"
    assert card.signing_certificate.revocation_reason == "affiliationChanged"
    assert _revocation_events(session) == [
        {
            "card_id": str(card.id),
            "serial": card.signing_certificate.serial,
            "kind": "signing",
            "reason": "affiliationChanged",
        }
    ]
    # A renewed signing certificate carries the new address.
    renewed = identity.reissue_certificate(
        session, card.id, SIGNING, public_key=spki(new_key()), actor=OFFICIAL
    )
    session.commit()
    der = x509.load_pem_x509_certificate(renewed.signing_certificate.pem.encode()).public_bytes(
        serialization.Encoding.DER
    )
    four = identity.verify_certificate(session, der, kind=SIGNING).basic_four
    assert four is not None
    assert "九段北" in four.address
    # The revoked one stays revoked (superseding does not touch it again).
    assert _revocation_events(session)[-1]["serial"] == card.signing_certificate.serial


def test_name_change_revokes_the_signing_certificate_only(
    session: Session, engine: Engine, issued: IssuedCard, resident: residents.PersonRead
) -> None:
    residents.change_name(
        session,
        resident.id,
        residents.NameChangeCreate(
            family_name="佐藤",
            given_name="花子",
            family_name_kana="サトウ",
            given_name_kana="ハナコ",
            effective_on=clock.today_jst(),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    settle(engine)
    card = _card(session, issued)
    assert (card.auth_certificate.status, card.signing_certificate.status) == ("good", "revoked")


def test_moving_out_keeps_the_card_and_moving_in_revokes_signing(
    session: Session,
    engine: Engine,
    issued: IssuedCard,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    today = clock.today_jst()
    residents.move_out(
        session,
        resident.id,
        residents.MoveOutCreate(moved_on=today, destination="北海道札幌市中央区"),
        actor=OFFICIAL,
    )
    session.commit()
    settle(engine)
    # As with a real card, the certificates stay valid between the two notices.
    card = _card(session, issued)
    assert (card.auth_certificate.status, card.signing_certificate.status) == ("good", "good")
    kudan = towns["kudan"]
    residents.move_in(
        session,
        resident.id,
        residents.MoveInCreate(
            moved_on=today,
            address=residents.AddressInput(
                town_id=kudan.id, chome=1 if kudan.has_chome else None, block_number="7番"
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    settle(engine)
    card = _card(session, issued)
    assert (card.auth_certificate.status, card.signing_certificate.status) == ("good", "revoked")
    assert card.signing_certificate.revocation_reason == "affiliationChanged"


def test_death_revokes_the_card_and_both_certificates(
    session: Session, engine: Engine, issued: IssuedCard, resident: residents.PersonRead
) -> None:
    residents.record_death(
        session, resident.id, residents.DeathCreate(died_on=clock.today_jst()), actor=OFFICIAL
    )
    session.commit()
    settle(engine)
    card = _card(session, issued)
    assert card.status == "revoked"
    assert card.auth_certificate.revocation_reason == "cessationOfOperation"
    assert card.signing_certificate.revocation_reason == "cessationOfOperation"
    # Nobody issues a card to a deceased person.
    with pytest.raises(KibanError) as caught:
        identity.issue_card(
            session,
            resident.id,
            auth_public_key=spki(new_key()),
            signing_public_key=spki(new_key()),
            actor=OFFICIAL,
        )
    assert caught.value.code == "identity.not_resident"


def test_loss_revokes_both_and_a_new_card_can_be_issued(
    session: Session, issued: IssuedCard, resident: residents.PersonRead
) -> None:
    lost = identity.report_card_lost(session, issued.card.id, actor=OFFICIAL)
    session.commit()
    assert lost.status == "lost"
    assert lost.auth_certificate.revocation_reason == "keyCompromise"
    assert lost.signing_certificate.revocation_reason == "keyCompromise"
    with pytest.raises(KibanError) as caught:
        identity.report_card_lost(session, issued.card.id, actor=OFFICIAL)
    assert (caught.value.code, caught.value.status) == ("identity.card_not_active", 409)
    session.rollback()
    replacement = identity.issue_card(
        session,
        resident.id,
        auth_public_key=spki(new_key()),
        signing_public_key=spki(new_key()),
        actor=OFFICIAL,
    )
    session.commit()
    assert replacement.card_number != issued.card.card_number
    assert identity.get_card_by_person(session, resident.id) == replacement
    assert identity.get_card_by_number(session, issued.card.card_number).status == "lost"


def test_a_redelivered_event_changes_nothing(
    session: Session,
    engine: Engine,
    issued: IssuedCard,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    move_to(session, resident, towns["kudan"], "5番6号")
    settle(engine)
    first = _card(session, issued).signing_certificate
    audit_count = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    # The same kind of event again (another delivery under a new id, e.g. a replay).
    event = session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == residents.ADDRESS_CHANGED)
    ).one()
    replay = events.Event.from_row(event)
    for subscription in events.subscriptions():
        if subscription.wants(replay.topic) and subscription.consumer.startswith("identity."):
            with session.begin_nested():
                subscription.handler(session, replay)
    session.commit()
    assert _card(session, issued).signing_certificate == first
    assert (
        session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
        == audit_count
    )
    assert len(_revocation_events(session)) == 1


# --- CRL ---------------------------------------------------------------------------------------


def test_crl_lists_revoked_serials_with_reasons(
    session: Session,
    engine: Engine,
    client: TestClient,
    issued: IssuedCard,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    empty = x509.load_der_x509_crl(client.get("/pki/crl/signing.crl").content)
    assert len(empty) == 0
    move_to(session, resident, towns["kudan"], "5番6号")
    settle(engine)

    response = client.get("/pki/crl/signing.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    ca = x509.load_pem_x509_certificate(client.get("/pki/ca/signing.pem").content)
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.subject
    assert crl.next_update_utc is not None
    assert crl.next_update_utc > crl.last_update_utc
    serial = int(issued.card.signing_certificate.serial, 16)
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.affiliation_changed
    # The authentication CA's CRL stays empty: that certificate was not revoked.
    assert len(x509.load_der_x509_crl(client.get("/pki/crl/auth.crl").content)) == 0


def test_ca_certificates_are_served_as_pem_and_der(client: TestClient) -> None:
    root_pem = client.get("/pki/ca/root.pem")
    assert root_pem.status_code == 200
    root = x509.load_pem_x509_certificate(root_pem.content)
    assert root.public_bytes(serialization.Encoding.PEM).decode() == identity.root_ca_pem()
    auth_der = client.get("/pki/ca/auth.crt")
    assert auth_der.headers["content-type"] == "application/pkix-cert"
    x509.load_der_x509_certificate(auth_der.content).verify_directly_issued_by(root)
    assert client.get("/pki/ca/other.pem").status_code == 422


# --- OCSP --------------------------------------------------------------------------------------


def _request(
    certificate: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1())  # noqa: S303 - OCSP CertID default, as openssl sends it.
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _ask(client: TestClient, kind: str, request: bytes, *, get: bool = False) -> ocsp.OCSPResponse:
    if get:
        path = urllib.parse.quote(base64.b64encode(request).decode(), safe="")
        response = client.get(f"/pki/ocsp/{kind}/{path}")
    else:
        response = client.post(
            f"/pki/ocsp/{kind}",
            content=request,
            headers={"content-type": "application/ocsp-request"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


def test_ocsp_answers_good_then_revoked_and_unknown(
    session: Session,
    engine: Engine,
    client: TestClient,
    issued: IssuedCard,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    signing = x509.load_pem_x509_certificate(issued.card.signing_certificate.pem.encode())
    auth = x509.load_pem_x509_certificate(issued.card.auth_certificate.pem.encode())
    signing_ca = x509.load_pem_x509_certificate(client.get("/pki/ca/signing.pem").content)
    auth_ca = x509.load_pem_x509_certificate(client.get("/pki/ca/auth.pem").content)

    answer = _ask(client, "signing", _request(signing, signing_ca, nonce=b"0123456789abcdef"))
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == signing.serial_number
    assert answer.next_update_utc is not None
    # Signed by the issuing CA itself, and the nonce comes back.
    ca_key = signing_ca.public_key()
    assert isinstance(ca_key, rsa.RSAPublicKey)
    ca_key.verify(answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256())
    nonce = answer.extensions.get_extension_for_oid(OCSPExtensionOID.NONCE).value
    assert nonce.nonce == b"0123456789abcdef"  # type: ignore[attr-defined]

    move_to(session, resident, towns["kudan"], "5番6号")
    settle(engine)

    for get in (False, True):
        revoked = _ask(client, "signing", _request(signing, signing_ca), get=get)
        assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert revoked.revocation_reason is x509.ReasonFlags.affiliation_changed
        still_good = _ask(client, "auth", _request(auth, auth_ca), get=get)
        assert still_good.certificate_status is ocsp.OCSPCertStatus.GOOD

    # A serial the CA never issued is unknown.
    stranger = (
        x509.CertificateBuilder()
        .subject_name(signing.subject)
        .issuer_name(signing_ca.subject)
        .public_key(new_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(signing.not_valid_before_utc)
        .not_valid_after(signing.not_valid_after_utc)
        .sign(new_key(), hashes.SHA256())
    )
    unknown = _ask(client, "signing", _request(stranger, signing_ca))
    assert unknown.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def test_ocsp_refuses_garbage_and_other_issuers(client: TestClient, issued: IssuedCard) -> None:
    malformed = _ask(client, "auth", b"not an ocsp request")
    assert malformed.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    auth = x509.load_pem_x509_certificate(issued.card.auth_certificate.pem.encode())
    auth_ca = x509.load_pem_x509_certificate(client.get("/pki/ca/auth.pem").content)
    # The signing responder does not answer for the authentication CA.
    wrong = _ask(client, "signing", _request(auth, auth_ca))
    assert wrong.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
