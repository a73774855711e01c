"""Verifying a whole access-record log, from the database or an export, offline."""

from __future__ import annotations

import os
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.orm import Session

from kiban.blocks.mesh.record_chain import (
    GENESIS_HASH,
    Problem,
    ProblemKind,
    VerifyReport,
    record_hash,
)
from kiban.blocks.mesh.record_checkpoints import (
    _extend,
    _frontier_root,
    _leaf,
    checkpoint_message,
)
from kiban.blocks.mesh.record_reading import LogExport, load_log, load_log_frame
from kiban.blocks.mesh.record_scan import PARALLEL_FROM, root, scan_in_parts, scan_log

# --- Verifying ---------------------------------------------------------------------------------


def _digest_at(fields: dict[str, Any], seq: int) -> str:
    return record_hash({**fields, "seq": seq})


def _stored_seq(fields: dict[str, Any]) -> int:
    value = fields.get("seq")
    return value if isinstance(value, int) else -1


class _Verifier:
    """One pass of :func:`verify_log` over a log held in memory."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.problems: dict[tuple[int, str], Problem] = {}
        self.by_prev: dict[str, list[int]] = defaultdict(list)
        self.position_of_hash: dict[str, int] = {}
        for index, row in enumerate(rows):
            self.by_prev[str(row.get("prev_hash"))].append(index)
            self.position_of_hash.setdefault(str(row.get("hash")), index)
        self.reached = [False] * len(rows)
        self.chain: list[int] = []  # Positions in the original order.
        self.original: dict[int, int] = {}  # Position -> original sequence number.

    def report(self, seq: int, kind: ProblemKind, detail: str) -> None:
        self.problems.setdefault((seq, kind), Problem(seq, kind, detail))

    def verifies(self, index: int, seq: int) -> bool:
        return _digest_at(self.rows[index], seq) == self.rows[index].get("hash")

    def original_seq(self, index: int, expected: int) -> int | None:
        """The sequence number the record was hashed with, tried near where it should be."""
        stored = _stored_seq(self.rows[index])
        for seq in (stored, expected):
            if seq > 0 and self.verifies(index, seq):
                return seq
        for shift in range(1, 65):
            for seq in (stored + shift, stored - shift):
                if seq > 0 and self.verifies(index, seq):
                    return seq
        return None

    def walk(self) -> None:
        """Follow the hash links from the genesis, resuming after gaps at orphaned records."""
        orphans = [
            index
            for index, row in enumerate(self.rows)
            if row.get("prev_hash") != GENESIS_HASH
            and row.get("prev_hash") not in self.position_of_hash
        ]
        orphan_at = 0
        current, expected = GENESIS_HASH, 1
        while True:
            candidates = [i for i in self.by_prev.get(current, []) if not self.reached[i]]
            if not candidates:
                while orphan_at < len(orphans) and self.reached[orphans[orphan_at]]:
                    orphan_at += 1
                if orphan_at == len(orphans):
                    break
                pick = orphans[orphan_at]
                seq = self.original_seq(pick, expected)
                seq = expected if seq is None else seq
                if seq > expected:
                    for missing in range(expected, seq):
                        self.report(
                            missing, "deleted", f"record {seq} links to a record that is gone"
                        )
                elif self.chain:
                    last = self.chain[-1]
                    self.report(
                        _stored_seq(self.rows[last]),
                        "modified",
                        "its hash was rewritten; the next record links to the original",
                    )
                expected = max(seq, expected)
            elif len(candidates) == 1:
                pick = candidates[0]
            else:
                pick = self._resolve_fork(candidates, expected)
            self.reached[pick] = True
            self.chain.append(pick)
            self.original[pick] = expected
            if not self.verifies(pick, expected):
                self.report(
                    _stored_seq(self.rows[pick]), "modified", "content does not match its hash"
                )
            current = str(self.rows[pick].get("hash"))
            expected += 1

    def _resolve_fork(self, candidates: list[int], expected: int) -> int:
        # Two records link to the same predecessor: the genuine one is continued by the chain
        # (or, at the end, is the one hashed at this place); the others were slipped in.
        def score(index: int) -> tuple[bool, bool, int]:
            continued = any(
                not self.reached[i] for i in self.by_prev.get(str(self.rows[index]["hash"]), [])
            )
            return (continued, self.verifies(index, expected), -index)

        pick = max(candidates, key=score)
        for other in candidates:
            if other != pick:
                self.reached[other] = True
                self.report(
                    _stored_seq(self.rows[other]),
                    "inserted",
                    "links to the same predecessor as the genuine record",
                )
        return pick

    def leftovers(self) -> None:
        for index, reached in enumerate(self.reached):
            if not reached:
                self.report(_stored_seq(self.rows[index]), "inserted", "not part of the hash chain")

    def reorderings(self) -> None:
        # Records of the chain in stored order should carry increasing original numbers; those
        # outside a longest increasing run were moved.
        order = [(i, self.original[i]) for i in range(len(self.rows)) if i in self.original]
        keep = _longest_increasing([seq for _, seq in order])
        for at, (index, seq) in enumerate(order):
            if at not in keep:
                self.report(
                    _stored_seq(self.rows[index]),
                    "reordered",
                    f"record {seq} of the chain is stored out of its place",
                )

    def head(self, head: dict[str, Any]) -> None:
        last_seq, last_hash = int(head["last_seq"]), str(head["last_hash"])
        tail = str(self.rows[self.chain[-1]]["hash"]) if self.chain else GENESIS_HASH
        if tail == last_hash:
            return
        named = self.position_of_hash.get(last_hash)
        if named is not None and named in self.original:
            for index in self.chain:
                if self.original[index] > self.original[named]:
                    self.report(
                        _stored_seq(self.rows[index]),
                        "inserted",
                        "after the record the chain head names",
                    )
            return
        end = len(self.chain)
        if last_seq > end:
            for missing in range(end + 1, last_seq + 1):
                self.report(missing, "deleted", "the chain head names a later record")
        elif self.chain:
            self.report(
                _stored_seq(self.rows[self.chain[-1]]), "modified", "does not match the chain head"
            )

    def checkpoints(
        self, checkpoints: list[dict[str, Any]], signer: ed25519.Ed25519PublicKey | None
    ) -> None:
        sizes = {int(c["tree_size"]) for c in checkpoints}
        roots: dict[int, str] = {}
        frontier: list[tuple[int, bytes]] = []
        for count, index in enumerate(self.chain, start=1):
            _extend(frontier, _leaf(str(self.rows[index]["hash"])))
            if count in sizes:
                roots[count] = _frontier_root(frontier).hex()
        for problem in _checkpoint_findings(checkpoints, signer, roots, len(self.chain)):
            self.report(problem.seq, problem.kind, problem.detail)


def _checkpoint_findings(
    checkpoints: list[dict[str, Any]],
    signer: ed25519.Ed25519PublicKey | None,
    roots: dict[int, str],
    length: int,
) -> list[Problem]:
    """Each checkpoint's signature and root against ``roots`` (tree size -> the Merkle root of
    that many records of the chain, hex) of a chain ``length`` records long."""
    roots = {0: _frontier_root([]).hex(), **roots}
    found: list[Problem] = []
    for checkpoint in sorted(checkpoints, key=lambda c: int(c["tree_size"])):
        size = int(checkpoint["tree_size"])
        if signer is None:
            found.append(Problem(size, "checkpoint", "no public key to check the signature with"))
        else:
            created = datetime.fromisoformat(str(checkpoint["created_at"]))
            message = checkpoint_message(size, str(checkpoint["root_hash"]), created)
            try:
                signer.verify(bytes.fromhex(str(checkpoint["signature"])), message)
            except (InvalidSignature, ValueError):
                found.append(Problem(size, "checkpoint", "the signature does not verify"))
        root = roots.get(size)
        if root is None:
            found.append(Problem(size, "checkpoint", f"the log has only {length} records"))
        elif root != checkpoint["root_hash"]:
            found.append(Problem(size, "checkpoint", "the Merkle root does not match the records"))
    return found


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence of ``values``."""
    tails: list[int] = []  # Value at the end of the best run of each length.
    tail_at: list[int] = []  # Index of that value.
    parent = [-1] * len(values)
    for index, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(index)
        else:
            tails[length] = value
            tail_at[length] = index
        parent[index] = tail_at[length - 1] if length else -1
    keep: set[int] = set()
    index = tail_at[-1] if tail_at else -1
    while index != -1:
        keep.add(index)
        index = parent[index]
    return keep


