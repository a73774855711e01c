"""The Zengin 総合振込 (general transfer) file: write and parse.

Fixed-length records of exactly 120 bytes, JIS X 0201 (digits, capital letters, half-width
katakana) encoded as Shift_JIS (cp932):

============ ============================================================================
record       fields (width)
============ ============================================================================
header  1    種別コード 21 (2), コード区分 0 (1), 依頼人コード (10), 依頼人名 (40),
             取組日 MMDD (4), 仕向銀行番号 (4) 名 (15), 仕向支店番号 (3) 名 (15),
             預金種目 (1), 口座番号 (7), ダミー (17)
data    2    被仕向銀行番号 (4) 名 (15), 支店番号 (3) 名 (15), 手形交換所番号 (4), 預金種目 (1),
             口座番号 (7), 受取人名 (30), 振込金額 (10), 新規コード (1), 顧客コード1 (10),
             顧客コード2 (10), 振込指定区分 (1), 識別表示 (1), ダミー (7)
trailer 8    合計件数 (6), 合計金額 (12), ダミー (101)
end     9    ダミー (119)
============ ============================================================================

The Zengin standard defines the records, not a separator: the file is the records back to
back, which is what :func:`write` produces by default; ``crlf=True`` ends each record with CR LF
for the banks whose upload screens ask for it. :func:`parse` accepts either.

顧客コード1 carries the line number of the batch and 顧客コード2 the batch number, so that the
bank's result file (the same layout, see :data:`RESULT_CODES`) points back at the lines.
The reference bank writes its result for each line into the first byte of the data record's
dummy area (our convention; real banks return 振込不能 in formats of their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kiban.blocks.payments.errors import InvalidTransferFile
from kiban.blocks.payments.kana import ALLOWED

RECORD: Final = 120
ENCODING: Final = "cp932"
ACCOUNT_TYPES: Final = {"ordinary": "1", "current": "2", "savings": "4"}
TYPE_NAMES: Final = {code: name for name, code in ACCOUNT_TYPES.items()}
RESULT_CODES: Final = {
    " ": "pending",
    "0": "paid",
    "1": "no_such_account",
    "2": "name_mismatch",
    "3": "closed",
}
RESULT_OF: Final = {name: code for code, name in RESULT_CODES.items()}


@dataclass(frozen=True)
class Header:
    requester_code: str
    requester_name: str
    transfer_date: str  # MMDD
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str


@dataclass(frozen=True)
class Transfer:
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str
    holder: str
    amount: int
    line: int
    batch: int
    result: str = "pending"


@dataclass(frozen=True)
class TransferFile:
    header: Header
    transfers: tuple[Transfer, ...]
    count: int
    total: int


def _text(value: str, width: int) -> str:
    for char in value:
        if char not in ALLOWED:
            raise ValueError(f"{char!r} is outside the Zengin character set")
    return value[:width].ljust(width)


def _digits(value: int | str, width: int) -> str:
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise ValueError(f"{value!r} does not fit {width} digits")
    return text.zfill(width)


def _record(*fields: str) -> bytes:
    data = "".join(fields).encode(ENCODING)
    if len(data) != RECORD:  # pragma: no cover - the widths above add up to 120.
        raise ValueError(f"record of {len(data)} bytes")
    return data


def write(header: Header, transfers: Sequence[Transfer], *, crlf: bool = False) -> bytes:
    """The file for ``transfers``, header to end record."""
    records = [
        _record(
            "1",
            "21",
            "0",
            _digits(header.requester_code, 10),
            _text(header.requester_name, 40),
            _digits(header.transfer_date, 4),
            _digits(header.bank_code, 4),
            _text(header.bank_name, 15),
            _digits(header.branch_code, 3),
            _text(header.branch_name, 15),
            ACCOUNT_TYPES[header.account_type],
            _digits(header.account_number, 7),
            " " * 17,
        )
    ]
    for t in transfers:
        records.append(
            _record(
                "2",
                _digits(t.bank_code, 4),
                _text(t.bank_name, 15),
                _digits(t.branch_code, 3),
                _text(t.branch_name, 15),
                " " * 4,
                ACCOUNT_TYPES[t.account_type],
                _digits(t.account_number, 7),
                _text(t.holder, 30),
                _digits(t.amount, 10),
                "0",
                _digits(t.line, 10),
                _digits(t.batch, 10),
                "7",
                " ",
                RESULT_OF[t.result] + " " * 6,
            )
        )
    records.append(
        _record(
            "8",
            _digits(len(transfers), 6),
            _digits(sum(t.amount for t in transfers), 12),
            " " * 101,
        )
    )
    records.append(_record("9", " " * 119))
    return (b"\r\n" if crlf else b"").join(records) + (b"\r\n" if crlf else b"")


def split_records(data: bytes) -> list[bytes]:
    """The 120-byte records of ``data``, with or without CR LF after each; an EOF mark (0x1A)
    at the end is ignored."""
    data = data.rstrip(b"\x1a")
    if b"\r\n" in data:
        records = data.split(b"\r\n")
        if records and records[-1] == b"":
            records.pop()
    else:
        records = [data[i : i + RECORD] for i in range(0, len(data), RECORD)]
    for number, record in enumerate(records, start=1):
        if len(record) != RECORD:
            raise InvalidTransferFile(number, f"{len(record)} bytes, not {RECORD}")
    return records


def _number(record: str, start: int, width: int, index: int, name: str) -> int:
    field = record[start : start + width]
    if not field.isdigit():
        raise InvalidTransferFile(index, f"{name} is not {width} digits")
    return int(field)


def parse(data: bytes) -> TransferFile:
    """Parse a 総合振込 file; :class:`InvalidTransferFile` names the first record at fault (a
    record not 120 bytes, a wrong order, a trailer whose count or total differs from the data
    records)."""
    records = split_records(data)
    if len(records) < 3:
        raise InvalidTransferFile(len(records), "header, trailer and end records are required")
    texts: list[str] = []
    for index, raw in enumerate(records, start=1):
        try:
            text = raw.decode(ENCODING)
        except UnicodeDecodeError:
            raise InvalidTransferFile(index, "not Shift_JIS") from None
        if len(text) != RECORD or any(c not in ALLOWED for c in text):
            raise InvalidTransferFile(index, "a character outside JIS X 0201")
        texts.append(text)
    head = texts[0]
    if head[0] != "1" or head[1:3] != "21":
        raise InvalidTransferFile(1, "not a 総合振込 header (1, 21)")
    header = Header(
        requester_code=head[4:14],
        requester_name=head[14:54].rstrip(),
        transfer_date=head[54:58],
        bank_code=head[58:62],
        bank_name=head[62:77].rstrip(),
        branch_code=head[77:80],
        branch_name=head[80:95].rstrip(),
        account_type=TYPE_NAMES.get(head[95], "ordinary"),
        account_number=head[96:103],
    )
    transfers: list[Transfer] = []
    index = 2
    while index <= len(texts) and texts[index - 1][0] == "2":
        r = texts[index - 1]
        if r[42] not in TYPE_NAMES:
            raise InvalidTransferFile(index, "預金種目 is not 1, 2 or 4")
        if r[113] not in RESULT_CODES:
            raise InvalidTransferFile(index, "unknown result code")
        transfers.append(
            Transfer(
                bank_code=r[1:5],
                bank_name=r[5:20].rstrip(),
                branch_code=r[20:23],
                branch_name=r[23:38].rstrip(),
                account_type=TYPE_NAMES[r[42]],
                account_number=r[43:50],
                holder=r[50:80].rstrip(),
                amount=_number(r, 80, 10, index, "振込金額"),
                line=_number(r, 91, 10, index, "顧客コード1"),
                batch=_number(r, 101, 10, index, "顧客コード2"),
                result=RESULT_CODES[r[113]],
            )
        )
        index += 1
    if index > len(texts) or texts[index - 1][0] != "8":
        raise InvalidTransferFile(index, "the trailer (8) must follow the data records")
    trailer = texts[index - 1]
    count = _number(trailer, 1, 6, index, "合計件数")
    total = _number(trailer, 7, 12, index, "合計金額")
    if count != len(transfers):
        raise InvalidTransferFile(index, f"count {count} but {len(transfers)} data records")
    if total != sum(t.amount for t in transfers):
        raise InvalidTransferFile(index, "total differs from the sum of the data records")
    if index + 1 != len(texts) or texts[index][0] != "9":
        raise InvalidTransferFile(index + 1, "the end record (9) must close the file")
    return TransferFile(header, tuple(transfers), count, total)


def with_results(data: bytes, results: dict[int, str]) -> bytes:
    """The same file with each data record's result (by line number) filled in: what the
    reference bank hands back."""
    parsed = parse(data)
    crlf = b"\r\n" in data
    transfers = [
        Transfer(**{**t.__dict__, "result": results.get(t.line, t.result)})
        for t in parsed.transfers
    ]
    return write(parsed.header, transfers, crlf=crlf)
