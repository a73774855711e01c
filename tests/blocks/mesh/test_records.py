"""Access records: the hash chain, group commit, signed checkpoints, the person's view."""

from __future__ import annotations

import itertools
import threading
import uuid
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from kiban.blocks import mesh
from kiban.blocks.mesh import records
from kiban.blocks.mesh.record_models import MeshAccessRecord
from kiban.kernel import clock
from kiban.kernel.errors import ValidationFailed

from .records_support import exchange, record, root_of, verify_inclusion


def _all(session: Session) -> list[MeshAccessRecord]:
    return list(session.scalars(select(MeshAccessRecord).order_by(MeshAccessRecord.seq)))


def test_records_are_chained_and_each_hash_covers_every_field(session: Session) -> None:
    person = uuid.uuid4()
    # When two exchanges are recorded (each with both sides' rows),
    first = [
        record(
            person,
            "m1",
            side="requester",
            consent_id=uuid.uuid4(),
            non_disclosure_until=date(2031, 3, 31),
        ),
        record(person, "m1", side="provider"),
    ]
    assert mesh.append_records(session, first) == [1, 2]
    assert mesh.append_records(session, exchange(person, "m2")) == [3, 4]
    session.commit()
    session.expire_all()
    rows = _all(session)
    # (what is read back is what was written, whichever statements wrote it),
    assert [records._create_of(row) for row in rows[:2]] == list(first)
    # then the rows link up from the genesis, and each hash is over the canonical fields.
    assert [r.side for r in rows] == ["requester", "provider"] * 2
    assert rows[0].prev_hash == records.GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    for row in rows:
        fields = records.canonical_fields(
            records._create_of(row),
            seq=row.seq,
            recorded_at=row.recorded_at,
            prev_hash=row.prev_hash,
        )
        assert records.record_hash(fields) == row.hash
        changed = {**fields, "outcome": "refused:mesh.no_grant"}
        assert records.record_hash(changed) != row.hash


def test_a_malformed_record_is_refused_with_its_field_and_nothing_is_written(
    session: Session,
) -> None:
    person = uuid.uuid4()
    bad = [record(person, "m1"), record(person, "m1", outcome="fine")]
    with pytest.raises(ValidationFailed) as refused:
        mesh.append_records(session, bad)
    assert refused.value.field == "outcome"
    with pytest.raises(ValidationFailed) as refused:
        mesh.append_records(session, [record(person, "m2", items=["address", ""])])
    assert refused.value.field == "items"
    assert _all(session) == []


