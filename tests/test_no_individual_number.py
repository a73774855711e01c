"""The My Number scanner: no individual number outside the resident register after a demo run.

ARCHITECTURE.md §1 promises that only the resident register and the numbering function ever
hold the 12-digit individual number. This test runs a small but complete demo in a fresh data
directory — the migrations, ``kiban seed --size tiny`` (with its demo cards and the reference
agencies' enrolment through the mesh: one signed, recorded exchange with the register's
basic-four service per person and government agency), a series of register changes through the
residents facade whose events the mesh delivers to the subscribed agencies (which then ask the
register for the new address), a certificate of residence issued *with* the number, a
company's request with the person's consent and another after its revocation, and a few CLI
reads — and then looks for individual numbers in:

* every column of every table in the database (reflected, so tables added later are scanned
  without changing this file), including the outbox's events and the audit chain's entries;
  only ``residents_persons.individual_number`` is exempt. The register's history
  (``residents_record_versions``) is scanned too: its snapshots deliberately leave the number
  out, because the number never changes and the person row already holds it;
* every log record written during the run (kiban's loggers at every level, other libraries at
  their default level) and the CLI's standard output and error;
* every file under the data directory (card files, keys, anything added later), names and
  contents.

A hit is either a 12-digit run (not part of a longer digit string, optionally written 4-4-4
with spaces or hyphens, full-width digits included) that passes the My Number check digit, or
any number the register actually assigned, wherever it appears. Hexadecimal tokens (UUIDs and
digests of 16 or more hex characters) are blanked out before the first search, because random
hex holds decimal runs that pass the check digit one time in ten; an assigned number is still
found inside them by the second search. Signed and encoded values are opened too: the header
and payload of every compact JWS (mesh messages, consent artefacts, tokens) and the DER inside
every PEM block (certificates), whose validity times (UTCTime, ``YYMMDDHHMMSSZ``) are the only
twelve-digit runs blanked out there.

``test_scanner_finds_a_planted_number`` shows that the scanner can fail.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select, text
from typer.testing import CliRunner

from kiban import agencies
from kiban.blocks import mesh, residents
from kiban.cli import app
from kiban.kernel import clock, identifiers
from kiban.platform import audit, db, events
from kiban.platform.settings import get_settings

# The one place an individual number may be stored.
ALLOWED_COLUMNS = frozenset({("residents_persons", "individual_number")})

_CANDIDATE = re.compile(r"(?<!\d)(?<!\d[ -])\d{4}([ -]?)\d{4}\1\d{4}(?![ -]?\d)")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_HEX = re.compile(r"[0-9A-Fa-f]{16,}")
# A DER UTCTime (YYMMDDHHMMSSZ: certificates' validity) is twelve digits too.
_UTC_TIME = re.compile(r"(?<!\d)\d{12}Z")
_JWS = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----([A-Za-z0-9+/=\s\\n]+?)-----END [A-Z0-9 ]+-----")

runner = CliRunner()


@dataclass(frozen=True)
class Hit:
    """Where an individual number was found; the number itself is shown masked."""

    where: str
    masked: str

    def __str__(self) -> str:
        return f"{self.where}: {self.masked}"


def _number(seed: int) -> str:
    return identifiers.generate_my_number(random.Random(seed))  # noqa: S311 - test data.


def mask(number: str) -> str:
    """The first two and last two digits, so a report never repeats the number it found."""
    return f"{number[:2]}{'*' * 8}{number[-2:]}"


def _b64(data: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(
            data.replace("+", "-").replace("/", "_") + "=" * (-len(data) % 4)
        )
    except (ValueError, binascii.Error):
        return ""
    return raw.decode("latin-1")


def decoded_parts(value: str) -> list[str]:
    """The readable insides of signed and encoded values: the header and payload of every
    compact JWS (mesh messages, consent artefacts, tokens) and the DER of every PEM block
    (certificates, keys), as Latin-1 text, so a number hidden in them is seen too."""
    parts = [
        _b64(segment) for match in _JWS.finditer(value) for segment in match.group(0).split(".")[:2]
    ]
    for match in _PEM.finditer(value):
        parts.append(_b64(re.sub(r"\\n|\s", "", match.group(1))))
    return [part for part in parts if part]


def find_numbers(value: str, assigned: frozenset[str] = frozenset()) -> list[str]:
    """Individual numbers in ``value`` (and in its JWS and PEM insides): valid 12-digit runs,
    and numbers the register assigned wherever they appear."""
    found: list[str] = []
    decoded = [_UTC_TIME.sub(" ", part) for part in decoded_parts(value)]
    for text_ in (value, *decoded):
        blanked = _HEX.sub(" ", _UUID.sub(" ", text_))
        for match in _CANDIDATE.finditer(blanked):
            digits = identifiers.normalize(match.group(0))
            if identifiers.is_valid_my_number(digits):
                found.append(digits)
        if assigned:
            normalised = identifiers.normalize(text_) if not text_.isascii() else text_
            found.extend(number for number in assigned if number in normalised)
    return sorted(set(found))


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, int | float | Decimal | str | uuid.UUID):
        return str(value)
    return str(value)


def assigned_numbers(engine: Engine) -> frozenset[str]:
    """Every number the register assigned (read from the one column that may hold them)."""
    with engine.connect() as conn:
        return frozenset(conn.scalars(text("SELECT individual_number FROM residents_persons")))


def scan_database(engine: Engine, assigned: frozenset[str]) -> list[Hit]:
    """Every value of every column of every table, except the register's own number column."""
    hits: list[Hit] = []
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        for table in meta.sorted_tables:
            rows = conn.execute(select(table)).mappings()
            for index, row in enumerate(rows):
                key = row.get("id", row.get("seq", index))
                for column, value in row.items():
                    if (table.name, column) in ALLOWED_COLUMNS:
                        continue
                    as_text = _as_text(value)
                    if as_text is None:
                        continue
                    hits.extend(
                        Hit(f"{table.name}.{column} row {key}", mask(number))
                        for number in find_numbers(as_text, assigned)
                    )
    return hits


