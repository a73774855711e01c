"""Business accounts: a prime account proven with the representative's card, members invited
and removed by the prime, delegated procedures, and the ``business`` claim."""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kiban.blocks import address, corporations, identity, residents
from kiban.blocks.identity.business_models import BusinessAccount
from kiban.cardreader.client import sign_challenge
from kiban.cardreader.store import CardStore
from kiban.cli.card import issue_into
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import audit, db
from kiban.platform.models import AuditEntry, OutboxEvent
from tests.blocks.identity.conftest import CORPORATE_NUMBER as NUMBER
from tests.blocks.identity.conftest import OFFICIAL, IssuedCard, settle

OTHER_NUMBER = "7660487647593"
SIGNING_PIN = "ABC123"
PROCEDURE = "subsidy.it_introduction"


def register_corporation(
    session: Session,
    town: address.TownRead,
    *,
    number: str = NUMBER,
    representative: str = "山田　花子",
    chome: int | None = 1,
) -> corporations.CorporationRead:
    """A corporation whose registered representative lives at ``town`` (chome 1, 2番3号)."""
    corporation = corporations.register_corporation(
        session,
        corporations.CorporationCreate(
            corporate_number=number,
            name="株式会社基盤テック",
            name_kana="キバンテック",
            head_office=corporations.AddressInput(town_id=town.id, chome=1, block_number="1-1"),
            representative=corporations.RepresentativeInput(
                name=representative,
                address=corporations.AddressInput(
                    town_id=town.id, chome=chome, block_number="2番3号"
                ),
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    return corporation


def content(number: str = NUMBER, **changes: object) -> identity.PrimeApplicationContent:
    values: dict[str, object] = {
        "corporate_number": number,
        "display_name": "山田　花子",
        "email": "hanako@example.jp",
        "nonce": secrets.token_urlsafe(16),
        "signed_at": int(clock.now().timestamp()),
    }
    return identity.PrimeApplicationContent.model_validate(values | changes)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed(
    card: IssuedCard,
    application: identity.PrimeApplicationContent,
    *,
    key: rsa.RSAPrivateKey | None = None,
) -> identity.PrimeApplicationCreate:
    """The application signed with the card's signing key (as the reader does after the PIN)."""
    signature = (key or card.signing_key).sign(
        identity.prime_application_bytes(application), padding.PKCS1v15(), hashes.SHA256()
    )
    return identity.PrimeApplicationCreate(
        application=application,
        certificate=card.card.signing_certificate.pem,
        signature=b64url(signature),
    )


def apply(
    session: Session, card: IssuedCard, application: identity.PrimeApplicationContent
) -> identity.BusinessAccountRead:
    account = identity.apply_prime_account(
        session, signed(card, application), person_id=card.card.person_id, actor="test"
    )
    session.commit()
    return account


def refused(session: Session, call: object, *args: object, **kwargs: object) -> KibanError:
    assert callable(call)
    with pytest.raises(KibanError) as caught:
        call(*args, **kwargs)
    session.rollback()
    return caught.value


def accounts(session: Session) -> list[BusinessAccount]:
    return list(session.scalars(select(BusinessAccount)))


def test_the_representative_applies_with_the_card_in_the_reader(
    session: Session,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
    tmp_path: Path,
) -> None:
    # Given a card made by the reader and issued to the resident who represents the company,
    store = CardStore(tmp_path / "cards")
    card = issue_into(
        session, store, resident.id, auth_pin="1234", signing_pin=SIGNING_PIN, actor=OFFICIAL
    )
    session.commit()
    # registered with the name spaced differently than on the register,
    corporation = register_corporation(session, towns["marunouchi"], representative="山田 花子")

    # when the reader signs the application's challenge with both keys after the PINs, as it
    # signs a sign-in's challenge,
    application = content()
    challenge = identity.prime_application_challenge(application)
    assert challenge.startswith("kiban-business-prime.")
    fields = sign_challenge(
        store,
        card.card_number,
        {"auth": "1234", "signing": SIGNING_PIN},
        challenge,
        ["auth", "signing"],
    )
    account = identity.apply_prime_account(
        session,
        identity.PrimeApplicationCreate(
            application=application,
            certificate=fields["signing_certificate"],
            signature=fields["signing_signature"],
        ),
        person_id=resident.id,
        actor=f"person:{resident.id}",
    )
    session.commit()

    # then the corporation has its prime account, held by the certificate's holder.
    assert account.account_type is identity.BusinessAccountType.PRIME
    assert account.status is identity.BusinessAccountStatus.ACTIVE
    assert account.corporation_id == corporation.id
    assert account.corporation_name == "株式会社基盤テック"
    assert account.role == "代表取締役"
    assert [a.person_id for a in accounts(session)] == [resident.id]
    assert identity.list_business_accounts(session, resident.id) == [account]
    assert identity.business_claims(session, resident.id) == {
        "accounts": [
            {
                "corporate_number": NUMBER,
                "corporation_name": "株式会社基盤テック",
                "account_type": "prime",
                "role": "代表取締役",
            }
        ]
    }
    tags = set(session.scalars(select(AuditEntry.tag)))
    assert "identity:business_account:prime_created" in tags
    topics = set(session.scalars(select(OutboxEvent.topic)))
    assert identity.BUSINESS_ACCOUNT_CREATED in topics
    assert audit.verify(session).ok


def test_a_certificate_of_someone_else_than_the_representative_is_refused(
    session: Session, issued: IssuedCard, towns: dict[str, address.TownRead]
) -> None:
    register_corporation(session, towns["marunouchi"], representative="山田　太郎")
    register_corporation(session, towns["kudan"], number=OTHER_NUMBER)

    name = refused(session, apply, session, issued, content())
    assert (name.code, name.status) == ("identity.business_representative_mismatch", 403)
    assert name.field == "representative.name"

    place = refused(session, apply, session, issued, content(OTHER_NUMBER))
    assert (place.code, place.field) == (
        "identity.business_representative_mismatch",
        "representative.address",
    )
    assert accounts(session) == []


def test_the_town_is_enough_when_the_registered_chome_differs(
    session: Session, issued: IssuedCard, towns: dict[str, address.TownRead]
) -> None:
    # The resident lives in 丸の内一丁目; the register has the representative in 丸の内三丁目.
    register_corporation(session, towns["marunouchi"], chome=3)
    assert apply(session, issued, content()).account_type is identity.BusinessAccountType.PRIME


def test_a_signing_certificate_revoked_by_a_move_is_refused(
    session: Session,
    engine: Engine,
    issued: IssuedCard,
    resident: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    register_corporation(session, towns["marunouchi"])
    # Given the representative moved within the ward, which revokes the signing certificate,
    residents.move_within(
        session,
        resident.id,
        residents.MoveWithinCreate(
            moved_on=clock.today_jst(),
            address=residents.AddressInput(
                town_id=towns["kudan"].id, chome=2, block_number="2番3号"
            ),
        ),
        actor=OFFICIAL,
    )
    session.commit()
    settle(engine)

    # then an application signed with the old signing key is refused.
    error = refused(session, apply, session, issued, content())
    assert (error.code, error.status, error.field) == (
        "identity.certificate_revoked",
        401,
        "certificate",
    )
    assert accounts(session) == []


def test_signature_time_nonce_and_holder_are_checked(
    session: Session,
    issued: IssuedCard,
    member: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    register_corporation(session, towns["marunouchi"])
    register_corporation(session, towns["marunouchi"], number=OTHER_NUMBER)
    application = content()

    # A signature over other bytes (the e-mail changed after signing) is refused,
    tampered = signed(issued, application).model_copy(
        update={"application": application.model_copy(update={"email": "mallory@example.jp"})}
    )
    error = refused(
        session, identity.apply_prime_account, session, tampered, person_id=None, actor="t"
    )
    assert (error.code, error.field) == ("identity.signature_invalid", "signature")
    # and so is a signature made with another key.
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = signed(issued, application, key=other_key)
    error = refused(
        session, identity.apply_prime_account, session, forged, person_id=None, actor="t"
    )
    assert error.code == "identity.signature_invalid"

    # An old signature is stale,
    stale = content(signed_at=int((clock.now() - timedelta(hours=1)).timestamp()))
    error = refused(session, apply, session, issued, stale)
    assert (error.code, error.field) == (
        "identity.business_application_invalid",
        "application.signed_at",
    )
    # the signed-in person must be the certificate's holder,
    error = refused(
        session,
        identity.apply_prime_account,
        session,
        signed(issued, application),
        person_id=member.id,
        actor="t",
    )
    assert (error.code, error.status) == ("identity.business_not_certificate_holder", 403)
    # an unknown or malformed corporate number names its field,
    error = refused(session, apply, session, issued, content("4011001098994"))
    assert error.field == "application.corporate_number"

    # and a nonce is good for one application only.
    apply(session, issued, application)
    replay = content(OTHER_NUMBER, nonce=application.nonce)
    error = refused(session, apply, session, issued, replay)
    assert (error.code, error.status) == ("identity.business_nonce_reused", 409)
    # One prime account per corporation.
    error = refused(session, apply, session, issued, content())
    assert (error.code, error.status) == ("identity.business_prime_exists", 409)
    assert len(accounts(session)) == 1


def test_the_prime_invites_a_member_who_redeems_and_is_removed(
    session: Session,
    issued: IssuedCard,
    member: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    register_corporation(session, towns["marunouchi"])
    prime = apply(session, issued, content())
    prime_person = issued.card.person_id

    # The prime invites a member,
    invited = identity.invite_member(
        session,
        NUMBER,
        identity.MemberInvite(
            display_name="佐藤　一郎", email="ichiro@example.jp", role="経理担当"
        ),
        person_id=prime_person,
        actor="t",
    )
    session.commit()
    assert invited.account.status is identity.BusinessAccountStatus.INVITED
    assert invited.invitation_expires_at > clock.now()
    assert identity.business_claims(session, member.id) is None

    # who redeems the one-time code after signing in with their own card,
    account = identity.redeem_invitation(
        session, invited.invitation_code, person_id=member.id, actor="t"
    )
    session.commit()
    assert account.status is identity.BusinessAccountStatus.ACTIVE
    assert account.account_type is identity.BusinessAccountType.MEMBER
    assert identity.list_business_accounts(session, member.id) == [account]
    again = refused(
        session,
        identity.redeem_invitation,
        session,
        invited.invitation_code,
        person_id=member.id,
        actor="t",
    )
    assert (again.code, again.field) == ("identity.business_invitation_invalid", "invitation_code")

    # A member may neither invite nor remove nor list,
    invite = identity.MemberInvite(display_name="鈴木　次郎", email="jiro@example.jp")
    error = refused(
        session, identity.invite_member, session, NUMBER, invite, person_id=member.id, actor="t"
    )
    assert (error.code, error.status) == ("identity.business_prime_required", 403)
    error = refused(
        session, identity.remove_member, session, NUMBER, account.id, person_id=member.id, actor="t"
    )
    assert error.code == "identity.business_prime_required"
    error = refused(
        session, identity.list_corporation_accounts, session, NUMBER, person_id=member.id
    )
    assert error.code == "identity.business_prime_required"

    # the prime lists both accounts and removes the member: the row stays, deactivated.
    listed = identity.list_corporation_accounts(session, NUMBER, person_id=prime_person)
    assert [a.id for a in listed] == [prime.id, account.id]
    removed = identity.remove_member(session, NUMBER, account.id, person_id=prime_person, actor="t")
    session.commit()
    assert removed.status is identity.BusinessAccountStatus.REMOVED
    assert removed.removed_at is not None
    assert identity.business_claims(session, member.id) is None
    assert len(identity.list_corporation_accounts(session, NUMBER, person_id=prime_person)) == 2
    error = refused(
        session,
        identity.remove_member,
        session,
        NUMBER,
        prime.id,
        person_id=prime_person,
        actor="t",
    )
    assert (error.code, error.field) == ("identity.business_account_not_found", "account_id")

    tags = list(session.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)))
    assert [t for t in tags if t.startswith("identity:business_account:")] == [
        "identity:business_account:prime_created",
        "identity:business_account:member_invited",
        "identity:business_account:member_activated",
        "identity:business_account:member_removed",
    ]


def test_an_expired_or_unknown_invitation_is_refused(
    session: Session,
    issued: IssuedCard,
    member: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    register_corporation(session, towns["marunouchi"])
    apply(session, issued, content())
    invited = identity.invite_member(
        session,
        NUMBER,
        identity.MemberInvite(display_name="佐藤　一郎", email="ichiro@example.jp"),
        person_id=issued.card.person_id,
        actor="t",
    )
    session.execute(
        update(BusinessAccount)
        .where(BusinessAccount.id == invited.account.id)
        .values(invitation_expires_at=clock.now() - timedelta(seconds=1))
    )
    session.commit()

    error = refused(
        session,
        identity.redeem_invitation,
        session,
        invited.invitation_code,
        person_id=member.id,
        actor="t",
    )
    assert (error.code, error.field) == ("identity.business_invitation_expired", "invitation_code")
    error = refused(
        session, identity.redeem_invitation, session, "nope", person_id=member.id, actor="t"
    )
    assert error.code == "identity.business_invitation_invalid"
    # The prime cannot redeem an invitation into a corporation they already belong to.
    session.execute(
        update(BusinessAccount)
        .where(BusinessAccount.id == invited.account.id)
        .values(invitation_expires_at=clock.now() + timedelta(days=1))
    )
    session.commit()
    error = refused(
        session,
        identity.redeem_invitation,
        session,
        invited.invitation_code,
        person_id=issued.card.person_id,
        actor="t",
    )
    assert (error.code, error.status) == ("identity.business_account_exists", 409)


def test_delegation_of_a_procedure(
    session: Session,
    issued: IssuedCard,
    member: residents.PersonRead,
    towns: dict[str, address.TownRead],
) -> None:
    register_corporation(session, towns["marunouchi"])
    prime = apply(session, issued, content())
    prime_person = issued.card.person_id
    invited = identity.invite_member(
        session,
        NUMBER,
        identity.MemberInvite(display_name="佐藤　一郎", email="ichiro@example.jp"),
        person_id=prime_person,
        actor="t",
    )
    session.commit()
    # A delegation needs an active member,
    error = refused(
        session,
        identity.delegate_procedure,
        session,
        NUMBER,
        invited.account.id,
        PROCEDURE,
        person_id=prime_person,
        actor="t",
    )
    assert (error.code, error.status) == ("identity.business_account_not_active", 409)
    member_account = identity.redeem_invitation(
        session, invited.invitation_code, person_id=member.id, actor="t"
    )
    session.commit()
    assert not identity.is_delegated(session, member_account.id, PROCEDURE)

    # the prime delegates one procedure,
    delegated = identity.delegate_procedure(
        session, NUMBER, member_account.id, PROCEDURE, person_id=prime_person, actor="t"
    )
    session.commit()
    assert delegated.procedures == [PROCEDURE]
    assert identity.is_delegated(session, member_account.id, PROCEDURE)
    assert not identity.is_delegated(session, member_account.id, "subsidy.other")
    # (the prime may file every procedure)
    assert identity.is_delegated(session, prime.id, "subsidy.other")
    assert identity.business_claims(session, member.id) == {
        "accounts": [
            {
                "corporate_number": NUMBER,
                "corporation_name": "株式会社基盤テック",
                "account_type": "member",
                "role": "member",
            }
        ]
    }
    error = refused(
        session,
        identity.delegate_procedure,
        session,
        NUMBER,
        member_account.id,
        PROCEDURE,
        person_id=prime_person,
        actor="t",
    )
    assert (error.code, error.field) == ("identity.business_already_delegated", "procedure_code")
    # a member cannot delegate (not even to themselves),
    error = refused(
        session,
        identity.delegate_procedure,
        session,
        NUMBER,
        member_account.id,
        "subsidy.other",
        person_id=member.id,
        actor="t",
    )
    assert error.code == "identity.business_prime_required"

    # and the prime revokes it again; the second time there is nothing to revoke.
    revoked = identity.revoke_delegation(
        session, NUMBER, member_account.id, PROCEDURE, person_id=prime_person, actor="t"
    )
    session.commit()
    assert revoked.procedures == []
    assert not identity.is_delegated(session, member_account.id, PROCEDURE)
    error = refused(
        session,
        identity.revoke_delegation,
        session,
        NUMBER,
        member_account.id,
        PROCEDURE,
        person_id=prime_person,
        actor="t",
    )
    assert (error.code, error.status) == ("identity.business_delegation_not_found", 404)

    # Removing a member revokes what was delegated to it.
    identity.delegate_procedure(
        session, NUMBER, member_account.id, PROCEDURE, person_id=prime_person, actor="t"
    )
    identity.remove_member(session, NUMBER, member_account.id, person_id=prime_person, actor="t")
    session.commit()
    assert not identity.is_delegated(session, member_account.id, PROCEDURE)
    assert not identity.is_delegated(session, uuid.uuid4(), PROCEDURE)
    topics = list(session.scalars(select(OutboxEvent.topic)))
    assert identity.BUSINESS_ACCOUNT_DELEGATED in topics
    assert identity.BUSINESS_ACCOUNT_DELEGATION_REVOKED in topics


def test_two_racing_applications_make_one_prime_account(
    session: Session, engine: Engine, issued: IssuedCard, towns: dict[str, address.TownRead]
) -> None:
    register_corporation(session, towns["marunouchi"])
    first, second = signed(issued, content()), signed(issued, content())
    outcome: list[object] = []

    def apply_second() -> None:
        with db.session_factory(engine)() as other:
            try:
                identity.apply_prime_account(other, second, person_id=None, actor="t")
                other.commit()
                outcome.append("created")
            except KibanError as error:
                outcome.append(error.code)

    # Given one application written but not yet committed,
    identity.apply_prime_account(session, first, person_id=None, actor="t")
    # when a second one runs meanwhile (on PostgreSQL it passes the checks and waits on the
    # unique constraint; SQLite makes it wait for the first transaction before it reads),
    racer = threading.Thread(target=apply_second)
    racer.start()
    racer.join(timeout=0.5)
    session.commit()
    racer.join()

    # then the second is refused with the ordinary conflict, and one prime account exists.
    assert outcome == ["identity.business_prime_exists"]
    assert len(accounts(session)) == 1
