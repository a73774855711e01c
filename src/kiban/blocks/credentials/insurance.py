"""The health-insurance eligibility credential (資格確認): claims read from the insurer through
the mesh, as the credentials subsystem ``JP/GOV/kiban-credentials/credentials``, under a grant
with a legal basis, so the read is an exchange the person finds in their records (情報提供等
記録). Kiban keeps nothing of the answer but the credential it signs.

The credentials block never imports an agency: it names the insurer's service by its mesh id,
and makes its grant the first time it asks (when the service is on the mesh).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import mesh, residents
from kiban.blocks.credentials.errors import InsurerUnavailable, NotInsured

MEMBER: Final = "JP/GOV/kiban-credentials"
MEMBER_NAME: Final = "証明書の発行 (デジタル認証アプリ・ウォレット)"
SUBSYSTEM: Final = f"{MEMBER}/credentials"
INSURER_SERVICE: Final = "JP/GOV/KYOKAIKENPO/insurer/eligibility"
INSURER_NAME: Final = "全国健康保険協会"
INSURER_ITEMS: Final = (
    "eligible",
    "insurer_number",
    "symbol",
    "number",
    "eligible_from",
    "eligible_until",
    "copay_percent",
)
TASK: Final = "健康保険の資格確認のための証明書の発行"
LEGAL_BASIS: Final = "健康保険法第194条の2 (オンライン資格確認)、番号法第19条第8号"


def insurance_claims(
    session: Session, person: residents.PersonRead, today: date
) -> tuple[dict[str, Any], date | None]:
    """The eligibility claims of ``person`` on ``today`` as the insurer answers them, and the
    day after eligibility ends (if it is to end). Errors: ``credentials.insurer_unavailable``
    (no grant, or the insurer does not answer), ``credentials.not_insured``."""
    if not mesh.ensure_granted_client(
        session,
        subsystem=SUBSYSTEM,
        member_name=MEMBER_NAME,
        service=INSURER_SERVICE,
        task=TASK,
        legal_basis=LEGAL_BASIS,
        items=INSURER_ITEMS,
        actor="system:credentials",
    ):
        raise InsurerUnavailable
    reply = mesh.call(
        session,
        client=SUBSYSTEM,
        service=INSURER_SERVICE,
        agency_code=mesh.agency_code(session, SUBSYSTEM, person.id),
        items=list(INSURER_ITEMS),
        body={"on": today.isoformat()},
        user_id="system:credentials",
    )
    if reply.status == 404 and reply.error is None:
        raise NotInsured
    if not reply.ok or not isinstance(reply.body, dict):
        raise InsurerUnavailable
    body = reply.body
    if not body.get("eligible"):
        raise NotInsured
    claims: dict[str, Any] = {
        "name": person.full_name,
        "name_kana": f"{person.family_name_kana}\u3000{person.given_name_kana}",
        "birthdate": person.birth_date.isoformat(),
        "insurer_name": INSURER_NAME,
        "insurer_number": str(body["insurer_number"]),
        "symbol": str(body["symbol"]),
        "number": str(body["number"]),
        "eligible_from": str(body["eligible_from"]),
        "copay_percent": int(body["copay_percent"]),
    }
    ends = None
    if body.get("eligible_until"):
        claims["eligible_until"] = str(body["eligible_until"])
        ends = date.fromisoformat(str(body["eligible_until"])) + timedelta(days=1)
    return claims, ends
