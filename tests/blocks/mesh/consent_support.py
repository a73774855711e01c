"""The mesh a consent needs: the companies it names are registered COM members, and the items
it lists are provided by a registered service (the data item catalogue)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kiban.blocks import mesh

OPERATOR = "operator:test"
BANK = "JP/COM/0000000000001/bank"
POWER = "JP/COM/0000000000002/power"
REGISTER = "JP/GOV/00002/register"
CATALOGUE = ["name", "name_kana", "birth_date", "sex", "address", "income"]
_OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "基本4情報", "version": "1"},
    "paths": {"/basic": {"post": {"responses": {"200": {"description": "ok"}}}}},
}


def register_companies(session: Session) -> None:
    """The bank and the power company as COM members, and a register service of the items."""
    mesh.register_member(
        session, member_class="GOV", member_code="00002", name="登録機関", actor=OPERATOR
    )
    mesh.register_subsystem(session, "JP/GOV/00002", "register", actor=OPERATOR)
    mesh.register_service(
        session,
        REGISTER,
        "basic",
        openapi=_OPENAPI,
        items=CATALOGUE,
        provider=lambda request: {},
        actor=OPERATOR,
    )
    for company in (BANK, POWER):
        _, _, code, subsystem = company.split("/")
        mesh.register_member(
            session, member_class="COM", member_code=code, name=subsystem, actor=OPERATOR
        )
        mesh.register_subsystem(session, f"JP/COM/{code}", subsystem, actor=OPERATOR)
    session.commit()