Progress = Callable[[int, int], None]
"""Told ``(records read, records the chain head names)`` as a database's log is read."""

_ORDER = {"deleted": 0, "inserted": 1, "reordered": 2, "modified": 3, "checkpoint": 9}


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.kind == "checkpoint", p.seq, _ORDER[p.kind]))


def _signer(raw: bytes | None) -> ed25519.Ed25519PublicKey | None:
    return None if raw is None else ed25519.Ed25519PublicKey.from_public_bytes(raw)


def _scan_database(
    session: Session,
    public_key_raw: bytes | None,
    progress: Progress | None,
    workers: int | None,
) -> VerifyReport | None:
    """The report of an intact log from one streaming pass, or None when the log is not intact
    (then the full analysis names the findings)."""
    log = load_log_frame(session)
    head = log.head or {"last_seq": 0, "last_hash": GENESIS_HASH}
    total = int(head["last_seq"])
    sizes = {int(c["tree_size"]) for c in log.checkpoints}
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if total >= PARALLEL_FROM else 1
    if workers > 1 and _shareable(session):
        told = None if progress is None else (lambda done: progress(done, total))
        scan, roots = scan_in_parts(session, total, sizes, workers, told)
    else:
        read = [0]

        def tell(done: int) -> None:
            read[0] += done
            if progress is not None:
                progress(read[0], total)

        connection = session.connection()
        driver = connection.connection.driver_connection
        scan = scan_log(connection.dialect, driver, sizes, progress=tell)
        roots = {size: root(frontier) for size, frontier in scan.frontiers.items()}
    if not scan.intact or scan.tail != head["last_hash"]:
        return None
    raw = public_key_raw if public_key_raw is not None else log.public_key
    found: dict[tuple[int, str], Problem] = {}
    for problem in _checkpoint_findings(log.checkpoints, _signer(raw), roots, scan.records):
        found.setdefault((problem.seq, problem.kind), problem)
    return VerifyReport(
        records=scan.records, checkpoints=len(log.checkpoints), problems=_sorted(found.values())
    )


