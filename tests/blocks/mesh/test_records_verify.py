"""Tampering with the access-record log is found and pinpointed, online and from an export."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import mesh
from kiban.blocks.mesh import records
from kiban.blocks.mesh.record_models import MeshAccessRecord
from kiban.cli import app
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
