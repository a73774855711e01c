"""The Zengin 総合振込 file: fixed 120-byte records, trailer equal to the data records, bank and
branch codes from the Zengin list; the parser refuses what is not that format; the holder name
is normalised to the characters the file can carry."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from kiban.blocks import payments
from kiban.blocks.payments import zengin
from kiban.platform import db
from tests.blocks.payments.support import (
    MAKER,
    PAYER,
    PROGRAMME,
    approve,
    country,
    obligation,
    open_and_register,
)

HEADER = zengin.Header("131016", "ｺｳｷﾝ", "1207", "0001", "ﾐｽﾞﾎ", "001", "ﾄｳｷﾖｳ", "ordinary", "1")


def _transfer(line: int, amount: int, holder: str = "ﾔﾏﾀﾞ ﾀﾛｳ") -> zengin.Transfer:
    return zengin.Transfer(
        "0005", "ﾐﾂﾋﾞｼUFJ", "001", "ﾎﾝﾃﾝ", "ordinary", "0000123", holder, amount, line, 1
    )


def test_the_exported_batch_parses_as_zengin(engine: Engine) -> None:
    people = country(engine)
    with db.transaction(engine) as session:
        for n, person in enumerate(people[:3]):
            open_and_register(session, person.id, number=f"30000{n}", holder="ｶﾌﾞｼｷｶﾞｲｼﾔ ﾃｽﾄ")
        payments.do_add_obligations(
            session,
            [obligation(p.id, amount=10_000 * (n + 1)) for n, p in enumerate(people)],
            actor="t",
        )
        batch = payments.do_build_batch(session, programme=PROGRAMME, payer=PAYER, actor=MAKER)
        approve(session, batch.number)
        data = payments.transfer_file(session, batch.number)
        banks = {b.code for b in payments.list_banks(session)}
        branches = {(b.bank_code, b.code) for b in payments.list_branches(session, "0001")}
    records = payments.split_records(data)
    assert len(data) == 120 * len(records) == 120 * (3 + 3)
    assert all(len(r) == 120 for r in records)
    assert [r[:1] for r in records] == [b"1", b"2", b"2", b"2", b"8", b"9"]
    parsed = payments.parse_transfer_file(data)
    assert parsed.count == len(parsed.transfers) == 3
    assert parsed.total == sum(t.amount for t in parsed.transfers) == 60_000
    for t in parsed.transfers:
        assert t.bank_code in banks
        assert (t.bank_code, t.branch_code) in branches
        assert t.holder == "ｶﾌﾞｼｷｶﾞｲｼﾔ ﾃｽﾄ"
    # Half-width katakana are single bytes (0xA1-0xDF) in Shift_JIS.
    assert "ｶﾌﾞｼｷ".encode("cp932") in records[1]
    assert parsed.header.bank_code in banks
    # CR LF after each record, when asked, parses to the same file.
    with db.transaction(engine) as session:
        crlf = payments.transfer_file(session, batch.number, crlf=True)
    assert len(crlf) == 122 * 6
    assert payments.parse_transfer_file(crlf) == parsed


@given(
    st.lists(
        st.tuples(st.integers(1, 9_999_999_999), st.text(alphabet="ｱｲｳｴｵｶﾞﾊﾟﾝ ABC0123", max_size=30)),
        max_size=20,
    ),
    st.booleans(),
)
@settings(deadline=None)
def test_any_file_written_parses_back(lines: list[tuple[int, str]], crlf: bool) -> None:
    transfers = [
        _transfer(n, amount, holder.strip()) for n, (amount, holder) in enumerate(lines, 1)
    ]
    data = zengin.write(HEADER, transfers, crlf=crlf)
    assert len(data) == (122 if crlf else 120) * (len(transfers) + 3)
    parsed = zengin.parse(data)
    assert parsed.transfers == tuple(
        zengin.Transfer(**{**t.__dict__, "holder": t.holder.rstrip()}) for t in transfers
    )
    assert parsed.total == sum(amount for amount, _ in lines)


def _file(*amounts: int) -> bytes:
    return zengin.write(HEADER, [_transfer(n, a) for n, a in enumerate(amounts, 1)])


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda d: d[:-1], "bytes"),
        (lambda d: d[:240] + d[360:], "count"),
        (lambda d: d.replace(b"0000001000", b"0000001001", 1), "total"),
        (lambda d: d[:-120], "end record"),
        (lambda d: d[:121] + "漢".encode("cp932") + d[123:], "JIS X 0201"),
    ],
)
def test_a_damaged_file_is_refused_naming_the_record(damage: object, problem: str) -> None:
    data = _file(1000, 2000)
    assert callable(damage)
    with pytest.raises(payments.InvalidTransferFile) as caught:
        zengin.parse(damage(data))
    assert problem in caught.value.message_en


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ｷｯﾁｮｳ ｼｮｳｺ", "ｷﾂﾁﾖｳ ｼﾖｳｺ"),  # Small kana are written large.
        ("パーカー ジョン", "ﾊﾟ-ｶ- ｼﾞﾖﾝ"),  # The long-vowel mark as a hyphen.
        ("ｶ)ｷﾊﾞﾝ", "ｶ)ｷﾊﾞﾝ"),
        ("ｓｍｉｔｈ", "SMITH"),
    ],
)
def test_holder_names_normalised_to_the_zengin_set(typed: str, stored: str) -> None:
    assert payments.to_zengin(typed) == stored


@pytest.mark.parametrize("refused", ["山", "@", "ヶ", "!"])
def test_a_character_outside_the_set_is_named(refused: str) -> None:
    with pytest.raises(payments.InvalidKana) as caught:
        payments.to_zengin(f"ﾔﾏﾀﾞ{refused}")
    assert refused in caught.value.message_ja


@given(st.text(alphabet=string.ascii_letters + "ぁあいうゔがぱゃっー　 ", min_size=1))
def test_normalised_names_stay_in_the_set(text: str) -> None:
    try:
        out = payments.to_zengin(text)
    except payments.InvalidKana:
        return
    assert set(out) <= zengin.ALLOWED
    assert all(len(c.encode("cp932")) == 1 for c in out)
