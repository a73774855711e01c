"""The notices of a birth: one template per step that concerns the parent, and the offers the
birth brings (the child's health insurance card; the child allowance when the household's
recipient is not the parent who filed), in Japanese and English,
registered with the inbox when this module is imported."""

from __future__ import annotations

from datetime import date
from typing import Final

from kiban.blocks import notifications
from kiban.life_events import filing

DATA_RECEIVED: Final = "birth.data_received"
RECEIVED: Final = "birth.received"
ACCEPTED: Final = "birth.accepted"
SENT_BACK: Final = filing.SENT_BACK
INSURANCE_CARD: Final = "birth.insurance_card"
CHILD_ALLOWANCE: Final = "birth.child_allowance_offer"


def register_templates() -> None:
    """Register (or replace) every birth template."""
    notifications.register_template(
        DATA_RECEIVED,
        subject_ja="出生証明書の情報が届きました。出生届を出してください",
        subject_en="The birth certificate data arrived: please file the birth notice",
        body_ja=(
            "{hospital}から、{born_on}に生まれたお子さんの出生証明書の情報が{office}に"
            "届きました。マイページの手続から出生届を開き、お子さんの名前を入力して、"
            "カードで署名して提出してください（出生の日から14日以内、{due}まで）。"
            "病院の情報は入力済みです。"
        ),
        body_en=(
            "{hospital} sent the birth certificate data of your child born on {born_on} to "
            "{office}. Open the birth notice under Procedures, type your child's name and sign "
            "it with your card (within 14 days of the birth, by {due}). The hospital's data "
            "is filled in already."
        ),
        params={"hospital": str, "born_on": date, "office": str, "due": date},
    )
    notifications.register_template(
        RECEIVED,
        subject_ja="出生届を受け付けました（受付番号 {reference}）",
        subject_en="Your birth notice was received (reference {reference})",
        body_ja=(
            "{office}あての出生届（{child}）を、署名用電子証明書による電子署名とともに"
            "受け付けました。受付番号: {reference}\n次に: 窓口が審査し、{expected}までに"
            "結果をお知らせします。"
        ),
        body_en=(
            "Your birth notice for {child} to {office} was received with your card's "
            "signature. Reference: {reference}\nNext: the office checks it and tells you the "
            "result by {expected}."
        ),
        params={"office": str, "child": str, "reference": str, "expected": date},
    )
    notifications.register_template(
        ACCEPTED,
        subject_ja="出生届が受理されました。{child}さんが住民票に記載されました",
        subject_en="Your birth notice was accepted: {child} is on the resident register",
        body_ja=(
            "{office}が出生届を受理し、{child}さんをあなたの世帯に記載しました"
            "（続柄: {relationship}）。個人番号（マイナンバー）の通知は別途お届けします。"
            "健康保険や児童手当のご案内も届きます。"
        ),
        body_en=(
            "{office} accepted your birth notice and registered {child} in your household "
            "(relationship: {relationship}). The individual number (My Number) notice follows "
            "separately, as do the offers of health insurance and the child allowance."
        ),
        params={"office": str, "child": str, "relationship": str},
    )
    filing.register_template()
    notifications.register_template(
        INSURANCE_CARD,
        subject_ja="{child}さんの健康保険の資格が登録されました（{insurer}）",
        subject_en="{child} is now insured with {insurer}",
        body_ja=(
            "{insurer}が、出生の通知を受けて{child}さんを{eligible_from}から被扶養者として"
            "登録しました。保険者番号 {insurer_number}、記号 {symbol}、番号 {number}。"
            "マイナンバーカードが届くまでは、この資格情報で受診できます。"
        ),
        body_en=(
            "{insurer} was told of the birth and insured {child} as a dependant from "
            "{eligible_from}. Insurer number {insurer_number}, symbol {symbol}, number "
            "{number}. Until the child's card arrives, these details are enough to see a doctor."
        ),
        params={
            "child": str,
            "insurer": str,
            "insurer_number": str,
            "symbol": str,
            "number": str,
            "eligible_from": date,
        },
    )
    notifications.register_template(
        CHILD_ALLOWANCE,
        subject_ja="{programme_ja}の支給が決まりました（{child}さん、{amount}円）",
        subject_en="{programme_en} for {child}: {amount} yen determined",
        body_ja=(
            "{child}さんが生まれたので、申請なしで{programme_ja}（根拠: {legal_basis}）の"
            "支給を決定しました。{period}の支払分 {amount}円 を、世帯主の{recipient}さんの"
            "公金受取口座に振り込みます。決定の通知は{recipient}さんの受信箱に届いています。"
            "受け取らない場合は、{deadline}までに{recipient}さんがマイナポータルの「給付金」"
            "のページで辞退できます。"
        ),
        body_en=(
            "With {child}'s birth, {programme_en} (legal basis: {legal_basis}) was determined "
            "without an application: {amount} yen for the payment of {period}, paid into the "
            "public-funds account of the head of household, {recipient}, whose inbox holds the "
            "decision. To decline it, {recipient} can use the Benefits page of the portal by "
            "{deadline}."
        ),
        params={
            "programme_ja": str,
            "programme_en": str,
            "legal_basis": str,
            "child": str,
            "amount": str,
            "period": str,
            "recipient": str,
            "deadline": date,
        },
    )