def test_group_commit_from_many_threads_keeps_one_unbroken_chain(engine: Engine) -> None:
    acknowledged: dict[str, list[int]] = {}
    lock = threading.Lock()
    person = uuid.uuid4()

    def gateway_thread(n: int) -> None:
        for i in range(25):
            message_id = f"t{n}-{i}"
            seqs = writer.write(exchange(person, message_id))
            with lock:
                acknowledged[message_id] = seqs

    # Given a writer and eight request threads writing both sides of 25 exchanges each,
    with mesh.RecordWriter(engine) as writer:
        threads = [threading.Thread(target=gateway_thread, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # then every write was acknowledged with two consecutive numbers of its own,
    assert len(acknowledged) == 200
    every = sorted(seq for seqs in acknowledged.values() for seq in seqs)
    assert every == list(range(1, 401))
    assert writer.committed == 400
    with Session(engine) as session:
        stored = {row.seq: row.message_id for row in _all(session)}
        for message_id, seqs in acknowledged.items():
            assert [stored[s] for s in seqs] == [message_id, message_id]
        # and the chain verifies.
        assert mesh.verify_log(session).ok


def test_a_write_that_cannot_commit_fails_instead_of_returning(tmp_path: object) -> None:
    # A database without the tables: the commit fails, so the exchange must fail too.
    broken = create_engine(f"sqlite:///{tmp_path}/empty.db")
    try:
        writer = mesh.RecordWriter(broken)
        with pytest.raises(mesh.RecordWriteFailed):
            writer.write(exchange(uuid.uuid4(), "m1"))  # Not started yet.
        with writer, pytest.raises(mesh.RecordWriteFailed) as failed:
            writer.write(exchange(uuid.uuid4(), "m1"))
        assert failed.value.status == 503
        assert failed.value.code == "mesh.record_write_failed"
    finally:
        broken.dispose()


def test_checkpoints_sign_the_rfc6962_root_and_extend_incrementally(session: Session) -> None:
    person = uuid.uuid4()
    public = ed25519.Ed25519PublicKey.from_public_bytes(records.public_key())
    hashes: list[str] = []
    # For tree sizes that are and are not powers of two, made one after the other,
    for batch in (1, 1, 1, 2, 3, 5, 8, 1):
        mesh.append_records(session, [record(person, f"m{len(hashes) + i}") for i in range(batch)])
        session.commit()
        hashes = [row.hash for row in _all(session)]
        checkpoint = mesh.make_checkpoint(session)
        session.commit()
        # the root is the Merkle tree hash an independent implementation computes,
        assert checkpoint.tree_size == len(hashes)
        assert checkpoint.root_hash == root_of(hashes)
        # and the signature verifies with the published key.
        public.verify(
            bytes.fromhex(checkpoint.signature),
            records.checkpoint_message(
                checkpoint.tree_size, checkpoint.root_hash, checkpoint.created_at
            ),
        )
    # Without new records the latest checkpoint is returned, not a new one.
    again = mesh.make_checkpoint(session)
    assert again == mesh.latest_checkpoint(session)
    assert again.tree_size == 22


def test_a_checkpoint_is_due_after_ten_seconds_or_ten_thousand_records(session: Session) -> None:
    person = uuid.uuid4()
    assert not mesh.checkpoint_due(session)  # An empty log needs none.
    mesh.append_records(session, exchange(person, "m1"))
    session.commit()
    assert mesh.checkpoint_due(session)  # Never checkpointed.
    made = mesh.make_checkpoint(session)
    session.commit()
    assert not mesh.checkpoint_due(session, now=made.created_at + timedelta(hours=1))
    mesh.append_records(session, exchange(person, "m2"))
    session.commit()
    assert not mesh.checkpoint_due(session, now=made.created_at + timedelta(seconds=9))
    assert mesh.checkpoint_due(session, now=made.created_at + timedelta(seconds=10))
    assert mesh.checkpoint_due(session, now=made.created_at, max_records=2)
    assert not mesh.checkpoint_due(session, now=made.created_at, max_records=3)


def test_the_checkpointer_makes_a_checkpoint_when_one_is_due(engine: Engine) -> None:
    checkpointer = mesh.Checkpointer(engine)
    assert not checkpointer.tick()
    with Session(engine) as session:
        mesh.append_records(session, exchange(uuid.uuid4(), "m1"))
        session.commit()
    assert checkpointer.tick()
    assert not checkpointer.tick()
    with Session(engine) as session:
        latest = mesh.latest_checkpoint(session)
        assert latest is not None
        assert latest.tree_size == 2


def test_a_person_reads_their_records_newest_first_with_proofs(session: Session) -> None:
    me, someone_else = uuid.uuid4(), uuid.uuid4()
    for i in range(5):
        mesh.append_records(session, exchange(me, f"mine-{i}"))
        mesh.append_records(session, exchange(someone_else, f"theirs-{i}"))
    session.commit()
    checkpoint = mesh.make_checkpoint(session)
    mesh.append_records(session, exchange(me, "after-checkpoint"))
    session.commit()

    page = mesh.records_for_person(session, me, limit=4)
    # Newest first; only the person's own records.
    assert [r.message_id for r in page.records] == [
        "after-checkpoint",
        "after-checkpoint",
        "mine-4",
        "mine-4",
    ]
    assert page.checkpoint == checkpoint
    # A record newer than the checkpoint says so instead of carrying a proof.
    assert page.records[0].proof is None
    assert page.records[0].note == records.PENDING_NOTE
    # Every other record's proof convinces an independent verifier.
    for item in page.records[2:]:
        assert item.proof is not None
        assert verify_inclusion(
            item.hash, item.leaf_index, checkpoint.tree_size, item.proof, checkpoint.root_hash
        )
        assert not verify_inclusion(
            item.prev_hash, item.leaf_index, checkpoint.tree_size, item.proof, checkpoint.root_hash
        )
    # Paging: the next pages continue where this one stopped, without repeats.
    seen = [r.seq for r in page.records]
    before = page.next_before
    while before is not None:
        more = mesh.records_for_person(session, me, limit=4, before_seq=before)
        seen += [r.seq for r in more.records]
        before = more.next_before
    assert len(seen) == 12
    assert seen == sorted(seen, reverse=True)


def test_non_disclosed_records_are_withheld_until_their_release_date(session: Session) -> None:
    me = uuid.uuid4()
    release = date(2027, 4, 1)
    mesh.append_records(session, exchange(me, "open"))
    mesh.append_records(session, [record(me, "sealed", non_disclosure_until=release)])
    session.commit()

    before = mesh.records_for_person(session, me, today=release - timedelta(days=1))
    assert {r.message_id for r in before.records} == {"open"}
    assert before.next_before is None
    on_the_day = mesh.records_for_person(session, me, today=release)
    assert next(r.message_id for r in on_the_day.records) == "sealed"
    # The default is today in Japan.
    assert clock.today_jst() < release
    assert "sealed" not in {r.message_id for r in mesh.records_for_person(session, me).records}


def test_a_page_size_outside_the_range_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        mesh.records_for_person(session, uuid.uuid4(), limit=0)
    assert refused.value.field == "limit"
