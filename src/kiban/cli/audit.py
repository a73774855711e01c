"""``kiban audit``: check the audit log's hash chain."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from kiban.cli.failures import progress_bar
from kiban.platform import audit as audit_log
from kiban.platform.db import get_engine, session_factory

app = typer.Typer(no_args_is_help=True, help="Audit log: verify the hash chain.")

PROGRESS_THRESHOLD = 10_000
"""Show a progress bar from this many entries on (smaller logs verify in well under a second)."""


@app.command("verify")
def verify() -> None:
    """Walk the audit chain of the configured database; exit 1 if anything was tampered with."""
    out = Console(soft_wrap=True)  # Findings stay on one line each, for grep.
    with session_factory(get_engine())() as session:
        total = audit_log.count_entries(session)
        if total >= PROGRESS_THRESHOLD:
            with progress_bar(
                TextColumn("verifying"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            ) as progress:
                task = progress.add_task("verify", total=total, rate="")

                def advance(done: int) -> None:
                    elapsed = progress.tasks[0].elapsed or 0.0
                    rate = f"{done / elapsed:,.0f}/s" if elapsed > 0 else ""
                    progress.update(task, completed=done, rate=rate)

                report = audit_log.verify(session, progress=advance)
        else:
            report = audit_log.verify(session)
    if report.ok:
        out.print(f"audit chain intact: {report.entries} entries verified")
        return
    out.print(
        f"[bold red]audit chain broken / 監査ログの連鎖が壊れています[/]: "
        f"{len(report.problems)} problem(s) in {report.entries} entries"
    )
    for problem in report.problems:
        out.print(f"  seq {problem.seq}: {problem.kind} — {problem.detail}", markup=False)
    raise typer.Exit(1)
