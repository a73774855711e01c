"""The office's payment pages, as three officials of 千代田区 use them, each signed in with their
own card: one builds a batch, the maker and a repeated approver are refused, two others approve
it; the Zengin file is handed out by a form post (audited, the batch exported); the bank's
result comes back as a file: one payee is paid, the other's line is returned (the bank holds
another name). The returned transfer's follow-up shows that the person was told, then that
they corrected their account and were paid in the next batch — once. Every page that shows
payees records the read per person; the ledger reconciles to the yen throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiban.agencies import bank
from kiban.blocks import payments, residents
from kiban.blocks.residents.models import ReadRecord
from kiban.platform import db
from kiban.platform.models import AuditEntry
from kiban.platform.settings import get_settings
from kiban.web import create_app
from tests.blocks.payments.support import (
    PAYER,
    PROGRAMME,
    bank_code_of,
    country,
    obligation,
    open_and_register,
)
from tests.office_support import csrf_of, new_official, office_sign_in

ROLE = "approval"
BASE = f"/office/payments/{PAYER}"


@pytest.fixture(autouse=True)
def _office_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The card sign-in goes through kiban's OpenID provider at the test client's origin."""
    monkeypatch.setenv("KIBAN_BASE_URL", "http://testserver")
    get_settings.cache_clear()


@pytest.fixture
def officials(engine: Engine, tmp_path: Path) -> Iterator[list[TestClient]]:
    """Three officials of the payer, each in their own browser, signed in with their card."""
    people = country(engine)
    assert people
    cards = []
    with db.transaction(engine) as session:
        for n, name in enumerate(("作成", "承認一", "承認二")):
            _, card = new_official(session, PAYER, ROLE, tmp_path / f"reader-{n}", family_name=name)
            cards.append(card)
    clients = [TestClient(create_app()) for _ in cards]
    for client, card in zip(clients, cards, strict=True):
        client.__enter__()
        office_sign_in(client, card, PAYER, ROLE)
    yield clients
    for client in clients:
        client.__exit__(None, None, None)


def _post(client: TestClient, path: str, page: str, **kwargs: Any) -> Any:
    """Post to ``path`` with the session's CSRF token (as ``page`` and the batches list carry
    it), without following redirects."""
    shown = client.get(page).text
    token = csrf_of(shown if "csrf_token" in shown else client.get("/office/payments").text)
    data = {"csrf_token": token, **kwargs.pop("data", {})}
    return client.post(path, data=data, follow_redirects=False, **kwargs)


def _batch_number(answer: Any) -> int:
    assert answer.status_code == 303, answer.text[:500]
    found = re.search(r"/batches/(\d+)\?", answer.headers["location"])
    assert found
    return int(found.group(1))


def _approve_twice(checkers: list[TestClient], number: int) -> None:
    page = f"{BASE}/batches/{number}"
    for checker in checkers:
        answer = _post(checker, f"{page}/approvals", page)
        assert answer.status_code == 303, answer.text[:500]


def _export_and_settle(official: TestClient, engine: Engine, number: int) -> bytes:
    """Download the file by form post, let the reference bank pay it, take its result in."""
    page = f"{BASE}/batches/{number}"
    download = _post(official, f"{page}/transfer-file", page)
    assert download.status_code == 200, download.text[:500]
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["cache-control"] == "no-store"
    data = download.content
    assert len(data) % 120 == 0
    with db.transaction(engine) as session:
        result = bank.ReferenceBank(session).transfer(data)
    answer = _post(
        official,
        f"{page}/result",
        page,
        files={"result_file": ("result.txt", result, "application/octet-stream")},
    )
    assert answer.status_code == 303, answer.text[:500]
    return result


