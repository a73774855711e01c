"""Emergency access (break-glass) as the person lives it: an administrator lets an official
read one person's record for a few hours, and the person is told in their inbox at once.

The staff block keeps and checks the grant (:func:`kiban.blocks.staff.do_grant_break_glass`);
this composes it with the notice, so the office page and ``kiban staff break-glass`` grant in
one way. The caller has asked the policy (``staff.manage`` on the organisation) first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from sqlalchemy.orm import Session

from kiban.blocks import notifications, staff
from kiban.kernel import clock

NOTICE: Final = "staff.break_glass"


def register_notice() -> None:
    """The notice that tells a resident about emergency access to their data (idempotent)."""
    notifications.register_template(
        NOTICE,
        subject_ja="職員があなたの記録を緊急に閲覧できるようになりました",
        subject_en="An official was given emergency access to your record",
        body_ja=(
            "{official}（{organisation}）に、{expires_at}まであなたの住民記録を閲覧する"
            "緊急アクセスが認められました。理由：{reason}"
        ),
        body_en=(
            "{official} ({organisation}) may read your resident record until {expires_at} "
            "under emergency access. Reason: {reason}"
        ),
        params={"official": str, "organisation": str, "expires_at": str, "reason": str},
    )


def do_grant_emergency_access(
    session: Session,
    account_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    organisation: str,
    permissions: Sequence[str],
    hours: int,
    reason: str,
    actor: str,
) -> staff.BreakGlassRead:
    """Grant the emergency access (recorded, time-boxed) and put the notice in the person's
    inbox, in the caller's transaction."""
    granted = staff.do_grant_break_glass(
        session,
        account_id,
        person_id=person_id,
        organisation=organisation,
        permissions=list(permissions),
        hours=hours,
        reason=reason,
        actor=actor,
    )
    register_notice()
    notifications.do_send_notice(
        session,
        person_id,
        NOTICE,
        {
            "official": granted.account_name,
            "organisation": staff.get_organisation(session, organisation).name_ja,
            "expires_at": clock.to_jst(granted.expires_at).strftime("%Y年%m月%d日 %H時%M分"),
            "reason": granted.reason,
        },
        actor=actor,
        dedupe_key=f"{NOTICE}:{granted.id}",
    )
    return granted
