"""Verifying a whole access-record log, from the database or an export, offline."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
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
from kiban.blocks.mesh.record_reading import LogExport, load_log

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
        wanted = sorted(checkpoints, key=lambda c: int(c["tree_size"]))
        roots: dict[int, str] = {0: _frontier_root([]).hex()}
        frontier: list[tuple[int, bytes]] = []
        sizes = {int(c["tree_size"]) for c in wanted}
        for count, index in enumerate(self.chain, start=1):
            _extend(frontier, _leaf(str(self.rows[index]["hash"])))
            if count in sizes:
                roots[count] = _frontier_root(frontier).hex()
        for checkpoint in wanted:
            size = int(checkpoint["tree_size"])
            if signer is None:
                self.report(size, "checkpoint", "no public key to check the signature with")
            else:
                created = datetime.fromisoformat(str(checkpoint["created_at"]))
                message = checkpoint_message(size, str(checkpoint["root_hash"]), created)
                try:
                    signer.verify(bytes.fromhex(str(checkpoint["signature"])), message)
                except (InvalidSignature, ValueError):
                    self.report(size, "checkpoint", "the signature does not verify")
            root = roots.get(size)
            if root is None:
                self.report(size, "checkpoint", f"the log has only {len(self.chain)} records")
            elif root != checkpoint["root_hash"]:
                self.report(size, "checkpoint", "the Merkle root does not match the records")


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


def verify_log(source: Session | LogExport, *, public_key_raw: bytes | None = None) -> VerifyReport:
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

    A record appended and hashed by someone who also rewrote the chain head, after the last
    checkpoint, cannot be told from a genuine one; the checkpoints bound that window to ~10 s.
    """
    log = load_log(source) if isinstance(source, Session) else source
    raw = public_key_raw if public_key_raw is not None else log.public_key
    signer = None if raw is None else ed25519.Ed25519PublicKey.from_public_bytes(raw)
    verifier = _Verifier(log.records)
    verifier.walk()
    verifier.leftovers()
    verifier.reorderings()
    if log.head is not None:
        verifier.head(log.head)
    verifier.checkpoints(log.checkpoints, signer)
    order = {"deleted": 0, "inserted": 1, "reordered": 2, "modified": 3, "checkpoint": 9}
    problems = sorted(
        verifier.problems.values(),
        key=lambda p: (p.kind == "checkpoint", p.seq, order[p.kind]),
    )
    return VerifyReport(
        records=len(log.records), checkpoints=len(log.checkpoints), problems=problems
    )
