"""Benefits in the office: the programmes, their runs, and an eligibility preview (counts and a
small sample without names) for an official of kiban's operator with ``benefits.read``.

Runs are started from the API or the CLI (``kiban benefits run``); this page only reads.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from kiban.blocks import benefits, staff
from kiban.kernel import clock
from kiban.kernel.errors import KibanError, ValidationFailed
from kiban.platform.authority import NATIONAL
from kiban.platform.webkit import DbSession, Lang
from kiban.web.office.session import OfficialUser
from kiban.web.templating import get_pages

router = APIRouter(prefix="/office", include_in_schema=False)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "基準日は YYYY-MM-DD で入力してください。",
            "Enter the base date as YYYY-MM-DD.",
            field="base_date",
        ) from None


@router.get("/benefits")
def benefits_page(
    request: Request,
    lang: Lang,
    session: DbSession,
    official: OfficialUser,
    programme: Annotated[str, Query(max_length=48)] = "",
    base_date: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    """The programmes and runs; with ``programme`` and ``base_date``, a preview of a run."""
    staff.authorize(session, official.principal, "benefits.read", organisation=NATIONAL)
    programmes = benefits.list_programmes(session)
    preview = None
    error = None
    status_code = 200
    if programme:
        try:
            preview = benefits.preview_programme(session, programme, _date(base_date), sample=5)
        except KibanError as error_:
            error = error_.message(lang)
            status_code = error_.status
    return get_pages().render(
        request,
        lang,
        "office/benefits.html",
        {
            "official": official,
            "programmes": programmes,
            "runs": benefits.list_runs(session),
            "preview": preview,
            "error": error,
            "chosen": programme,
            "base_date": base_date or clock.today_jst().isoformat(),
            "title_of": lambda d: d.title_ja if lang == "ja" else d.title_en,
        },
        status_code=status_code,
    )
