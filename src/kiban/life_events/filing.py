"""What every notice a resident files with a municipal office shares: how the office is named
in notices, and the office sending a notice back — the one inbox template and effect that
moving's 転出届 and 転居届 and the 出生届 use, so the applicant reads the same words whichever
notice it was (the procedure's own name and the office's reason go into it). The actions
themselves (sign and submit, withdraw, send back) are the procedures block's
(``procedures.SIGN_AND_SUBMIT``, ``WITHDRAW``, ``SEND_BACK``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import address, notifications, procedures

SENT_BACK: Final = "moving.sent_back"
"""The template's code (kept from when moving alone had it, so earlier notices match)."""


def office_name(session: Session, lg_code: str) -> str:
    """How a municipality's office is named in notices: ``東京都千代田区``."""
    return address.get_municipality(session, lg_code).full_name


def lg_code_of(values: Mapping[str, Any]) -> str:
    """The municipality code a notice's form holds (its office)."""
    return str(values.get("lg_code") or "")


def register_template() -> None:
    """Register (or replace) the template."""
    notifications.register_template(
        SENT_BACK,
        subject_ja="{procedure}が差し戻されました",
        subject_en="Your {procedure_en} was sent back",
        body_ja=(
            "{office}が{procedure}を差し戻しました。理由: {reason}\n"
            "内容を直して、もう一度署名して提出してください。"
        ),
        body_en=(
            "{office} sent your {procedure_en} back. Reason: {reason}\n"
            "Please correct it and sign and submit it again."
        ),
        params={"procedure": str, "procedure_en": str, "office": str, "reason": str},
    )


def notify_sent_back(
    session: Session,
    app: procedures.ApplicationRead,
    action: procedures.ActionRead,
    *,
    office: str,
    dedupe_key: str,
) -> None:
    """Tell the applicant that ``office`` sent ``app`` back, with the reason."""
    notifications.do_send_notice(
        session,
        app.applicant_id,
        SENT_BACK,
        {
            "procedure": app.title_ja,
            "procedure_en": app.title_en,
            "office": office,
            "reason": action.reason or "",
        },
        actor=action.actor,
        link=f"/portal/applications/{app.id}",
        dedupe_key=dedupe_key,
    )


def sent_back_effect(prefix: str) -> procedures.Effect:
    """The ``send_back`` effect of a notice whose form holds its office's ``lg_code``; the
    notice's dedupe key starts with ``prefix`` (one notice per version sent back)."""

    def effect(
        session: Session, app: procedures.ApplicationRead, action: procedures.ActionRead
    ) -> None:
        notify_sent_back(
            session,
            app,
            action,
            office=office_name(session, lg_code_of(app.values)),
            dedupe_key=f"{prefix}:{app.id}:{app.version}:sent_back",
        )

    return effect
