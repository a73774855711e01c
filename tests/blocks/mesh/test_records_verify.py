"""Tampering with the access-record log is found and pinpointed, online and from an export."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import mesh
from kiban.blocks.mesh import record_scan, record_verify, records
from kiban.blocks.mesh.record_models import MeshAccessRecord
from kiban.cli import app, mesh_records
from kiban.kernel import clock

from .records_support import exchange, record

runner = CliRunner()


@pytest.fixture
def log(session: Session) -> Session:
    """Twenty records (ten exchanges), checkpointed at twelve."""
    person = uuid.uuid4()
    for i in range(6):
        mesh.append_records(session, exchange(person, f"m{i}"))
    session.commit()
    mesh.make_checkpoint(session)
    for i in range(6, 10):
        mesh.append_records(session, exchange(person, f"m{i}"))
    session.commit()
    assert mesh.verify_log(session).ok
    session.rollback()  # End the read, which on SQLite holds the write lock.
    return session


def _renumber(session: Session, after: int, by: int) -> None:
    """Shift the sequence numbers above ``after`` by ``by`` (two steps: they are unique)."""
    session.execute(
        text("UPDATE mesh_access_records SET seq = -(seq + :by) WHERE seq > :after"),
        {"by": by, "after": after},
    )
    session.execute(text("UPDATE mesh_access_records SET seq = -seq WHERE seq < 0"))


def _first(session: Session) -> tuple[int, str]:
    report = mesh.verify_log(session)
    assert not report.ok
    assert report.first is not None
    return report.first.seq, report.first.kind


def test_an_edited_field_is_found(log: Session) -> None:
    log.execute(text("UPDATE mesh_access_records SET items = '[\"income\"]' WHERE seq = 7"))
    log.commit()
    assert _first(log) == (7, "modified")


def test_an_edit_with_a_recomputed_hash_is_found_by_the_chain_and_the_checkpoint(
    log: Session,
) -> None:
    row = log.scalars(select(MeshAccessRecord).where(MeshAccessRecord.seq == 7)).one()
    row.outcome = "refused:mesh.no_grant"
    fields = records.canonical_fields(
        records._create_of(row), seq=7, recorded_at=row.recorded_at, prev_hash=row.prev_hash
    )
    row.hash = records.record_hash(fields)
    log.commit()
    report = mesh.verify_log(log)
    assert report.first == mesh.RecordProblem(
        7, "modified", "its hash was rewritten; the next record links to the original"
    )
    assert any(p.kind == "checkpoint" and p.seq == 12 for p in report.problems)


def test_a_deleted_row_is_found(log: Session) -> None:
    log.execute(text("DELETE FROM mesh_access_records WHERE seq = 7"))
    log.commit()
    assert _first(log) == (7, "deleted")


def test_a_deleted_row_is_found_even_when_the_gap_is_closed(log: Session) -> None:
    log.execute(text("DELETE FROM mesh_access_records WHERE seq = 7"))
    _renumber(log, 7, -1)
    log.execute(text("UPDATE mesh_record_chain_heads SET last_seq = 19"))
    log.commit()
    report = mesh.verify_log(log)
    assert report.first == mesh.RecordProblem(
        7, "deleted", "record 8 links to a record that is gone"
    )
    # The renumbered records themselves are genuine: nothing else but the checkpoint is flagged.
    assert {p.kind for p in report.problems} == {"deleted", "checkpoint"}


def test_a_forged_row_slipped_in_is_found(log: Session) -> None:
    # The forger makes room after record 7 and inserts a well-formed, well-hashed record there.
    seven = log.scalars(select(MeshAccessRecord).where(MeshAccessRecord.seq == 7)).one()
    _renumber(log, 7, 1)
    forged = record(seven.person_id, "forged")
    now = clock.now()
    fields = records.canonical_fields(forged, seq=8, recorded_at=now, prev_hash=seven.hash)
    log.add(
        MeshAccessRecord(
            **fields_as_columns(forged),
            seq=8,
            recorded_at=now,
            prev_hash=seven.hash,
            hash=records.record_hash(fields),
        )
    )
    log.commit()
    assert _first(log) == (8, "inserted")


def test_a_forged_row_appended_after_the_head_is_found(log: Session) -> None:
    last = log.scalars(select(MeshAccessRecord).where(MeshAccessRecord.seq == 20)).one()
    forged = record(last.person_id, "forged")
    now = clock.now()
    fields = records.canonical_fields(forged, seq=21, recorded_at=now, prev_hash=last.hash)
    log.add(
        MeshAccessRecord(
            **fields_as_columns(forged),
            seq=21,
            recorded_at=now,
            prev_hash=last.hash,
            hash=records.record_hash(fields),
        )
    )
    log.commit()
    assert _first(log) == (21, "inserted")


def test_two_swapped_rows_are_found(log: Session) -> None:
    log.execute(text("UPDATE mesh_access_records SET seq = -1 WHERE seq = 5"))
    log.execute(text("UPDATE mesh_access_records SET seq = 5 WHERE seq = 9"))
    log.execute(text("UPDATE mesh_access_records SET seq = 9 WHERE seq = -1"))
    log.commit()
    report = mesh.verify_log(log)
    assert report.first is not None
    assert (report.first.seq, report.first.kind) == (5, "reordered")
    assert [(p.seq, p.kind) for p in report.problems] == [(5, "reordered"), (9, "reordered")]


def test_a_forged_checkpoint_signature_is_found(log: Session) -> None:
    log.execute(text("UPDATE mesh_record_checkpoints SET signature = :s"), {"s": "00" * 64})
    log.commit()
    assert _first(log) == (12, "checkpoint")


def fields_as_columns(item: mesh.AccessRecordCreate) -> dict[str, object]:
    return {
        "person_id": item.person_id,
        "side": item.side,
        "member": item.member,
        "counterpart": item.counterpart,
        "agency_code": item.agency_code,
        "service": item.service,
        "items": item.items,
        "legal_basis": item.legal_basis,
        "consent_id": item.consent_id,
        "message_id": item.message_id,
        "request_hash": item.request_hash,
        "response_hash": item.response_hash,
        "outcome": item.outcome,
        "requested_at": item.requested_at,
        "provided_at": item.provided_at,
        "non_disclosure_until": item.non_disclosure_until,
    }


# --- The command line ------------------------------------------------------------------------


def test_cli_checkpoint_export_and_offline_verify(log: Session, tmp_path: Path) -> None:
    made = runner.invoke(app, ["mesh", "checkpoint"])
    assert made.exit_code == 0, made.output
    assert "20 records" in made.output
    export = tmp_path / "records.ndjson"
    exported = runner.invoke(app, ["mesh", "export-log", str(export)])
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(app, ["mesh", "verify", "--file", str(export)])
    assert verified.exit_code == 0, verified.output
    assert "20 records, 2 checkpoints verified" in verified.output

    # Swapping two record lines of the export is found offline.
    lines = export.read_text(encoding="utf-8").splitlines()
    lines[3], lines[6] = lines[6], lines[3]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tampered = runner.invoke(app, ["mesh", "verify", "--file", str(export)])
    assert tampered.exit_code == 1
    assert "reordered record at seq 3" in tampered.output

    # Editing a field in the export is found too.
    lines[3], lines[6] = lines[6], lines[3]
    edited = json.loads(lines[10])
    edited["legal_basis"] = "なし"
    lines[10] = json.dumps(edited, ensure_ascii=False)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tampered = runner.invoke(app, ["mesh", "verify", "--file", str(export)])
    assert tampered.exit_code == 1
    assert "modified record at seq 10" in tampered.output


def test_cli_verify_of_the_database(log: Session) -> None:
    ok = runner.invoke(app, ["mesh", "verify"])
    assert ok.exit_code == 0, ok.output
    log.execute(text("DELETE FROM mesh_access_records WHERE seq = 3"))
    log.commit()
    broken = runner.invoke(app, ["mesh", "verify"])
    assert broken.exit_code == 1
    assert "deleted record at seq 3" in broken.output


def test_an_export_checked_against_another_key_fails(log: Session, tmp_path: Path) -> None:
    export = tmp_path / "records.ndjson"
    assert runner.invoke(app, ["mesh", "export-log", str(export)]).exit_code == 0
    stranger = "11" * 32
    result = runner.invoke(app, ["mesh", "verify", "--file", str(export), "--public-key", stranger])
    assert result.exit_code == 1
    assert "checkpoint" in result.output


def test_a_large_append_takes_the_bulk_path_and_verifies(session: Session) -> None:
    # Given an append as long as a batch exchange's (PostgreSQL writes it with COPY),
    person = uuid.uuid4()
    batch = [r for n in range(records.COPY_FROM) for r in exchange(person, f"bulk-{n}")]
    # (one record first, so that the long append follows a short one in the chain)
    records.append_records(session, [record(person, "first")])
    seqs = records.append_records(session, batch)
    session.commit()
    # then every record is stored as given, in order, and the log verifies with a checkpoint.
    assert seqs == list(range(2, len(batch) + 2))
    stored = session.scalars(select(MeshAccessRecord).order_by(MeshAccessRecord.seq)).all()
    assert [r.message_id for r in stored[1:]] == [r.message_id for r in batch]
    assert stored[-1].items == ["address", "moved_on"]
    assert stored[-1].requested_at == batch[-1].requested_at
    mesh.make_checkpoint(session)
    session.commit()
    assert mesh.verify_log(session).ok


# --- The streaming pass and the full analysis agree ------------------------------------------

TAMPERINGS = {
    "edited field": ["UPDATE mesh_access_records SET outcome = 'error:500' WHERE seq = 7"],
    "edited items": ["UPDATE mesh_access_records SET items = '[\"income\"]' WHERE seq = 7"],
    "broken link": ["UPDATE mesh_access_records SET prev_hash = :zeros WHERE seq = 7"],
    "deleted row": ["DELETE FROM mesh_access_records WHERE seq = 7"],
    "deleted last row": ["DELETE FROM mesh_access_records WHERE seq = 20"],
    "swapped rows": [
        "UPDATE mesh_access_records SET seq = -1 WHERE seq = 5",
        "UPDATE mesh_access_records SET seq = 5 WHERE seq = 9",
        "UPDATE mesh_access_records SET seq = 9 WHERE seq = -1",
    ],
    "bad signature": ["UPDATE mesh_record_checkpoints SET signature = :zeros"],
    "bad root": ["UPDATE mesh_record_checkpoints SET root_hash = :zeros WHERE tree_size = 12"],
    "head moved": ["UPDATE mesh_record_chain_heads SET last_hash = :zeros"],
}


def _full(session: Session) -> mesh.RecordVerifyReport:
    report = record_verify._analyse(record_verify.load_log(session), None)
    session.rollback()
    return report


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("tampering", [None, *TAMPERINGS])
def test_the_streaming_pass_reports_what_the_full_analysis_does(
    log: Session, tampering: str | None, workers: int
) -> None:
    # Given a log, intact or tampered with in one way,
    for statement in TAMPERINGS.get(tampering or "", []):
        log.execute(text(statement), {"zeros": "0" * 64})
    log.commit()
    # when it is verified (in one process, or in parts by two),
    report = mesh.verify_log(log, workers=workers)
    log.rollback()
    # then the report is the full analysis's, finding for finding.
    assert report == _full(log)
    assert report.ok is (tampering is None)


def test_a_broken_link_names_the_record_and_its_predecessor(log: Session) -> None:
    log.execute(
        text("UPDATE mesh_access_records SET prev_hash = :h WHERE seq = 7"), {"h": "1" * 64}
    )
    log.commit()
    report = mesh.verify_log(log)
    assert (7, "modified") in [(p.seq, p.kind) for p in report.problems]
    assert report.first is not None
    assert report.first.seq in (6, 7)


def test_a_checkpoint_with_another_root_is_found(log: Session) -> None:
    log.execute(text("UPDATE mesh_record_checkpoints SET root_hash = :h"), {"h": "ab" * 32})
    log.commit()
    report = mesh.verify_log(log)
    assert [(p.seq, p.kind) for p in report.problems] == [(12, "checkpoint")]


def test_the_streaming_pass_rebuilds_the_canonical_encoding_of_awkward_records(
    session: Session,
) -> None:
    # Given records with every optional field set or empty, text that JSON escapes, non-ASCII
    # text and several distinct instants,
    person = uuid.uuid4()
    awkward = [
        record(person, 'q"uote\\back\nline\ttab\x01', legal_basis=None, response_hash=None),
        record(
            person,
            "consent",
            side="provider",
            consent_id=uuid.uuid4(),
            non_disclosure_until=date(2027, 4, 1),
            items=["住所", 'a"b', "\u2028"],
            legal_basis="番号法第19条第8号「別表」",
            outcome="refused:mesh.no_grant",
            provided_at=None,
        ),
        record(person, "later", requested_at=datetime(2026, 12, 31, 23, 59, 59, 1, tzinfo=UTC)),
    ]
    for item in awkward:
        mesh.append_records(session, [item])
    mesh.append_records(session, [r for n in range(5) for r in exchange(person, f"x{n}")])
    session.commit()
    mesh.make_checkpoint(session)
    session.commit()
    # when the log is streamed, every stored hash matches the encoding rebuilt from the columns
    connection = session.connection()
    driver = connection.connection.driver_connection
    scan = record_scan.scan_log(connection.dialect, driver, {3, 13})
    assert (scan.intact, scan.records, scan.reason) == (True, 13, None)
    # and the Merkle roots are kiban's.
    hashes = list(session.scalars(select(MeshAccessRecord.hash).order_by(MeshAccessRecord.seq)))
    assert record_scan.root(scan.frontiers[3]) == records.merkle_root(hashes[:3])
    assert record_scan.root(scan.frontiers[13]) == records.merkle_root(hashes)
    session.rollback()
    assert mesh.verify_log(session).ok


@pytest.mark.parametrize("total", [1, 2, 5, 16, 17, 100, 1000])
def test_parts_join_into_the_tree_of_the_whole_log(total: int) -> None:
    # Given the hashes of a log cut into parts of a power of two,
    hashes = [hashlib.sha256(str(n).encode()).digest() for n in range(total)]
    sizes = {1, total // 2 or 1, total}
    parts = record_scan.parts_of(total, 8, sizes)
    assert parts[0].after == 0
    assert parts[-1].upto is None
    assert sorted(s for p in parts for s in p.sizes) == sorted(sizes)
    # the frontiers of the parts, joined in order, give the roots of the whole tree.
    frontier: record_scan.Frontier = []
    for part in parts:
        local: record_scan.Frontier = []
        for n in range(part.after, part.upto or total):
            leaf = hashlib.sha256(b"\x00" + hashes[n]).digest()
            local = record_scan.joined(local, [(0, leaf)])
            if n + 1 in part.sizes:
                joined = record_scan.root(record_scan.joined(frontier, local))
                assert joined == records.merkle_root(h.hex() for h in hashes[: n + 1])
        frontier = record_scan.joined(frontier, local)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_cli_verify_reports_progress_to_the_end(
    log: Session, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    # Given a bar drawn from one record on (a real log needs 10,000),
    monkeypatch.setattr(mesh_records, "PROGRESS_THRESHOLD", 1)
    told: list[tuple[int, int]] = []
    draw = mesh_records._Bar.__call__

    def spy(bar: mesh_records._Bar, done: int, total: int) -> None:
        told.append((done, total))
        draw(bar, done, total)

    monkeypatch.setattr(mesh_records._Bar, "__call__", spy)
    # when the command verifies the log, in one process or in two,
    result = runner.invoke(app, ["mesh", "verify", "--workers", workers])
    # then it succeeds and the bar was last told that every record was read.
    assert result.exit_code == 0, result.output
    assert "20 records, 1 checkpoints verified" in result.output
    assert told
    assert told[-1] == (20, 20)
