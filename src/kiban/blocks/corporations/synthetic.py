"""Synthetic corporations for the synthetic country.

The registry does not know the resident register (the two blocks sit side by side in the block
graph), so the caller hands in the representatives — in ``kiban seed`` they are adult residents,
whose cards can then prove that they represent their company. Names are drawn from small word
lists, corporate numbers are valid and unique, the head office is in the representative's
municipality, and everything comes from one ``random.Random(seed)``: the same seed and the same
representatives give the same corporations.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address import AddressInput
from kiban.blocks.corporations.errors import InvalidCorporation
from kiban.blocks.corporations.models import Corporation, CorporationKind
from kiban.blocks.corporations.schemas import (
    CorporationCreate,
    CorporationRead,
    RepresentativeInput,
)
from kiban.blocks.corporations.service import do_register_corporation, to_read
from kiban.kernel import identifiers

SEED_ACTOR = "system:seed"

# (written, katakana) pairs for the first and second part of a company name.
STEMS = (
    ("さくら", "サクラ"),
    ("あおば", "アオバ"),
    ("ひかり", "ヒカリ"),
    ("みらい", "ミライ"),
    ("東西", "トウザイ"),
    ("日本", "ニホン"),
    ("大和", "ヤマト"),
    ("富士", "フジ"),
    ("北斗", "ホクト"),
    ("若葉", "ワカバ"),
    ("グリーン", "グリーン"),
    ("テクノ", "テクノ"),
    ("アルファ", "アルファ"),
    ("中央", "チュウオウ"),
    ("港", "ミナト"),
)
TRADES = (
    ("商事", "ショウジ"),
    ("工業", "コウギョウ"),
    ("システムズ", "システムズ"),
    ("建設", "ケンセツ"),
    ("食品", "ショクヒン"),
    ("物産", "ブッサン"),
    ("電機", "デンキ"),
    ("ソフト", "ソフト"),
    ("不動産", "フドウサン"),
    ("運輸", "ウンユ"),
    ("製作所", "セイサクショ"),
    ("デザイン", "デザイン"),
)
# (kind, weight, the representative's title): roughly the shares of legal forms among Japan's
# corporations.
KINDS = (
    (CorporationKind.KABUSHIKI_KAISHA, 60, "代表取締役"),
    (CorporationKind.GODO_KAISHA, 15, "代表社員"),
    (CorporationKind.YUGEN_KAISHA, 15, "取締役"),
    (CorporationKind.IPPAN_SHADAN_HOJIN, 5, "代表理事"),
    (CorporationKind.NPO_HOJIN, 5, "理事"),
)


def _name(rng: random.Random, kind: CorporationKind, taken: set[str]) -> tuple[str, str]:
    free = [(stem, trade) for stem in STEMS for trade in TRADES if stem[0] + trade[0] not in taken]
    if free:
        (stem, stem_kana), (trade, trade_kana) = rng.choice(free)
    else:
        # Every pair of words is taken (large countries): a number keeps names unique.
        (stem, stem_kana), (trade, trade_kana) = rng.choice(STEMS), rng.choice(TRADES)
        number = len(taken) + 1
        stem, stem_kana = f"{stem}{number}", f"{stem_kana}{number}"
    taken.add(stem + trade)
    # About half of kabushiki kaisha put the legal form in front (前株), the rest after (後株).
    if kind is CorporationKind.KABUSHIKI_KAISHA and rng.random() < 0.5:
        return f"{kind.label_ja}{stem}{trade}", f"{stem_kana}{trade_kana}"
    return f"{stem}{trade}{kind.label_ja}", f"{stem_kana}{trade_kana}"


def seed_corporations(
    session: Session,
    *,
    count: int,
    seed: int,
    representatives: Sequence[RepresentativeInput],
) -> list[CorporationRead]:
    """Register ``count`` synthetic corporations, each represented by one of ``representatives``.

    Each representative heads at most one corporation (``count`` may not exceed their number).
    Registrations go through the ordinary action (audited, with events). Never commits.
    """
    if count < 0 or count > len(representatives):
        raise InvalidCorporation(
            f"法人数は0以上{len(representatives)}以下です。",
            f"count must be between 0 and {len(representatives)} (one per representative).",
            field="count",
        )
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design.
    taken = set(session.scalars(select(Corporation.corporate_number)))
    names: set[str] = set()
    chosen = rng.sample(list(representatives), count)
    town_ids = [representative.address.town_id for representative in chosen]
    if None in town_ids:
        raise InvalidCorporation(
            "代表者の住所は町字（town_id）で指定してください。",
            "Give the representatives' addresses by town (town_id).",
            field="representatives",
        )
    towns = address.get_towns(session, {t for t in town_ids if t is not None})
    home_lg_codes = [towns[t].lg_code for t in town_ids if t is not None]
    municipal_towns: dict[str, list[address.TownRead]] = {}
    made = []
    for representative, lg_code in zip(chosen, home_lg_codes, strict=True):
        if lg_code not in municipal_towns:
            municipal_towns[lg_code] = address.list_towns(session, lg_code)
        town = rng.choice(municipal_towns[lg_code])
        kind, title = _kind(rng)
        name, kana = _name(rng, kind, names)
        number = identifiers.generate_corporate_number(rng)
        while number in taken:
            number = identifiers.generate_corporate_number(rng)
        taken.add(number)
        data = CorporationCreate(
            corporate_number=number,
            name=name,
            name_kana=kana,
            kind=kind,
            head_office=AddressInput(
                town_id=town.id,
                chome=rng.randint(1, 4) if town.has_chome else None,
                block_number=f"{rng.randint(1, 20)}-{rng.randint(1, 30)}",
                building=f"{name}ビル" if rng.random() < 0.3 else None,
            ),
            representative=representative.model_copy(update={"title": title}),
        )
        made.append(to_read(do_register_corporation(session, data, actor=SEED_ACTOR)))
    return made


def _kind(rng: random.Random) -> tuple[CorporationKind, str]:
    kind, _weight, title = rng.choices(KINDS, [weight for _kind, weight, _title in KINDS])[0]
    return kind, title
