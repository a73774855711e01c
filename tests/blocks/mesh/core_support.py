"""A small mesh for the core tests: a pension service (provider), a municipality and a
company (clients), one in-process service with a grant for the municipality."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kiban.blocks import mesh

OPERATOR = "operator:test"
PROVIDER = "JP/GOV/00001/pension"
CLIENT = "JP/MUN/131016/juki"
COMPANY = "JP/COM/9000001/bank"
SERVICE = f"{PROVIDER}/records"
ITEMS = ["contributions", "benefit"]
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "年金記録", "version": "1"},
    "paths": {"/records": {"post": {"responses": {"200": {"description": "ok"}}}}},
}


@dataclass
class Seen:
    """What the provider handler saw."""

    requests: list[mesh.ProviderRequest] = field(default_factory=list)

    def handler(self, request: mesh.ProviderRequest) -> Any:
        self.requests.append(request)
        return {"code": request.agency_code, "items": request.items, "echo": request.body}


def build(session: Session, seen: Seen, *, grant: bool = True, enable: bool = True) -> None:
    mesh.register_member(
        session, member_class="GOV", member_code="00001", name="年金機構", actor=OPERATOR
    )
    mesh.register_member(
        session, member_class="MUN", member_code="131016", name="千代田区", actor=OPERATOR
    )
    mesh.register_member(
        session, member_class="COM", member_code="9000001", name="テスト銀行", actor=OPERATOR
    )
    mesh.register_subsystem(session, "JP/GOV/00001", "pension", actor=OPERATOR)
    mesh.register_subsystem(session, "JP/MUN/131016", "juki", actor=OPERATOR)
    mesh.register_subsystem(session, "JP/COM/9000001", "bank", actor=OPERATOR)
    mesh.register_service(
        session,
        PROVIDER,
        "records",
        openapi=OPENAPI,
        items=ITEMS,
        provider=seen.handler,
        actor=OPERATOR,
    )
    if enable:
        mesh.enable_service(session, SERVICE, actor=OPERATOR)
    if grant:
        mesh.grant(
            session,
            client=CLIENT,
            service=SERVICE,
            task="国民年金の資格確認",
            legal_basis="番号法 別表第二 第二十六項",
            items=["contributions"],
            actor=OPERATOR,
        )
    session.flush()


def person_code(session: Session, member: str = CLIENT) -> tuple[uuid.UUID, str]:
    person = uuid.uuid4()
    return person, mesh.agency_code(session, member, person)
