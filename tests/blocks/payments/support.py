"""A small country for the payments tests: residents, the reference agencies on the mesh, the
Zengin list loaded, and helpers to open a bank account and register it."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban import agencies
from kiban.agencies import bank, wiring
from kiban.blocks import mesh, payments, residents
from kiban.platform import db

PROGRAMME = "special-flat-2026"
PAYER = "131016"
MAKER = "staff:00000000-0000-0000-0000-00000000000a@131016"
CHECKER_1 = "staff:00000000-0000-0000-0000-00000000000b@131016"
CHECKER_2 = "staff:00000000-0000-0000-0000-00000000000c@131016"


def country(engine: Engine, size: int = 6) -> list[residents.PersonRead]:
    with db.transaction(engine) as session:
        residents.seed_population(session, size="tiny", seed=7)
        wiring.register_reference_agencies(session)
        payments.do_load_banks(session, actor="test")
    with db.transaction(engine) as session:
        return residents.list_people(session, limit=size)


def bank_code_of(session: Session, person_id: uuid.UUID) -> str:
    return mesh.agency_code(session, agencies.get_agency("bank").subsystem, person_id)


def open_and_register(
    session: Session,
    person_id: uuid.UUID,
    *,
    number: str,
    holder: str = "ﾔﾏﾀﾞ ﾀﾛｳ",
    typed_holder: str | None = None,
    bank_code: str = "0001",
    branch_code: str = "001",
) -> payments.AccountRead:
    """Open the person's account at the reference bank, then register it as their receiving
    account (with ``typed_holder`` as the name they type, when it differs)."""
    bank.open_account(
        session,
        bank_code_of(session, person_id),
        bank_code=bank_code,
        branch_code=branch_code,
        account_number=number,
        holder_kana=holder,
    )
    return payments.do_register_account(
        session,
        person_id,
        payments.AccountCreate(
            bank_code=bank_code,
            branch_code=branch_code,
            account_number=number,
            holder_kana=typed_holder or holder,
        ),
        actor=f"person:{person_id}",
    )


def obligation(
    person_id: uuid.UUID, amount: int = 100_000, period: str = "2026"
) -> payments.ObligationCreate:
    return payments.ObligationCreate(
        programme=PROGRAMME,
        period=period,
        person_id=person_id,
        amount=amount,
        payer=PAYER,
        reason="特別定額給付金",
    )


def approve(session: Session, number: int) -> payments.BatchRead:
    payments.do_approve_batch(session, number, actor=CHECKER_1)
    return payments.do_approve_batch(session, number, actor=CHECKER_2)