def test_two_officials_approve_the_bank_pays_and_a_returned_line_is_paid_once_later(
    engine: Engine, officials: list[TestClient]
) -> None:
    maker, first, second = officials
    with db.transaction(engine) as session:
        paid_person, failed_person = residents.list_people(session, lg_code=PAYER, limit=2)
        open_and_register(session, paid_person.id, number="5000001", holder="ｼｹﾝ ｲﾁﾛｳ")
        open_and_register(session, failed_person.id, number="5000002", holder="ｼｹﾝ ﾊﾅｺ")
        payments.do_add_obligations(
            session, [obligation(paid_person.id), obligation(failed_person.id)], actor="test"
        )

    # The maker builds the batch from the programme's payable obligations.
    listing = maker.get("/office/payments?lang=en")
    assert listing.status_code == 200
    number = _batch_number(
        _post(maker, f"{BASE}/batches?lang=en", "/office/payments", data={"programme": PROGRAMME})
    )
    page = maker.get(f"{BASE}/batches/{number}?lang=en")
    assert page.status_code == 200
    assert paid_person.full_name in page.text
    assert failed_person.full_name in page.text
    assert "ｼｹﾝ ﾊﾅｺ" in page.text
    with db.transaction(engine) as session:
        reads = session.scalars(
            select(ReadRecord).where(ReadRecord.purpose == residents.ReadPurpose.PAYMENT)
        ).all()
        shown = {(r.person_id, tuple(r.items)) for r in reads}
    assert (failed_person.id, ("name",)) in shown
    assert (
        failed_person.id,
        ("bank_code", "branch_code", "account_number", "holder_kana"),
    ) in shown

    # The maker may not approve; the first approver may not approve twice.
    refused = _post(maker, f"{BASE}/batches/{number}/approvals?lang=en", f"{BASE}/batches/{number}")
    assert refused.status_code == 403
    assert "error-summary" in refused.text
    _approve_twice([first], number)
    again = _post(first, f"{BASE}/batches/{number}/approvals", f"{BASE}/batches/{number}")
    assert again.status_code == 403
    with db.transaction(engine) as session:
        assert payments.get_batch(session, number).status == "draft"
    _approve_twice([second], number)
    with db.transaction(engine) as session:
        frozen = payments.get_batch(session, number)
        assert frozen.status == "approved"
        assert len(frozen.approvers) == 2
        # The bank now holds another name for the second payee: the transfer will be returned.
        bank.open_account(
            session,
            bank_code_of(session, failed_person.id),
            bank_code="0001",
            branch_code="001",
            account_number="5000002",
            holder_kana="ﾍﾞﾂﾒｲ ﾊﾅｺ",
        )

    _export_and_settle(first, engine, number)
    with db.transaction(engine) as session:
        settled = payments.get_batch(session, number)
        assert settled.status == "settled"
        assert sorted(line.result for line in settled.lines) == ["name_mismatch", "paid"]
        issued = session.scalars(
            select(AuditEntry.tag).where(AuditEntry.subject == f"payments_batch:{number}")
        ).all()
        assert "payments:batch:file_issued" in issued
        assert "payments:batch:exported" in issued
        assert payments.reconcile(session, number).reconciled

    # The returned line's follow-up: told, not corrected, not paid.
    failures = first.get(f"{BASE}/failures?lang=en")
    assert failures.status_code == 200
    assert failed_person.full_name in failures.text
    assert "In the inbox" in failures.text
    assert failures.text.count("Not yet") == 2

    # The person corrects their account (a new verified version); the next batch pays them.
    with db.transaction(engine) as session:
        corrected = payments.do_register_account(
            session,
            failed_person.id,
            payments.AccountCreate(
                bank_code="0001",
                branch_code="001",
                account_number="5000002",
                holder_kana="ﾍﾞﾂﾒｲ ﾊﾅｺ",
            ),
            actor=f"person:{failed_person.id}",
        )
        assert corrected.status == "active"
        assert corrected.version == 2
    later = _batch_number(
        _post(maker, f"{BASE}/batches", "/office/payments", data={"programme": PROGRAMME})
    )
    _approve_twice([first, second], later)
    _export_and_settle(second, engine, later)

    with db.transaction(engine) as session:
        again_batch = payments.get_batch(session, later)
        assert [(line.person_id, line.result) for line in again_batch.lines] == [
            (failed_person.id, "paid")
        ]
        mine = payments.list_payments(session, failed_person.id)
        assert [(p.state, p.batch_number) for p in mine] == [("paid", later)]
        assert payments.reconcile(session, later).reconciled
        assert payments.ledger_balances(session)["paid"] == 200_000
    failures = first.get(f"{BASE}/failures?lang=en")
    assert "Account version 2" in failures.text
    assert f"In batch {later}" in failures.text
    detail = first.get(f"{BASE}/batches/{later}?lang=en")
    assert "agree to the yen" in detail.text
    # The same result file again changes nothing.
    with db.transaction(engine) as session:
        before = payments.ledger_balances(session)
        data = payments.transfer_file(session, later)
        result = bank.ReferenceBank(session).transfer(data)
        session.rollback()
    page = f"{BASE}/batches/{later}"
    answer = _post(first, f"{page}/result", page, files={"result_file": ("r.txt", result)})
    assert answer.status_code == 303
    with db.transaction(engine) as session:
        assert payments.ledger_balances(session) == before


def test_a_file_that_is_not_the_banks_result_is_refused_by_its_field(
    engine: Engine, officials: list[TestClient]
) -> None:
    maker, first, second = officials
    with db.transaction(engine) as session:
        person = residents.list_people(session, lg_code=PAYER, limit=1)[0]
        open_and_register(session, person.id, number="5000003", holder="ｼｹﾝ ｼﾞﾛｳ")
        payments.do_add_obligations(session, [obligation(person.id)], actor="test")
    number = _batch_number(
        _post(maker, f"{BASE}/batches", "/office/payments", data={"programme": PROGRAMME})
    )
    _approve_twice([first, second], number)
    page = f"{BASE}/batches/{number}"
    empty = _post(first, f"{page}/result?lang=en", page)
    assert empty.status_code == 422
    assert 'id="result_file-error"' in empty.text
    junk = _post(
        first, f"{page}/result?lang=en", page, files={"result_file": ("r.txt", b"not a file")}
    )
    assert junk.status_code == 422
    assert 'aria-invalid="true"' in junk.text
    with db.transaction(engine) as session:
        assert payments.get_batch(session, number).status == "approved"
    nothing = _post(
        maker, f"{BASE}/batches?lang=en", "/office/payments", data={"programme": PROGRAMME}
    )
    assert nothing.status_code == 409
    assert "error-summary" in nothing.text
