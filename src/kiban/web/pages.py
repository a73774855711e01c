"""The landing page and the health check."""

from __future__ import annotations

import logging
from typing import Literal

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

import kiban
from kiban.blocks import residents
from kiban.platform import i18n
from kiban.platform.db import get_engine
from kiban.platform.settings import get_settings
from kiban.platform.webkit import DbSession, Lang, public
from kiban.web.templating import get_pages

logger = logging.getLogger(__name__)

router = APIRouter()

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class DatabaseHealth(BaseModel):
    """Whether the database answers, and which migration it is at."""

    reachable: bool
    backend: str = Field(examples=["sqlite"])
    revision: str | None = Field(description="The Alembic revision of the schema.")


class HealthRead(BaseModel):
    """The health of this kiban process."""

    status: Literal["ok", "unavailable"]
    version: str
    database: DatabaseHealth


@router.get(
    "/health",
    dependencies=[Depends(public)],
    tags=["operations"],
    summary="Health of this process",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "The database does not answer."}},
)
def health() -> JSONResponse:
    """Answers 200 when the database is reachable and 503 when it is not."""
    engine = get_engine()
    revision: str | None = None
    reachable = False
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        reachable = True
    except SQLAlchemyError:
        logger.warning("health: the database is not reachable", exc_info=True)
    body = HealthRead(
        status="ok" if reachable else "unavailable",
        version=kiban.__version__,
        database=DatabaseHealth(
            reachable=reachable, backend=engine.dialect.name, revision=revision
        ),
    )
    return JSONResponse(body.model_dump(), status_code=200 if reachable else 503)


@router.get("/", dependencies=[Depends(public)], include_in_schema=False)
def landing(request: Request, lang: Lang, session: DbSession) -> HTMLResponse:
    """What is running, and how big the seeded country is."""
    settings = get_settings()
    t = i18n.translations(lang)
    dialect = session.get_bind().dialect.name
    summary = residents.get_country_summary(session)
    return get_pages().render(
        request,
        lang,
        "landing.html",
        {
            "database_backend": BACKEND_NAMES.get(dialect, dialect),
            "events_mode": (
                t.gettext("NATS JetStream")
                if settings.events_url
                else t.gettext("In-process outbox")
            ),
            "summary": summary,
        },
    )
