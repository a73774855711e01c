"""Checks and reports: the journal's hash chain and its projection against the fold, and how
much of the submitted forms was prefilled rather than typed."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks.procedures.definitions import get_procedure
from kiban.blocks.procedures.journal import GENESIS, SAVE, Json, fold, journal_rows, row_hash
from kiban.blocks.procedures.models import ProceduresApplication
from kiban.blocks.procedures.reads import get_row, read
from kiban.blocks.procedures.schemas import (
    ApplicationRead,
    JournalProblem,
    JournalReport,
    PrefillReport,
)
from kiban.platform import audit


def projection_of(app: ApplicationRead) -> Json:
    """The projection's values in the fold's shape, to compare with :func:`fold`."""
    return {
        "state": app.state,
        "version": app.version,
        "values": app.values,
        "sources": {
            name: {
                **source.model_dump(),
                "as_of": audit.format_instant(source.as_of),
            }
            for name, source in ((f.name, f.source) for f in app.fields)
            if source is not None
        },
        "outputs": app.outputs,
        "claimed_by": app.claimed_by,
        "signature": None
        if app.signature is None
        else {
            **app.signature.model_dump(mode="json"),
            "checked_at": audit.format_instant(app.signature.checked_at),
        },
        "submitted_at": app.submitted_at,
        "closed_at": app.timeline.completed_at,
    }


def verify_journal(session: Session, application_id: uuid.UUID) -> JournalReport:
    """Recompute the hash chain of the application's journal and compare the projection with
    the fold: a modified, deleted, inserted or reordered entry, or a projection that drifted
    from its journal, is reported."""
    row = get_row(session, application_id)
    rows = journal_rows(session, application_id)
    problems: list[JournalProblem] = []
    prev = GENESIS
    for expected_seq, entry in enumerate(rows, start=1):
        if entry.seq != expected_seq:
            problems.append(JournalProblem(seq=entry.seq, detail=f"expected seq {expected_seq}"))
        if entry.prev_hash != prev:
            problems.append(JournalProblem(seq=entry.seq, detail="prev_hash does not link"))
        if row_hash(entry) != entry.hash:
            problems.append(JournalProblem(seq=entry.seq, detail="hash does not match the entry"))
        prev = entry.hash
    if row.head_hash != prev:
        problems.append(JournalProblem(seq=len(rows), detail="the head hash is not the last entry"))
    app = read(session, row)
    folded = fold(app.journal)
    projected = projection_of(app)
    problems.extend(
        JournalProblem(seq=app.version, detail=f"projection differs from the fold in {key}")
        for key in folded
        if folded[key] != projected[key]
    )
    return JournalReport(ok=not problems, entries=len(rows), problems=problems)


def prefill_report(session: Session, code: str) -> PrefillReport:
    """Counts over the procedure's submitted applications: values typed, values prefilled, and
    prefilled facts typed again (which once-only keeps at zero)."""
    defn = get_procedure(code)
    rows = list(
        session.scalars(
            select(ProceduresApplication).where(
                ProceduresApplication.code == code,
                ProceduresApplication.submitted_at.is_not(None),
            )
        )
    )
    prefillable = {f.name for f in defn.fields if f.prefill is not None}
    typed = prefilled = retyped = 0
    for row in rows:
        prefilled += sum(1 for name in row.sources if row.values.get(name) not in (None, "", []))
        typed_names: set[str] = set()
        for entry in journal_rows(session, row.id):
            if entry.action == SAVE:
                typed_names.update(
                    name for name, value in entry.data.get("values", {}).items() if value
                )
        typed += len(
            [n for n in typed_names if row.values.get(n) not in (None, "", [])]
            if typed_names
            else []
        )
        retyped += len(typed_names & prefillable)
    return PrefillReport(
        code=code,
        applications=len(rows),
        typed=typed,
        prefilled=prefilled,
        retyped_prefilled=retyped,
    )
