"""The notices of moving house: one template per step that concerns the applicant, in
Japanese and English, registered with the inbox when this module is imported."""

from __future__ import annotations

from datetime import date
from typing import Final

from kiban.blocks import notifications
from kiban.life_events import filing

MOVE_OUT_RECEIVED: Final = "moving.move_out_received"
MOVE_OUT_APPROVED: Final = "moving.move_out_approved"
SENT_BACK: Final = filing.SENT_BACK
MOVE_IN_RESERVED: Final = "moving.move_in_reserved"
MOVE_IN_COMPLETED: Final = "moving.move_in_completed"
MOVE_WITHIN_RECEIVED: Final = "moving.move_within_received"
MOVE_WITHIN_COMPLETED: Final = "moving.move_within_completed"
SIGNING_REVOKED: Final = "moving.signing_certificate_revoked"


def register_templates() -> None:
    """Register (or replace) every moving template."""
    notifications.register_template(
        MOVE_OUT_RECEIVED,
        subject_ja="転出届を受け付けました（受付番号 {reference}）",
        subject_en="Your moving-out notice was received (reference {reference})",
        body_ja=(
            "{office}あての転出届（転出予定日 {moved_on}、転出先 {destination}）を、"
            "署名用電子証明書による電子署名とともに受け付けました。受付番号: {reference}\n"
            "次に: 窓口が審査し、{expected}までに結果をお知らせします。受理されると、"
            "転出証明書情報が転入先の市区町村に送られ、来庁予約ができるようになります。"
            "引越しの日から14日以内（{move_in_by}まで）に、転入先の窓口で転入届を済ませて"
            "ください。"
        ),
        body_en=(
            "Your moving-out notice to {office} (moving on {moved_on} to {destination}) was "
            "received with your card's signature. Reference: {reference}\n"
            "Next: the office checks it and tells you the result by {expected}. Once it is "
            "accepted, your moving-out data goes to your new municipality and you can reserve "
            "a visit there. Complete the moving-in notice at the new office within 14 days of "
            "your move (by {move_in_by})."
        ),
        params={
            "office": str,
            "moved_on": date,
            "destination": str,
            "expected": date,
            "reference": str,
            "move_in_by": date,
        },
    )
    notifications.register_template(
        MOVE_OUT_APPROVED,
        subject_ja="転出届が受理されました。転入の来庁予約をしてください",
        subject_en="Your moving-out notice was accepted: reserve your visit",
        body_ja=(
            "{office}が転出届を受理しました。転出証明書情報は公共サービスメッシュを通じて"
            "{new_office}に送られています（紙の転出証明書は要りません）。"
            "マイページの手続から、{new_office}への来庁日時を予約してください。"
        ),
        body_en=(
            "{office} accepted your moving-out notice. Your moving-out certificate data was "
            "sent to {new_office} through the public service mesh (no paper certificate is "
            "needed). Reserve a visit to {new_office} under Procedures on My page."
        ),
        params={"office": str, "new_office": str},
    )
    filing.register_template()
    notifications.register_template(
        MOVE_IN_RESERVED,
        subject_ja="転入の来庁予約を受け付けました",
        subject_en="Your visit for the moving-in notice is booked",
        body_ja=(
            "{office}への来庁予約を受け付けました: {slot}。来庁先: {place}（受付 平日 {hours}）。"
            "マイナンバーカードをお持ちください。"
        ),
        body_en=(
            "Your visit to {office} is booked for {slot_en}, at {place} (open on weekdays, "
            "{hours}). Please bring your My Number card."
        ),
        params={"office": str, "slot": str, "slot_en": str, "place": str, "hours": str},
    )
    notifications.register_template(
        MOVE_IN_COMPLETED,
        subject_ja="転入届の手続が完了しました",
        subject_en="Your moving-in notice is complete",
        body_ja=(
            "{office}で転入の手続が完了しました。新しい住所: {address}\n"
            "住所の変更は、年金・医療保険・運転免許・税の各機関に公共サービスメッシュで"
            "一度に伝えられます。同意をいただいている事業者にも伝えられます。"
        ),
        body_en=(
            "{office} completed your move-in. Your new address: {address}\n"
            "The change reaches the pension service, your health insurer, the licence office "
            "and the tax office at once through the public service mesh, and the companies you "
            "consented to."
        ),
        params={"office": str, "address": str},
    )
    notifications.register_template(
        MOVE_WITHIN_RECEIVED,
        subject_ja="転居届を受け付けました（受付番号 {reference}）",
        subject_en="Your notice of a move within the municipality was received (reference"
        " {reference})",
        body_ja=(
            "{office}あての転居届（転居日 {moved_on}、新しい住所 {destination}）を、"
            "電子署名とともに受け付けました。受付番号: {reference}\n"
            "次に: 窓口が審査して住所を変更し、{expected}までにお知らせします。"
        ),
        body_en=(
            "Your notice to {office} of a move within the municipality (on {moved_on} to "
            "{destination}) was received with your card's signature. Reference: {reference}\n"
            "Next: the office checks it, changes your address and tells you by {expected}."
        ),
        params={
            "office": str,
            "moved_on": date,
            "destination": str,
            "expected": date,
            "reference": str,
        },
    )
    notifications.register_template(
        MOVE_WITHIN_COMPLETED,
        subject_ja="転居届の手続が完了しました",
        subject_en="Your move within the municipality is registered",
        body_ja=(
            "{office}で転居の手続が完了しました。新しい住所: {address}\n"
            "住所の変更は、関係する機関に公共サービスメッシュで一度に伝えられます。"
        ),
        body_en=(
            "{office} registered your move. Your new address: {address}\n"
            "The change reaches the agencies concerned at once through the public service mesh."
        ),
        params={"office": str, "address": str},
    )
    notifications.register_template(
        SIGNING_REVOKED,
        subject_ja="住所の変更により署名用電子証明書が失効しました",
        subject_en="Your signing certificate was revoked because your address changed",
        body_ja=(
            "住所が変わったため、マイナンバーカードの署名用電子証明書（シリアル {serial}）は"
            "失効しました（失効理由: 所属の変更 affiliationChanged）。"
            "利用者証明用電子証明書は引き続き使えますので、マイページへのサインインはこれまで"
            "どおりできます。\n"
            "更新の方法: お住まいの市区町村の窓口に、マイナンバーカードを持って来庁し、"
            "署名用電子証明書の再発行を申請してください。新しい証明書には新しい住所が"
            "記載されます。署名用パスワードは新しく設定できます。"
        ),
        body_en=(
            "Because your address changed, the signing certificate on your My Number card "
            "(serial {serial}) was revoked (reason: affiliationChanged). Your certificate for "
            "user authentication stays valid, so you can still sign in to My page.\n"
            "How to renew it: bring your My Number card to the office of the municipality you "
            "live in and ask for a new signing certificate. It will carry your new address, "
            "and you can choose a new signature PIN."
        ),
        params={"serial": str},
    )


register_templates()
