"""The audit log is a hash chain that names every tampered entry by sequence number."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
import typer
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.cli.audit import app as audit_cli
from kiban.platform import audit, db
from kiban.platform.models import AuditEntry


def _seed(engine: Engine, n: int = 10) -> None:
    with db.transaction(engine) as session:
        for i in range(1, n + 1):
            audit.record(
                session,
                tag="test:thing:changed",
                actor="official:1",
                subject=f"thing-{i}",
                data={"i": i, "name": "山田 太郎"},
            )


def _verify(engine: Engine) -> audit.VerifyReport:
    with db.session_factory(engine)() as session:
        return audit.verify(session)


def _found(report: audit.VerifyReport) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def _exec(engine: Engine, *statements: str, **params: object) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def test_record_links_each_entry_to_the_previous_one(engine: Engine) -> None:
    # Given entries recorded in two transactions,
    _seed(engine, 3)
    with db.transaction(engine) as session:
        entry = audit.record(
            session, tag="test:thing:changed", actor="a", subject="s", data={"k": [1, 2]}
        )
    # then they are numbered 1..4, chained by hash, and the chain verifies.
    assert entry.seq == 4
    with db.session_factory(engine)() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert rows[3].data == {"k": [1, 2]}
    report = _verify(engine)
    assert report.ok
    assert report.entries == 4


def test_hash_is_sha256_of_the_canonical_form() -> None:
    instant = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    fields = {
        "seq": 1,
        "recorded_at": instant,
        "tag": "a:b:c",
        "actor": "x",
        "subject": "y",
        "data": {"b": 1, "a": "日本"},
        "prev_hash": audit.GENESIS_HASH,
    }
    assert (
        audit.canonical(**fields)
        == (
            '{"actor":"x","data":{"a":"日本","b":1},"prev_hash":"' + "0" * 64 + '",'
            '"recorded_at":"2026-04-01T00:00:00.000000Z","seq":1,"subject":"y","tag":"a:b:c"}'
        ).encode()
    )
    assert len(audit.compute_hash(**fields)) == 64


def test_a_rolled_back_entry_leaves_no_gap(engine: Engine) -> None:
    _seed(engine, 2)
    session = db.session_factory(engine)()
    audit.record(session, tag="test:thing:changed", actor="a", subject="s")
    session.rollback()
    session.close()
    _seed(engine, 1)
    report = _verify(engine)
    assert report.ok
    assert report.entries == 3


def test_bad_tags_and_values_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="source:subject:action"):
        audit.record(session, tag="registered", actor="a", subject="s")
    with pytest.raises(ValueError, match="naive"):
        audit.record(session, tag="a:b:c", actor="a", subject="s", recorded_at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_record_many_continues_the_same_chain(engine: Engine) -> None:
    _seed(engine, 2)
    with db.transaction(engine) as session:
        n = audit.record_many(
            session,
            (audit.Entry("test:person:seeded", "seed", f"p{i}", {"i": i}) for i in range(12_000)),
        )
        audit.record(session, tag="test:thing:changed", actor="a", subject="after")
    assert n == 12_000
    report = _verify(engine)
    assert report.ok
    assert report.entries == 12_003


def test_concurrent_appenders_do_not_fork_the_chain(engine: Engine) -> None:
    # Given eight threads appending at the same time, each in its own transactions,
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for i in range(10):
                with db.transaction(engine) as session:
                    audit.record(
                        session, tag="test:thing:changed", actor=f"w{worker}", subject=str(i)
                    )
        except BaseException as exc:  # Reported by the main thread.
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every entry got its own number and the chain is one line.
    assert errors == []
    report = _verify(engine)
    assert report.ok, report.problems
    assert report.entries == 80


def test_modified_entry_is_named(engine: Engine) -> None:
    _seed(engine)
    _exec(engine, """UPDATE platform_audit_entries SET subject = 'someone-else' WHERE seq = 5""")
    report = _verify(engine)
    assert not report.ok
    assert _found(report) == [(5, "modified")]


def test_modified_entry_with_rewritten_hash_is_named(engine: Engine) -> None:
    # Given an attacker who changes entry 5 and recomputes its hash,
    _seed(engine)
    with db.session_factory(engine)() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.seq == 5)).one()
        forged = audit.compute_hash(
            seq=5,
            recorded_at=row.recorded_at,
            tag=row.tag,
            actor=row.actor,
            subject="someone-else",
            data=row.data,
            prev_hash=row.prev_hash,
        )
    _exec(
        engine,
        "UPDATE platform_audit_entries SET subject = 'someone-else', hash = :h WHERE seq = 5",
        h=forged,
    )
    # then entry 6 no longer links to it, and verify names entry 5.
    assert _found(_verify(engine)) == [(5, "modified")]


def test_deleted_entry_is_named(engine: Engine) -> None:
    _seed(engine)
    _exec(engine, "DELETE FROM platform_audit_entries WHERE seq = 4")
    assert _found(_verify(engine)) == [(4, "deleted")]


def test_deleted_entry_with_renumbering_is_named(engine: Engine) -> None:
    # Given an attacker who deletes entry 4 and closes the gap in the numbering,
    _seed(engine)
    _exec(
        engine,
        "DELETE FROM platform_audit_entries WHERE seq = 4",
        "UPDATE platform_audit_entries SET seq = -seq WHERE seq > 4",
        "UPDATE platform_audit_entries SET seq = -seq - 1 WHERE seq < 0",
        "UPDATE platform_audit_chain_head SET last_seq = last_seq - 1",
    )
    # then verify still names the place of the deletion, and nothing else.
    assert _found(_verify(engine)) == [(4, "deleted")]


def test_deleted_last_entries_are_named(engine: Engine) -> None:
    _seed(engine)
    _exec(engine, "DELETE FROM platform_audit_entries WHERE seq >= 9")
    assert _found(_verify(engine)) == [(9, "deleted"), (10, "deleted")]


def test_inserted_entry_is_named(engine: Engine) -> None:
    # Given an attacker who renumbers entries 6.. and slips in a well-formed entry at 6,
    _seed(engine)
    with db.session_factory(engine)() as session:
        fifth = session.scalars(select(AuditEntry).where(AuditEntry.seq == 5)).one()
    instant = datetime.now(UTC)
    forged = audit.compute_hash(
        seq=6,
        recorded_at=instant,
        tag="test:thing:changed",
        actor="official:1",
        subject="forged",
        data={},
        prev_hash=fifth.hash,
    )
    _exec(
        engine,
        "UPDATE platform_audit_entries SET seq = -seq WHERE seq >= 6",
        "UPDATE platform_audit_entries SET seq = -seq + 1 WHERE seq < 0",
        "UPDATE platform_audit_chain_head SET last_seq = last_seq + 1",
    )
    with db.transaction(engine) as session:
        session.add(
            AuditEntry(
                seq=6,
                recorded_at=instant,
                tag="test:thing:changed",
                actor="official:1",
                subject="forged",
                data={},
                prev_hash=fifth.hash,
                hash=forged,
            )
        )
    # then entry 7 (the old 6) links past it, and verify names entry 6 as inserted.
    assert _found(_verify(engine)) == [(6, "inserted")]


def test_entry_appended_behind_the_chain_head_is_named(engine: Engine) -> None:
    _seed(engine, 3)
    with db.session_factory(engine)() as session:
        third = session.scalars(select(AuditEntry).where(AuditEntry.seq == 3)).one()
    instant = datetime.now(UTC)
    fields = {
        "seq": 4,
        "recorded_at": instant,
        "tag": "a:b:c",
        "actor": "x",
        "subject": "y",
        "data": {},
        "prev_hash": third.hash,
    }
    with db.transaction(engine) as session:
        session.add(AuditEntry(**fields, hash=audit.compute_hash(**fields)))  # type: ignore[arg-type]
    assert _found(_verify(engine)) == [(4, "inserted")]


def test_reordered_entries_are_named(engine: Engine) -> None:
    # Given an attacker who swaps the places of entries 5 and 6,
    _seed(engine)
    _exec(
        engine,
        "UPDATE platform_audit_entries SET seq = -1 WHERE seq = 5",
        "UPDATE platform_audit_entries SET seq = 5 WHERE seq = 6",
        "UPDATE platform_audit_entries SET seq = 6 WHERE seq = -1",
    )
    # then verify names both places as reordered.
    assert _found(_verify(engine)) == [(5, "reordered"), (6, "reordered")]


def test_cli_verify_exit_codes(engine: Engine) -> None:
    # Mounted as in kiban.cli, so the command line is the real one: kiban audit verify.
    runner = CliRunner()
    root = typer.Typer()
    root.add_typer(audit_cli, name="audit")
    empty = runner.invoke(root, ["audit", "verify"])
    assert empty.exit_code == 0, empty.output
    assert "0 entries" in empty.output
    _seed(engine, 5)
    intact = runner.invoke(root, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "intact: 5 entries" in intact.output
    _exec(engine, "UPDATE platform_audit_entries SET data = '{\"i\": 99}' WHERE seq = 2")
    broken = runner.invoke(root, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "seq 2: modified" in broken.output


def test_cli_verify_shows_progress_on_a_large_log(engine: Engine) -> None:
    with db.transaction(engine) as session:
        audit.record_many(
            session, (audit.Entry("test:person:seeded", "seed", f"p{i}") for i in range(10_001))
        )
    root = typer.Typer()
    root.add_typer(audit_cli, name="audit")
    result = CliRunner().invoke(root, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 10001 entries" in result.output


def test_sign_in_attempts_are_recorded_with_the_official_s_fields(session: Session) -> None:
    audit.record_sign_in(
        session,
        succeeded=True,
        source="127.0.0.1",
        actor="staff:acct-42",
        actor_id="acct-42",
        organisation="131016",
        role="clerk",
        details={"session_id": "s-1"},
    )
    audit.record_sign_in(session, succeeded=False, source="127.0.0.2", reason="not_staff")
    audit.record_sign_in(
        session, succeeded=False, source="127.0.0.3", reason="throttled", channel="api"
    )
    session.commit()

    ok, failed, api = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert (ok.tag, ok.actor, ok.subject) == ("staff:office:sign_in", "staff:acct-42", "acct-42")
    assert ok.data == {
        "session_id": "s-1",
        "actor_id": "acct-42",
        "organisation": "131016",
        "role": "clerk",
        "source": "127.0.0.1",
        "channel": "office",
    }
    assert (failed.tag, failed.actor, failed.subject) == (
        "staff:office:sign_in_failed",
        "system:office",
        "127.0.0.2",
    )
    assert failed.data == {"source": "127.0.0.2", "reason": "not_staff", "channel": "office"}
    assert (api.tag, api.actor) == ("staff:api:sign_in_failed", "system:api")
    assert audit.verify(session).ok


def test_entries_of_the_bound_principal_name_its_session(session: Session) -> None:
    acting = audit.ActingAs(
        actor="staff:a@131016/counter",
        account="a",
        organisation="131016",
        role="counter",
        session="office-session:s",
    )
    audit.bind_acting(session, acting)
    mine = audit.record(session, tag="x:y:z", actor=acting.actor, subject="s", data={"k": 1})
    other = audit.record(session, tag="x:y:z", actor="system:test", subject="s")
    audit.record_many(session, [audit.Entry(tag="x:y:w", actor=acting.actor, subject="s")])
    session.commit()
    by = {
        "account": "a",
        "organisation": "131016",
        "role": "counter",
        "session": "office-session:s",
    }
    assert mine.data == {"k": 1, "by": by}
    assert other.data == {}
    last = session.scalars(select(AuditEntry).where(AuditEntry.tag == "x:y:w")).one()
    assert last.data == {"by": by}
    assert audit.verify(session).ok