def _shareable(session: Session) -> bool:
    """Whether other processes can open the session's database: PostgreSQL, or a SQLite file."""
    url = session.get_bind().engine.url
    return url.get_backend_name() == "postgresql" or (
        url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    )


def _begin_snapshot(session: Session) -> None:
    """On PostgreSQL read the head, the checkpoints and the records in one snapshot, so that
    records appended meanwhile by a running server are not taken for insertions. (SQLite's
    transactions begin IMMEDIATE and hold the write lock.)"""
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def verify_log(
    source: Session | LogExport,
    *,
    public_key_raw: bytes | None = None,
    progress: Progress | None = None,
    workers: int | None = 1,
) -> VerifyReport:
    """Check a whole log: the hash chain, the chain head and every checkpoint.

    ``source`` is a session (the configured database) or a :class:`LogExport` read by
    :func:`load_export`. Signatures are checked with ``public_key_raw`` (raw Ed25519) if given,
    else with the key that came with the log. Findings, by stored sequence number:

    - **modified** — content no longer matches its hash, or its hash was rewritten so that the
      next record links to the original;
    - **deleted** — a record the chain (or the chain head) links to is gone, even if the later
      records were renumbered to close the gap;
    - **inserted** — a record outside the chain: one linking to the same predecessor as the
      genuine one, or one appended after the record the chain head names;
    - **reordered** — records whose stored place differs from their place in the chain;
    - **checkpoint** — a checkpoint whose signature or Merkle root does not match.

    A database's log is first read in one streaming pass (:func:`record_scan.scan_log`), which
    settles an intact log without holding it; ``progress`` is told how far it got. With
    ``workers`` above 1 the log is read in parts by that many forked processes; with None, by
    one per core (at most four) when it holds :data:`record_scan.PARALLEL_FROM` records or
    more, as ``kiban mesh verify`` does (a process with threads of its own, such as the web
    server, keeps the default of 1: it should not fork). A log that pass does not certify is
    read whole and analysed as an export is, which names every finding.

    A record appended and hashed by someone who also rewrote the chain head, after the last
    checkpoint, cannot be told from a genuine one; the checkpoints bound that window to ~10 s.
    """
    if isinstance(source, Session):
        _begin_snapshot(source)
        report = _scan_database(source, public_key_raw, progress, workers)
        if report is not None:
            return report
        log = load_log(source)
    else:
        log = source
    return _analyse(log, public_key_raw)


def _analyse(log: LogExport, public_key_raw: bytes | None) -> VerifyReport:
    """The full analysis of a log held in memory: every finding, named."""
    raw = public_key_raw if public_key_raw is not None else log.public_key
    verifier = _Verifier(log.records)
    verifier.walk()
    verifier.leftovers()
    verifier.reorderings()
    if log.head is not None:
        verifier.head(log.head)
    verifier.checkpoints(log.checkpoints, _signer(raw))
    return VerifyReport(
        records=len(log.records),
        checkpoints=len(log.checkpoints),
        problems=_sorted(verifier.problems.values()),
    )
