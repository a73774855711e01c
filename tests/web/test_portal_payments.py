"""The receiving account and "my payments" in the portal: registration asks the bank through
the mesh (a name mismatch is shown by the holder-name field and nothing becomes active), the
corrected name is accepted, the check is in "who used my data", and my payments shows what was
paid and what the bank returned."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kiban.agencies import bank
from kiban.blocks import mesh, payments, residents
from kiban.platform import db
from kiban.web import create_app
from tests.blocks.payments.support import (
    MAKER,
    PAYER,
    PROGRAMME,
    approve,
    bank_code_of,
    country,
    obligation,
)
from tests.web.portal_support import RESIDENT_COOKIE, resident_cookie


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def person(engine: Engine) -> residents.PersonRead:
    someone = country(engine)[0]
    with db.transaction(engine) as session:
        bank.open_account(
            session,
            bank_code_of(session, someone.id),
            bank_code="0001",
            branch_code="001",
            account_number="1234567",
            holder_kana="ｽｽﾞｷ ｲﾁﾛｳ",
        )
    return someone


@pytest.fixture
def client(engine: Engine, person: residents.PersonRead) -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as client:
        client.cookies.set(RESIDENT_COOKIE, resident_cookie(engine, person.id))
        yield client


def _form(token: str, holder: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "ordinary",
        "account_number": "1234567",
        "holder_kana": holder,
    }


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_name_mismatch_is_answered_by_the_bank_and_then_corrected(
    client: TestClient, engine: Engine, person: residents.PersonRead, lang: str
) -> None:
    page = client.get(f"/portal/payments/account?lang={lang}")
    assert page.status_code == 200
    assert "みずほ" in page.text  # The Zengin list, loaded.
    token = csrf_of(page.text)

    forged = client.post(f"/portal/payments/account?lang={lang}", data=_form("x", "ｽｽﾞｷ ｲﾁﾛｳ"))
    assert forged.status_code == 403

    kanji = client.post(f"/portal/payments/account?lang={lang}", data=_form(token, "鈴木"))
    assert kanji.status_code == 422
    assert 'id="holder_kana-error"' in kanji.text
    assert "鈴" in kanji.text

    wrong = client.post(f"/portal/payments/account?lang={lang}", data=_form(token, "スズキ イチ"))
    assert wrong.status_code == 422
    assert 'id="holder_kana-error"' in wrong.text
    expected = "does not match" if lang == "en" else "一致しません"
    assert expected in wrong.text
    with db.transaction(engine) as session:
        assert payments.get_active_account(session, person.id) is None
        tried = payments.list_accounts(session, person.id)
        assert [(a.status, a.verification) for a in tried] == [("refused", "name_mismatch")]

    right = client.post(
        f"/portal/payments/account?lang={lang}", data=_form(token, "すずき いちろう")
    )
    assert right.status_code == 303, right.text
    shown = client.get(right.headers["location"])
    assert shown.status_code == 200
    assert "ｽｽﾞｷ ｲﾁﾛｳ" in shown.text
    assert "••••567" in shown.text
    assert "1234567" not in shown.text
    with db.transaction(engine) as session:
        assert payments.get_active_account(session, person.id) is not None
        checks = [
            r
            for r in mesh.records_for_person(session, person.id).records
            if r.service.endswith("/account-check")
        ]
        # Two checks (refused, then accepted), each recorded on both sides of the exchange,
        # under the receiving-account law.
        assert len({r.message_id for r in checks}) == 2
        assert all(payments.VERIFY_BASIS in (r.legal_basis or "") for r in checks)


def test_my_payments_shows_paid_and_returned(
    client: TestClient, engine: Engine, person: residents.PersonRead
) -> None:
    with db.transaction(engine) as session:
        payments.do_register_account(
            session,
            person.id,
            payments.AccountCreate(
                bank_code="0001",
                branch_code="001",
                account_number="1234567",
                holder_kana="ｽｽﾞｷ ｲﾁﾛｳ",
            ),
            actor="t",
        )
        payments.do_add_obligations(
            session,
            [obligation(person.id, 100_000, "2026"), obligation(person.id, 5_000, "2027")],
            actor="t",
        )
        batch = payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        approve(session, batch.number)
        data = payments.transfer_file(session, batch.number)
        paid_and_closed = payments.transfer_results(data, {1: "paid", 2: "closed"})
        payments.do_import_result(session, batch.number, paid_and_closed, actor="t")
    page = client.get("/portal/payments?lang=en")
    assert page.status_code == 200
    assert "100,000" in page.text
    assert "Paid" in page.text
    assert "Returned by the bank" in page.text
    inbox = client.get("/portal/inbox?lang=en")
    assert "could not transfer" in inbox.text
