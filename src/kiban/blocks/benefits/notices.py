"""The inbox notices of the benefits block, registered when the block is imported."""

from __future__ import annotations

from datetime import date
from typing import Final

from kiban.blocks import notifications

DETERMINED: Final = "benefits.determined"
DECLINED: Final = "benefits.declined"
SUPPORT_OFFER: Final = "benefits.support_offer"
PORTAL_LINK: Final = "/portal/benefits"

notifications.register_template(
    DETERMINED,
    subject_ja="{programme_ja}の支給のお知らせ（{amount}円）",
    subject_en="{programme_en}: you will receive {amount} yen",
    body_ja=(
        "{programme_ja}（根拠: {legal_basis}）として {amount}円 を支給します。\n"
        "内訳: {reason_ja}\n"
        "振込先: {account_ja}\n"
        "申請は要りません。受け取らない場合や内容に誤りがある場合は、{deadline}までに"
        "マイナポータルの「給付金」のページで辞退または訂正を申し出てください。"
    ),
    body_en=(
        "You will receive {amount} yen under {programme_en} (legal basis: {legal_basis}).\n"
        "Details: {reason_en}\n"
        "Paid to: {account_en}\n"
        "No application is needed. To decline it or to correct something, use the Benefits "
        "page of the portal by {deadline}."
    ),
    params={
        "programme_ja": str,
        "programme_en": str,
        "legal_basis": str,
        "amount": str,
        "reason_ja": str,
        "reason_en": str,
        "account_ja": str,
        "account_en": str,
        "deadline": date,
    },
)

notifications.register_template(
    DECLINED,
    subject_ja="{programme_ja}の辞退を受け付けました",
    subject_en="{programme_en}: you have declined it",
    body_ja="{programme_ja}（{amount}円）の辞退を受け付けました。この給付は支給されません。",
    body_en="We have recorded that you decline {programme_en} ({amount} yen). It will not be paid.",
    params={"programme_ja": str, "programme_en": str, "amount": str},
)

notifications.register_template(
    SUPPORT_OFFER,
    subject_ja="{programme_ja}のご案内（{child}さん）",
    subject_en="{programme_en}: offered for {child}",
    body_ja="{what_ja}\n{how_ja}\n根拠: {legal_basis}",
    body_en="{what_en}\n{how_en}\nLegal basis: {legal_basis}",
    params={
        "programme_ja": str,
        "programme_en": str,
        "child": str,
        "what_ja": str,
        "what_en": str,
        "how_ja": str,
        "how_en": str,
        "legal_basis": str,
    },
)
