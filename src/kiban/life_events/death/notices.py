"""The notices of a death: to the filer when the office accepts the 死亡届, and to the spouse
the survivor's pension claim (遺族年金) — in Japanese and English."""

from __future__ import annotations

from datetime import date
from typing import Final

from kiban.blocks import notifications

ACCEPTED: Final = "death.accepted"
SURVIVOR_PENSION: Final = "death.survivor_pension"


def register_templates() -> None:
    """Register (or replace) the death templates."""
    notifications.register_template(
        ACCEPTED,
        subject_ja="死亡届が受理されました（受付番号 {reference}）",
        subject_en="The death notice was accepted (reference {reference})",
        body_ja=(
            "{name}さん（{died_on}死亡）の死亡届を受理しました。年金、健康保険、運転免許の"
            "各機関には公共サービスメッシュを通じて伝えています。おくやみ窓口のページに、"
            "これから必要な手続と期限、法定相続情報一覧図があります。"
        ),
        body_en=(
            "The death notice of {name} (died on {died_on}) was accepted. The pension service, "
            "the health insurer and the licence office were told through the mesh. The "
            "bereavement page lists the procedures left, their deadlines, and the chart of "
            "legal heirs."
        ),
        params={"name": str, "died_on": date, "reference": str},
    )
    notifications.register_template(
        SURVIVOR_PENSION,
        subject_ja="遺族年金の請求のご案内",
        subject_en="You may claim a survivor's pension",
        body_ja=(
            "{name}さんの年金は{died_on}の死亡により停止されます。配偶者のあなたは遺族年金を"
            "請求できる場合があります（請求は5年以内、日本年金機構）。未支給年金の請求も"
            "あわせてできます。"
        ),
        body_en=(
            "The pension of {name} stops with their death on {died_on}. As the spouse you may "
            "be able to claim a survivor's pension (within 5 years, at the pension service), "
            "and any pension not yet paid to them."
        ),
        params={"name": str, "died_on": date},
    )