def scan_texts(texts: Iterable[tuple[str, str]], assigned: frozenset[str]) -> list[Hit]:
    """Named texts (log records, CLI output)."""
    return [
        Hit(where, mask(number))
        for where, value in texts
        for number in find_numbers(value, assigned)
    ]


def _files(root: Path, skip: set[Path]) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.resolve() in skip:
            continue
        name = str(path.relative_to(root))
        yield f"file name {name}", name
        # Binary content is read as Latin-1 so that ASCII digits in it are still seen.
        yield f"file {name}", path.read_bytes().decode("latin-1")


def scan_files(root: Path, assigned: frozenset[str], *, skip: Iterable[Path] = ()) -> list[Hit]:
    """Names and contents of every file under ``root`` (the data directory)."""
    if not root.exists():
        return []
    return scan_texts(_files(root, {p.resolve() for p in skip}), assigned)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[tuple[str, str]] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((f"log {record.name}", self.format(record)))


def _cli(outputs: list[tuple[str, str]], *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    outputs.append((f"kiban {' '.join(args)} stdout", result.stdout))
    outputs.append((f"kiban {' '.join(args)} stderr", result.stderr))
    return result.stdout


def _register_changes(engine: Engine) -> uuid.UUID:
    """Changes of every kind through the facade, each emitting its event; returns a newcomer."""
    actor = "official:scanner-demo"
    with db.transaction(engine) as session:
        people = residents.list_people(session, limit=10)
        first, second, third = people[0], people[1], people[2]
        newcomer = residents.register_person(
            session,
            residents.PersonCreate(
                family_name="走査",
                given_name="太郎",
                family_name_kana="ソウサ",
                given_name_kana="タロウ",
                birth_date=date(1990, 5, 1),
                sex=residents.Sex.MALE,
                address=residents.AddressInput(town_id=second.address.town_id, block_number="1-2"),
                effective_on=date(2026, 4, 10),
            ),
            actor=actor,
        )
    with db.transaction(engine) as session:
        residents.move_within(
            session,
            first.id,
            residents.MoveWithinCreate(
                moved_on=date(2026, 5, 1),
                address=residents.AddressInput(town_id=third.address.town_id, block_number="3-4"),
            ),
            actor=actor,
        )
        residents.change_name(
            session,
            second.id,
            residents.NameChangeCreate(
                family_name="改名",
                given_name=second.given_name,
                family_name_kana="カイメイ",
                given_name_kana=second.given_name_kana,
                effective_on=date(2026, 5, 2),
            ),
            actor=actor,
        )
        residents.register_birth(
            session,
            residents.BirthCreate(
                family_name=newcomer.family_name,
                given_name="花子",
                family_name_kana=newcomer.family_name_kana,
                given_name_kana="ハナコ",
                birth_date=date(2026, 5, 3),
                sex=residents.Sex.FEMALE,
                parent_id=newcomer.id,
            ),
            actor=actor,
        )
    with db.transaction(engine) as session:
        residents.move_out(
            session,
            third.id,
            residents.MoveOutCreate(
                moved_on=date(2026, 5, 10), destination="大阪府大阪市北区梅田1-1"
            ),
            actor=actor,
        )
        residents.record_death(
            session, people[3].id, residents.DeathCreate(died_on=date(2026, 5, 11)), actor=actor
        )
        # A certificate of residence with the numbers on it: the paper may carry them, the
        # audit entry of its issue must not.
        certificate = residents.issue_certificate(
            session, newcomer.id, whole_household=True, include_individual_number=True, actor=actor
        )
    assert all(entry.individual_number for entry in certificate.entries)
    # With NATS configured (CI's PostgreSQL run) no relay runs here: deliver in this process, so
    # the agencies' subscriptions and their records are part of the scan.
    events.deliver_pending(engine)
    return newcomer.id


def _company_exchange(engine: Engine, person_id: uuid.UUID) -> None:
    """A company asks the register for an address with the person's consent, then after its
    revocation: consent artefacts, their status chain and both outcomes are written."""
    bank = agencies.get_agency("bank")
    today = clock.now().date()
    with db.transaction(engine) as session:
        mesh.grant(
            session,
            client=bank.subsystem,
            service=mesh.BASIC_FOUR_SERVICE,
            task="口座開設時の本人確認",
            legal_basis="本人の同意",
            items=["address"],
            actor="operator:scanner-demo",
        )
        consent = mesh.grant_consent(
            session,
            person_id=person_id,
            company=bank.subsystem,
            purpose_code="account_opening",
            purpose_text="口座開設時の本人確認のため",
            items=["address"],
            valid_from=today,
            valid_until=today + timedelta(days=30),
            data_life_days=30,
            actor=f"person:{person_id}",
        )
        code = mesh.agency_code(session, bank.subsystem, person_id)
        allowed = mesh.call(
            session,
            client=bank.subsystem,
            service=mesh.BASIC_FOUR_SERVICE,
            agency_code=code,
            items=["address"],
        )
        assert allowed.ok, allowed.message
        mesh.set_consent_status(session, consent.id, "revoked", actor=f"person:{person_id}")
    with db.transaction(engine) as session:
        refused = mesh.call(
            session,
            client=bank.subsystem,
            service=mesh.BASIC_FOUR_SERVICE,
            agency_code=code,
            items=["address"],
        )
        assert not refused.ok


def _sqlite_files(url: str) -> list[Path]:
    if not url.startswith("sqlite:///"):
        return []
    path = Path(url.removeprefix("sqlite:///"))
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def test_a_demo_run_leaves_no_individual_number_outside_the_register(database_url: str) -> None:
    collect = _Collect()
    root = logging.getLogger()
    kiban_logger = logging.getLogger("kiban")
    old_level = kiban_logger.level
    root.addHandler(collect)
    kiban_logger.setLevel(logging.DEBUG)
    outputs: list[tuple[str, str]] = []
    try:
        _cli(outputs, "migrate")
        _cli(outputs, "seed", "--size", "tiny", "--seed", "7")
        engine = db.get_engine()
        newcomer = _register_changes(engine)
        _company_exchange(engine, newcomer)
        listed = json.loads(_cli(outputs, "residents", "list", "--format", "json"))
        _cli(outputs, "residents", "show", "--person-id", listed[0]["id"])
        _cli(outputs, "residents", "show", "--person-id", str(newcomer), "--format", "json")
        _cli(outputs, "audit", "verify")
    finally:
        root.removeHandler(collect)
        kiban_logger.setLevel(old_level)

    assigned = assigned_numbers(engine)
    assert len(assigned) >= 60  # The demo really ran and the register holds its numbers.
    # Events, audit entries, cards, the mesh's codes, deliveries and access records and the
    # agencies' records were written (and so are scanned).
    written = (
        "platform_outbox_events",
        "platform_audit_entries",
        "identity_cards",
        "mesh_agency_codes",
        "mesh_deliveries",
        "mesh_access_records",
        "mesh_consents",
        "mesh_consent_statuses",
        "agencies_insurer_members",
        "agencies_tax_incomes",
    )
    with engine.connect() as conn:
        empty = [
            name
            for name in written
            if not conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()  # noqa: S608
        ]
    assert not empty
    data_dir = get_settings().data_dir
    assert any(data_dir.rglob("*.card"))

    hits = [
        *scan_database(engine, assigned),
        *scan_texts(collect.lines, assigned),
        *scan_texts(outputs, assigned),
        *scan_files(data_dir, assigned, skip=_sqlite_files(database_url)),
    ]
    assert not hits, "individual numbers outside the register:\n" + "\n".join(map(str, hits))


def test_scanner_finds_a_planted_number(database_url: str, tmp_path: Path) -> None:
    runner_result = runner.invoke(app, ["seed", "--size", "tiny", "--seed", "7"])
    assert runner_result.exit_code == 0, runner_result.output
    engine = db.get_engine()
    assigned = assigned_numbers(engine)
    assert not scan_database(engine, assigned)
    number = sorted(assigned)[0]
    with db.transaction(engine) as session:
        audit.record(
            session,
            tag="scanner:test:planted",
            actor="test",
            subject="planted",
            data={"note": f"番号 {number}"},
        )

    hits = scan_database(engine, assigned)
    assert [hit.where.split(" row ")[0] for hit in hits] == ["platform_audit_entries.data"]
    assert hits[0].masked == mask(number)
    assert number not in str(hits[0])

    # Any valid number is found, not only assigned ones; written 4-4-4, in full-width digits.
    stranger = _number(5)
    assert find_numbers(f"x {stranger} y") == [stranger]
    spaced = f"{stranger[:4]} {stranger[4:8]} {stranger[8:]}"
    assert find_numbers(spaced) == [stranger]
    assert find_numbers(spaced.translate(str.maketrans("0123456789", "０１２３４５６７８９"))) == [
        stranger
    ]
    # Not inside a longer digit string, not in random hex; an assigned one even there.
    assert find_numbers(f"9{stranger}") == []
    assert find_numbers(f"deadbeefcafe{stranger}abcd") == []
    assert find_numbers(f"deadbeefcafe{number}abcd", assigned) == [number]
    # Inside a signed message (a JWS payload) and inside a PEM block.
    payload = base64.urlsafe_b64encode(json.dumps({"n": stranger}).encode()).decode().rstrip("=")
    assert find_numbers(f"eyJhbGciOiJFZERTQSJ9.{payload}.c2lnbmF0dXJl") == [stranger]
    pem = base64.b64encode(f"CN={stranger}".encode()).decode()
    block = f"-----BEGIN CERTIFICATE-----\\n{pem}\\n-----END CERTIFICATE-----"
    assert find_numbers(json.dumps({"certificate": block})) == [stranger]
    wrong = stranger[:11] + str((int(stranger[11]) + 1) % 10)
    assert find_numbers(wrong) == []

    # The files and texts scanners find it too.
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "note.txt").write_text(f"id={number}\n", encoding="utf-8")
    assert [hit.where for hit in scan_files(planted, assigned)] == ["file note.txt"]
    assert scan_texts([("log x", f"mynumber={stranger}")], frozenset()) == [
        Hit("log x", mask(stranger))
    ]


@pytest.mark.parametrize("shape", ["uuid", "digest"])
def test_hex_tokens_are_not_taken_for_numbers(shape: str) -> None:
    number = _number(11)
    value = f"01234567-89ab-4cde-8f01-{number}" if shape == "uuid" else f"{'a' * 52}{number}"
    assert find_numbers(value) == []
    assert find_numbers(value, frozenset({number})) == [number]
