"""``kiban mesh verify | checkpoint | export-log``: the access-record log from the command line.

Registered on the ``mesh`` group in :mod:`kiban.cli.mesh`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from kiban.blocks import mesh
from kiban.kernel.errors import KibanError
from kiban.platform.db import get_engine, session_factory, transaction

PROGRESS_THRESHOLD = 10_000
"""Show a progress bar from this many records on (smaller logs verify in well under a second)."""


class _Bar:
    """A progress bar on stderr, drawn once the log turns out to be long enough to need one."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < PROGRESS_THRESHOLD:
                return
            self.bar = Progress(
                TextColumn("verifying access records / 提供記録を検証中"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("verify", total=total, rate="")
        assert self.task is not None  # noqa: S101 - made with the bar.
        elapsed = self.bar.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else ""
        self.bar.update(self.task, completed=done, rate=rate)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def verify(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="An export of `kiban mesh export-log` to check instead of the database.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The checkpoint key (raw Ed25519, hex) to trust instead of the export's.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes reading the database's log (default: one per core for large logs).",
        ),
    ] = None,
) -> None:
    """Check the access-record log: hash chain, chain head, checkpoint roots and signatures.

    Exits 1 and names the first modified, deleted, inserted or reordered record. A large log
    shows a progress bar on stderr.
    """
    began = time.perf_counter()
    out = Console(soft_wrap=True)  # Findings stay on one line each, for grep.
    try:
        key = None if public_key is None else bytes.fromhex(public_key)
    except ValueError:
        raise typer.BadParameter("not hexadecimal", param_hint="--public-key") from None
    if file is not None:
        try:
            log = mesh.load_export(file)
        except ValueError as error:
            out.print(
                f"[bold red]not a log export / ログの書き出しファイルではありません[/]: {error}",
                markup=True,
            )
            raise typer.Exit(2) from None
        report = mesh.verify_log(log, public_key_raw=key)
    else:
        bar = _Bar()
        try:
            with session_factory(get_engine())() as session:
                report = mesh.verify_log(session, public_key_raw=key, progress=bar, workers=workers)
        finally:
            bar.stop()
    if report.ok:
        out.print(
            f"access records intact: {report.records} records, "
            f"{report.checkpoints} checkpoints verified "
            f"in {time.perf_counter() - began:.1f} s"
        )
        return
    first = report.first
    assert first is not None  # noqa: S101 - a report that is not ok has a finding.
    out.print(
        f"access records tampered with / 提供記録が改ざんされています: {first.kind} record at"
        f" seq {first.seq} — {first.detail}",
        markup=False,
    )
    for problem in report.problems[1:]:
        out.print(f"  seq {problem.seq}: {problem.kind} — {problem.detail}", markup=False)
    raise typer.Exit(1)


def checkpoint() -> None:
    """Sign a checkpoint over every record now (the server makes one every 10 seconds)."""
    try:
        with transaction(get_engine()) as session:
            made = mesh.make_checkpoint(session)
    except KibanError as error:
        Console(stderr=True).print(f"{error.message_en} / {error.message_ja}", markup=False)
        raise typer.Exit(1) from None
    Console().print(f"checkpoint: {made.tree_size} records, root {made.root_hash}")


def export_log(
    file: Annotated[Path, typer.Argument(help="Where to write the NDJSON export.", dir_okay=False)],
) -> None:
    """Write the whole log (records, checkpoints, chain head, public key) as NDJSON."""
    with session_factory(get_engine())() as session, file.open("w", encoding="utf-8") as out:
        count = mesh.export_log(session, out)
    Console().print(f"exported {count} records to {file}")
