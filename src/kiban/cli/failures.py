"""What every ``kiban`` command does when it fails: a message in English and Japanese on
stderr and exit status 1, never a traceback, and no progress bar left behind.

:class:`KibanGroup` is the top-level group's class: a domain error (``KibanError``) from any
command is printed with its field, and a database without kiban's schema (a fresh data
directory before ``kiban migrate``) is named as such with the command that fixes it; settings
kiban cannot run with name their variable.
:func:`progress_bar` is the rich progress bar the long commands use; when the work inside it
fails, the bar is erased before the error is printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, ProgressColumn
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.core import TyperGroup

from kiban.cli.output import fail, fail_error
from kiban.kernel.errors import KibanError
from kiban.platform import migrate as migrations
from kiban.platform.settings import Settings, get_settings


def schema_missing() -> bool:
    """Whether the configured database has never been migrated."""
    try:
        return migrations.current(get_settings().effective_database_url) is None
    except (OperationalError, ProgrammingError):
        return True


class KibanGroup(TyperGroup):
    """The ``kiban`` group: turns failures of any subcommand into bilingual messages."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KibanError as error:
            fail_error(error)
        except ValidationError as error:
            # Settings that kiban cannot run with (an unsupported database, a bad value): the
            # variable and what is wrong, not a traceback. Other validation errors are bugs.
            if error.title != Settings.__name__:
                raise
            problem = error.errors()[0]
            variable = "KIBAN_" + str(problem["loc"][0]).upper() if problem["loc"] else "KIBAN_*"
            message = problem["msg"].removeprefix("Value error, ")
            fail(f"設定 {variable} を確かめてください ({message})", message, variable)
        except (OperationalError, ProgrammingError):
            if not schema_missing():
                raise
            fail(
                "データベースがまだ作られていません。先に kiban migrate を実行してください。",
                "the database has no tables yet: run `kiban migrate` first",
                "database",
            )


@contextmanager
def progress_bar(
    *columns: str | ProgressColumn, console: Console, **options: Any
) -> Iterator[Progress]:
    """A rich progress bar that is erased, not left half drawn, when the work fails."""
    bar = Progress(*columns, console=console, **options)
    with bar:
        try:
            yield bar
        except BaseException:
            bar.live.transient = True
            raise
