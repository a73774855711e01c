"""Group commit of access records: one writer thread per engine and process, one commit for
every record waiting (see :mod:`kiban.blocks.mesh.records`)."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiban.blocks.mesh import codes as agency_codes
from kiban.blocks.mesh.record_chain import (
    CHECKPOINT_RECORDS,
    AccessRecordCreate,
    RecordWriteFailed,
    _check,
    append_records,
)
from kiban.blocks.mesh.record_checkpoints import _wake_checkpointers

logger = logging.getLogger(__name__)

# --- Group commit -----------------------------------------------------------------------------


@dataclass
class _Pending:
    records: Sequence[AccessRecordCreate]
    codes: Sequence[tuple[str, str, uuid.UUID]] = ()
    done: threading.Event = field(default_factory=threading.Event)
    seqs: list[int] = field(default_factory=list)
    error: BaseException | None = None


_STOP = object()


class RecordWriter:
    """Group commit of access records: many threads :meth:`write`, one thread commits.

    Use one writer per process and database (see :func:`record_writer`)::

        seqs = record_writer(engine).write([requester_record, provider_record])

    ``write`` blocks until the batch holding the records has committed and returns their
    sequence numbers, or raises :class:`RecordWriteFailed` (``mesh.record_write_failed``, 503)
    if they could not be stored or ``timeout`` passed; the caller must then fail the exchange.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 2_000, durable: bool = True) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.durable = durable
        self.batches = 0
        self.committed = 0
        self._poked = 0
        self._queue: queue.Queue[_Pending | object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> RecordWriter:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mesh-record-writer", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def __enter__(self) -> RecordWriter:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def write(
        self,
        records: Sequence[AccessRecordCreate],
        *,
        timeout: float | None = 30.0,
        codes: Sequence[tuple[str, str, uuid.UUID]] = (),
    ) -> list[int]:
        """Queue ``records`` and wait until they are committed; their sequence numbers.
        ``codes`` — (member, agency code, person) — are stored in the same commit (see
        :func:`kiban.blocks.mesh.codes.store_codes`): the codes the records name."""
        for record in records:
            _check(record)
        if not records:
            return []
        if self._thread is None:
            raise RecordWriteFailed("the record writer is not running")
        pending = _Pending(list(records), list(codes))
        self._queue.put(pending)
        if not pending.done.wait(timeout):
            raise RecordWriteFailed("timed out waiting for the commit")
        if pending.error is not None:
            raise RecordWriteFailed(type(pending.error).__name__) from pending.error
        return pending.seqs

    def _run(self) -> None:
        connection = self.engine.connect()
        try:
            if self.durable and self.engine.dialect.name == "sqlite":
                # Outside any transaction (the driver runs in autocommit mode, see
                # kiban.platform.db): every commit of this connection now waits for fsync.
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA synchronous=FULL"
                )
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                batch = [cast(_Pending, first)]
                size = len(batch[0].records)
                while size < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(cast(_Pending, item))
                    size += len(cast(_Pending, item).records)
                self._commit(connection, batch)
        finally:
            connection.close()

    def _commit(self, connection: Any, batch: list[_Pending]) -> None:
        try:
            stored = [c for p in batch for c in p.codes]
            with Session(bind=connection) as session:
                if stored:
                    agency_codes.store_codes(session, stored)
                seqs = append_records(session, [r for p in batch for r in p.records])
                session.commit()
            if stored:
                agency_codes.mark_all_stored(self.engine, stored)
        except Exception as error:
            logger.exception("access records batch of %d requests failed", len(batch))
            for pending in batch:
                pending.error = error
                pending.done.set()
            return
        self.batches += 1
        self.committed += len(seqs)
        if self.committed - self._poked >= CHECKPOINT_RECORDS:
            # Do not wait for the checkpointer's next poll: at tens of thousands of records per
            # second a second's worth would overshoot the 10,000-record bound.
            self._poked = self.committed
            _wake_checkpointers()
        at = 0
        for pending in batch:
            pending.seqs = seqs[at : at + len(pending.records)]
            at += len(pending.records)
            pending.done.set()


_writers: dict[str, RecordWriter] = {}
_writers_lock = threading.Lock()


def record_writer(engine: Engine) -> RecordWriter:
    """The running writer of this process for ``engine``'s database (started on first use)."""
    key = engine.url.render_as_string(hide_password=False)
    with _writers_lock:
        writer = _writers.get(key)
        if writer is None:
            writer = _writers[key] = RecordWriter(engine).start()
        return writer


def stop_record_writers() -> None:
    """Commit what is queued and stop every writer (at shutdown)."""
    with _writers_lock:
        writers = list(_writers.values())
        _writers.clear()
    for writer in writers:
        writer.stop()
