"""Signed Merkle checkpoints over the access records (RFC 6962) and their inclusion proofs."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from kiban.blocks.mesh.record_chain import (
    _BATCH,
    CHECKPOINT_CONTEXT,
    CHECKPOINT_INTERVAL,
    CHECKPOINT_RECORDS,
    GENESIS_HASH,
    HEAD_ID,
    KEY_NAME,
    CheckpointRead,
    _instant,
    _json,
)
from kiban.blocks.mesh.record_models import (
    MeshAccessRecord,
    MeshRecordChainHead,
    MeshRecordCheckpoint,
)
from kiban.kernel import clock
from kiban.kernel.errors import KibanError
from kiban.platform import keys

logger = logging.getLogger(__name__)

# --- Merkle tree (RFC 6962 §2.1) ---------------------------------------------------------------


def _leaf(record_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(record_hash_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _extend(frontier: list[tuple[int, bytes]], leaf: bytes) -> None:
    """Append a leaf to the list of perfect-subtree roots the tree decomposes into."""
    frontier.append((0, leaf))
    while len(frontier) >= 2 and frontier[-1][0] == frontier[-2][0]:
        height, right = frontier.pop()
        _, left = frontier.pop()
        frontier.append((height + 1, _node(left, right)))


def _frontier_root(frontier: list[tuple[int, bytes]]) -> bytes:
    if not frontier:
        return hashlib.sha256(b"").digest()
    root = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        root = _node(left, root)
    return root


def merkle_root(record_hashes: Iterable[str]) -> str:
    """The RFC 6962 Merkle tree hash (hex) over the record hashes, in order."""
    frontier: list[tuple[int, bytes]] = []
    for digest in record_hashes:
        _extend(frontier, _leaf(digest))
    return _frontier_root(frontier).hex()


def _levels(record_hashes: Sequence[str]) -> list[list[bytes]]:
    # Pairing bottom-up and carrying an odd last node up unchanged builds exactly the RFC 6962
    # tree (its left subtrees are the largest powers of two).
    level = [_leaf(digest) for digest in record_hashes]
    levels = [level]
    while len(level) > 1:
        level = [
            _node(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        levels.append(level)
    return levels


def _path(levels: list[list[bytes]], index: int) -> list[str]:
    path = []
    for level in levels[:-1]:
        if index % 2 == 1:
            path.append(level[index - 1].hex())
        elif index + 1 < len(level):
            path.append(level[index + 1].hex())
        index //= 2
    return path


def inclusion_path(record_hashes: Sequence[str], index: int) -> list[str]:
    """The RFC 6962 audit path (hex, leaf to root) of leaf ``index`` in the tree of all
    ``record_hashes``."""
    return _path(_levels(record_hashes), index)


# --- Checkpoints -------------------------------------------------------------------------------


def checkpoint_message(tree_size: int, root_hash: str, created_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = {"created_at": _instant(created_at), "root_hash": root_hash, "tree_size": tree_size}
    return CHECKPOINT_CONTEXT + _json(body).encode("utf-8")


def _signing_key() -> ed25519.Ed25519PrivateKey:
    key = keys.get_key_store().get_or_create(KEY_NAME, "ed25519")
    if not isinstance(key, ed25519.Ed25519PrivateKey):  # pragma: no cover - a misfiled key.
        raise TypeError(f"key {KEY_NAME} is not Ed25519")
    return key


def _raw_public(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def public_key() -> bytes:
    """The raw Ed25519 public key checkpoints are signed with (the trust anchor to publish)."""
    return _raw_public(_signing_key().public_key())


def _read_checkpoint(row: MeshRecordCheckpoint) -> CheckpointRead:
    return CheckpointRead(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        created_at=row.created_at,
        key_id=row.key_id,
        signature=row.signature,
    )


def _latest_row(session: Session) -> MeshRecordCheckpoint | None:
    return session.scalars(
        select(MeshRecordCheckpoint).order_by(MeshRecordCheckpoint.tree_size.desc()).limit(1)
    ).first()


def latest_checkpoint(session: Session) -> CheckpointRead | None:
    """The checkpoint over the most records, if any."""
    row = _latest_row(session)
    return None if row is None else _read_checkpoint(row)


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(MeshRecordChainHead.last_seq, MeshRecordChainHead.last_hash).where(
            MeshRecordChainHead.id == HEAD_ID
        )
    ).one_or_none()
    return (0, GENESIS_HASH) if row is None else (int(row.last_seq), str(row.last_hash))


class LogBroken(KibanError):
    """Records the chain head names are missing; a checkpoint would certify a damaged log."""

    code = "mesh.records_log_broken"
    status = 409

    def __init__(self, detail: str) -> None:
        super().__init__(
            "情報提供等記録が欠けています。`kiban mesh verify` で確認してください。",
            f"The access-record log is damaged ({detail}); run `kiban mesh verify`.",
        )


def make_checkpoint(session: Session) -> CheckpointRead:
    """Sign the Merkle root over every committed record, in the caller's transaction.

    Returns the latest checkpoint unchanged when no record was added since. Raises
    ``mesh.records_log_broken`` (409) when records the chain head names are missing.
    Two checkpointers racing for the same size: the second commit fails on the unique tree
    size, which the :class:`Checkpointer` ignores.
    """
    last = _latest_row(session)
    size, _ = _head(session)
    start = 0 if last is None else last.tree_size
    if last is not None and size <= start:
        return _read_checkpoint(last)
    frontier = [] if last is None else [(int(h), bytes.fromhex(x)) for h, x in last.frontier]
    added = 0
    result = session.execute(
        select(MeshAccessRecord.seq, MeshAccessRecord.hash)
        .where(MeshAccessRecord.seq > start, MeshAccessRecord.seq <= size)
        .order_by(MeshAccessRecord.seq)
        .execution_options(yield_per=_BATCH)
    )
    for seq, digest in result:
        if seq != start + added + 1:
            raise LogBroken(f"record {start + added + 1} is missing")
        _extend(frontier, _leaf(digest))
        added += 1
    if start + added != size:
        raise LogBroken(f"records {start + added + 1} to {size} are missing")
    root = _frontier_root(frontier).hex()
    created_at = clock.now()
    key = _signing_key()
    row = MeshRecordCheckpoint(
        tree_size=size,
        root_hash=root,
        created_at=created_at,
        key_id=_key_id(_raw_public(key.public_key())),
        signature=key.sign(checkpoint_message(size, root, created_at)).hex(),
        frontier=[[height, node.hex()] for height, node in frontier],
    )
    session.add(row)
    session.flush()
    return _read_checkpoint(row)


def checkpoint_due(
    session: Session,
    *,
    now: datetime | None = None,
    interval: float = CHECKPOINT_INTERVAL,
    max_records: int = CHECKPOINT_RECORDS,
) -> bool:
    """Whether records are waiting and ``interval`` seconds passed since the last checkpoint
    or ``max_records`` records are waiting."""
    size, _ = _head(session)
    last = _latest_row(session)
    covered = 0 if last is None else last.tree_size
    if size <= covered:
        return False
    if size - covered >= max_records or last is None:
        return True
    return (now or clock.now()) - last.created_at >= timedelta(seconds=interval)


_checkpointers: set[Checkpointer] = set()


def _wake_checkpointers() -> None:
    for checkpointer in list(_checkpointers):
        checkpointer.wake()


class Checkpointer:
    """A background thread that makes checkpoints when :func:`checkpoint_due` says so.

    It looks every ``poll`` seconds (and at once when a :class:`RecordWriter` of this process
    has committed 10,000 records); a checkpoint is due ``poll`` seconds early, so no record
    waits longer than ``interval`` for one.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = CHECKPOINT_INTERVAL,
        max_records: int = CHECKPOINT_RECORDS,
        poll: float = 1.0,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.max_records = max_records
        self.poll = poll
        self.made = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> Checkpointer:
        if self._thread is None:
            self._stop.clear()
            _checkpointers.add(self)
            self._thread = threading.Thread(
                target=self._run, name="mesh-record-checkpointer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        thread, self._thread = self._thread, None
        _checkpointers.discard(self)
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join(timeout)

    def tick(self) -> bool:
        """Make a checkpoint if one is due; whether one was made."""
        with Session(self.engine) as session:
            due = checkpoint_due(
                session, interval=max(self.interval - self.poll, 0.0), max_records=self.max_records
            )
            if not due:
                return False
            make_checkpoint(session)
            session.commit()
        self.made += 1
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.tick()
            except IntegrityError:
                continue  # Another process made the same checkpoint first.
            except (SQLAlchemyError, sqlite3.Error, KibanError):
                # The log or the database is in trouble; keep trying, the operator sees it in
                # the log and in `kiban mesh verify`. (SQLite's BEGIN IMMEDIATE goes straight
                # to the driver, so a locked database raises the driver's error.)
                logger.exception("could not make an access-record checkpoint")
