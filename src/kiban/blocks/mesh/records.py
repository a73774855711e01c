"""Access records (情報提供等記録): append-only, hash-chained, checkpointed, readable by the person.

Before the gateway releases a response it writes one record per side of the exchange (the
requester's and the provider's are separate rows) with :class:`RecordWriter`, or with
:func:`append_records` inside a transaction of its own.

**The chain.** Every record carries ``seq``, ``prev_hash`` and ``hash`` — SHA-256 over the
canonical encoding (sorted-key compact JSON, UTF-8) of every field including ``seq`` and
``prev_hash`` (see :func:`canonical_fields` and :func:`record_hash`). Appenders lock the
single-row chain head, so concurrent writers queue instead of forking the chain.

**Group commit.** :class:`RecordWriter` owns one database connection and a background thread.
Gateway threads call :meth:`RecordWriter.write`, which queues the records and blocks until the
batch holding them has been committed: the thread drains whatever is queued (up to
``max_batch`` records), appends it in one transaction and commits once, so one disk flush
serves every waiting request. ``write`` returns only after the commit has returned; on SQLite
the writer's connection runs with ``PRAGMA synchronous=FULL`` (the rest of kiban uses NORMAL,
which survives a killed process but not a power cut), so a returned ``write`` has been fsync'd
to the WAL; on PostgreSQL the default ``synchronous_commit=on`` gives the same guarantee. A
request whose records did not commit gets an exception, never a 2xx.

**Checkpoints.** :func:`make_checkpoint` signs (Ed25519, key ``mesh-records`` of
:mod:`kiban.platform.keys`) the RFC 6962 Merkle root over the record hashes in ``seq`` order.
A :class:`Checkpointer` thread (started by the web application) makes one whenever records are
waiting and either 10 seconds have passed since the last checkpoint or 10,000 records have
accumulated; ``kiban mesh checkpoint`` makes one on demand. The log is only checkpointed when
it grew: an idle log keeps its last checkpoint, which still covers every record.

**Reading.** :func:`records_for_person` pages a person's records newest first, each with an
inclusion proof (RFC 6962 audit path) against the latest checkpoint. A record newer than that
checkpoint comes with ``proof=None`` and a note: reading never writes, and the checkpointer
covers it within about 10 seconds. Records under a non-disclosure flag are left out until
their release date (Japan time), without a trace in the page.

**Verifying.** :func:`verify_log` checks a whole log — from the database or from the NDJSON of
:func:`export_log` — and names each modified, deleted, inserted or reordered record and each
checkpoint whose root or signature does not match. It rebuilds the original order by following
the hash links, so renumbering rows does not hide anything. A database's log is first read
in one streaming pass that certifies an intact log without holding it (in parts on every core
for ``kiban mesh verify``); only a log it does not certify, or an export, is held in memory
and analysed in full (ADR 0038).
"""

from __future__ import annotations

from kiban.blocks.mesh.record_chain import (
    CHECKPOINT_INTERVAL,
    CHECKPOINT_RECORDS,
    COPY_FROM,
    EXPORT_FORMAT,
    GENESIS_HASH,
    KEY_NAME,
    MISMATCH_NOTE,
    PENDING_NOTE,
    AccessRecordCreate,
    CheckpointRead,
    PersonRecord,
    Problem,
    RecordPage,
    RecordWriteFailed,
    VerifyReport,
    _create_of,
    append_records,
    canonical_fields,
    record_hash,
)
from kiban.blocks.mesh.record_checkpoints import (
    Checkpointer,
    LogBroken,
    checkpoint_due,
    checkpoint_message,
    inclusion_path,
    latest_checkpoint,
    make_checkpoint,
    merkle_root,
    public_key,
)
from kiban.blocks.mesh.record_reading import (
    LogExport,
    count_records,
    export_log,
    load_export,
    load_log,
    message_used,
    records_for_person,
)
from kiban.blocks.mesh.record_verify import verify_log
from kiban.blocks.mesh.record_writer import RecordWriter, record_writer, stop_record_writers

__all__ = [
    "CHECKPOINT_INTERVAL",
    "CHECKPOINT_RECORDS",
    "COPY_FROM",
    "EXPORT_FORMAT",
    "GENESIS_HASH",
    "KEY_NAME",
    "MISMATCH_NOTE",
    "PENDING_NOTE",
    "AccessRecordCreate",
    "CheckpointRead",
    "Checkpointer",
    "LogBroken",
    "LogExport",
    "PersonRecord",
    "Problem",
    "RecordPage",
    "RecordWriteFailed",
    "RecordWriter",
    "VerifyReport",
    "_create_of",
    "append_records",
    "canonical_fields",
    "checkpoint_due",
    "checkpoint_message",
    "count_records",
    "export_log",
    "inclusion_path",
    "latest_checkpoint",
    "load_export",
    "load_log",
    "make_checkpoint",
    "merkle_root",
    "message_used",
    "public_key",
    "record_hash",
    "record_writer",
    "records_for_person",
    "stop_record_writers",
    "verify_log",
]
