"""おくやみ (the bereaved's one-stop): every procedure that applies to this death.

Derived from the data, not from a questionnaire: which agencies held the deceased (the mesh's
access records of the deceased name every agency that exchanged data about them — enrolments,
prefills, deliveries), whether the deceased had a spouse (the family kept on acceptance), the
benefits stopped and the payments held on the death (the benefits and payments blocks), the
corporations the deceased represented (the corporate registry, by person id), and the
procedures kiban itself runs. Each item has its deadline counted from the day of death, where
it is done, whether it can be done here online, and — for what kiban did itself through the
mesh — that it is done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from kiban.blocks import benefits, corporations, mesh, payments, procedures
from kiban.life_events.death import errors
from kiban.life_events.death.definitions import DEATH, deceased_of

# The mesh members of the reference agencies (``kiban.agencies``), by what they hold.
PENSION: Final = "JP/GOV/NENKIN"
INSURER: Final = "JP/GOV/KYOKAIKENPO"
LICENCE: Final = "JP/GOV/MPD-LICENCE"
TAX: Final = "JP/GOV/NTA"
BANK: Final = "JP/COM/KIBAN-BANK"
_PAGES: Final = 20
_EVENTS: Final = "/residents/events"
_PROVIDER: Final = "provider"
_DIED: Final = "resident.died"


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the last day of a shorter month: 民法第143条)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)  # pragma: no cover - every month has 28 days.


@dataclass(frozen=True)
class Item:
    """One procedure for the bereaved."""

    code: str
    title_ja: str
    title_en: str
    where_ja: str
    where_en: str
    deadline: date | None
    basis: str
    online: str | None = None
    """The portal path where it is done online here, if kiban offers it."""
    done: bool = False
    done_by_mesh: bool = False
    """Kiban told the agency itself through the mesh (the bereaved need not)."""
    detail_ja: str | None = None
    detail_en: str | None = None
    """What it concerns here (a company, the sums held), when the title is not enough."""


@dataclass(frozen=True)
class Told:
    """One agency told of the death through the mesh, as the deceased's access records show."""

    at: datetime
    agency: str
    service: str
    legal_basis: str | None
    outcome: str


def _records(session: Session, person_id: uuid.UUID) -> list[mesh.PersonRecord]:
    found: list[mesh.PersonRecord] = []
    before: int | None = None
    for _page in range(_PAGES):
        page = mesh.records_for_person(session, person_id, limit=100, before_seq=before)
        found.extend(page.records)
        before = page.next_before
        if before is None:
            break
    return found


def told_of(session: Session, app: procedures.ApplicationRead) -> list[Told]:
    """The fan-out of the death (an accepted 死亡届): every delivery of the register's death
    event to a subscribed agency, from the deceased's access records, oldest first."""
    if app.code != DEATH or app.state != "accepted":
        raise errors.NotDeceased()
    return sorted(
        (
            Told(r.recorded_at, r.counterpart, r.service, r.legal_basis, r.outcome)
            for r in _records(session, deceased_of(app))
            # One record per side: keep the register's, whose counterpart is the agency.
            if r.service.endswith(_EVENTS) and r.side == _PROVIDER and _DIED in r.items
        ),
        key=lambda t: (t.at, t.agency),
    )


def _members_held(session: Session, person_id: uuid.UUID) -> set[str]:
    held: set[str] = set()
    for record in _records(session, person_id):
        held.update((record.member, record.counterpart))
    return held


def _held(held: set[str], prefix: str) -> bool:
    return any(m.startswith(prefix) for m in held)


def items_for(session: Session, app: procedures.ApplicationRead) -> list[Item]:
    """The procedures that apply to the death of ``app`` (an accepted 死亡届), by deadline."""
    if app.code != DEATH or app.state != "accepted":
        raise errors.NotDeceased()
    died = date.fromisoformat(str(app.outputs["died_on"]))
    held = _members_held(session, deceased_of(app))
    family: dict[str, Any] = dict(app.outputs.get("family") or {})
    has_spouse = any(r.get("type") == "spouse" for r in family.get("relations", []))
    items = [
        Item(
            "death_notice",
            "死亡届",
            "Death notice",
            "市区町村",
            "Municipality",
            died + timedelta(days=7),
            "戸籍法第86条",
            done=True,
        ),
        Item(
            "heirs_chart",
            "法定相続情報一覧図",
            "Chart of legal heirs",
            "このページ（法務局への申出に添付）",
            "This page (for the legal affairs bureau)",
            None,
            "不動産登記規則第247条",
            online="heirs",
        ),
        Item(
            "renunciation",
            "相続放棄・限定承認の申述",
            "Renounce or accept with reservation",
            "家庭裁判所",
            "Family court",
            add_months(died, 3),
            "民法第915条",
        ),
        Item(
            "inheritance_tax",
            "相続税の申告・納付",
            "Inheritance tax return",
            "税務署",
            "Tax office",
            add_months(died, 10),
            "相続税法第27条",
        ),
    ]
    if _held(held, PENSION):
        items.append(
            Item(
                "pension_death",
                "年金受給権者死亡届",
                "Report of a pensioner's death",
                "日本年金機構",
                "Japan Pension Service",
                died + timedelta(days=14),
                "国民年金法施行規則第24条",
                done=True,
                done_by_mesh=True,
            )
        )
        items.append(
            Item(
                "unpaid_pension",
                "未支給年金の請求",
                "Claim pension not yet paid",
                "日本年金機構",
                "Japan Pension Service",
                add_months(died, 60),
                "国民年金法第19条",
            )
        )
        if has_spouse:
            items.append(
                Item(
                    "survivor_pension",
                    "遺族年金の請求",
                    "Survivor's pension claim",
                    "日本年金機構",
                    "Japan Pension Service",
                    add_months(died, 60),
                    "国民年金法第37条",
                )
            )
    if _held(held, INSURER):
        items.append(
            Item(
                "insurance_loss",
                "健康保険の資格喪失・保険証の返却",
                "End of health insurance; return the card",
                "保険者",
                "Health insurer",
                died + timedelta(days=14),
                "健康保険法第36条",
                done=True,
                done_by_mesh=True,
            )
        )
        items.append(
            Item(
                "funeral_grant",
                "埋葬料（葬祭費）の請求",
                "Funeral grant claim",
                "保険者",
                "Health insurer",
                add_months(died, 24),
                "健康保険法第100条",
            )
        )
    if _held(held, LICENCE):
        items.append(
            Item(
                "licence",
                "運転免許証の返納",
                "Return the driving licence",
                "警察署・運転免許センター",
                "Police licence office",
                None,
                "道路交通法第107条",
                done=True,
                done_by_mesh=True,
            )
        )
    if _held(held, TAX):
        items.append(
            Item(
                "final_return",
                "準確定申告",
                "Final income tax return of the deceased",
                "税務署",
                "Tax office",
                add_months(died, 4),
                "所得税法第125条",
            )
        )
    if _held(held, BANK):
        items.append(
            Item(
                "bank",
                "預貯金の相続手続",
                "Bank accounts of the deceased",
                "金融機関",
                "Bank",
                None,
                "民法第896条",
            )
        )
    items.extend(_benefit_items(session, deceased_of(app), died))
    items.extend(_business_items(session, deceased_of(app), died))
    far = date.max
    return sorted(items, key=lambda i: (i.deadline or far, i.code))


def _benefit_items(session: Session, person_id: uuid.UUID, died: date) -> list[Item]:
    """What the benefits and payments blocks did on the death: benefits stopped from the next
    period (kiban's own subscription, nothing to do) and what was owed to the deceased held
    for the heirs to claim (会計法第30条: five years)."""
    determinations = benefits.list_determinations_of(session, person_id)
    stopped = [d for d in determinations if d.status == "stopped"]
    held = [
        (f"{d.title_ja} {d.period}", f"{d.title_en} {d.period}", d.amount_yen)
        for d in determinations
        if d.status == "held"
    ]
    # An obligation's reason already names the programme and the period (in Japanese).
    held += [(o.reason, o.reason, o.amount) for o in payments.list_held_of(session, person_id)]
    items: list[Item] = []
    if stopped:
        items.append(
            Item(
                "benefits_stopped",
                "給付の停止",
                "Benefits stopped",
                "給付の実施機関",
                "The paying bodies",
                None,
                "児童手当法第12条ほか (受給資格の消滅)",
                done=True,
                detail_ja="、".join(f"{d.title_ja}（{d.period}分から）" for d in stopped),
                detail_en=", ".join(f"{d.title_en} (from {d.period})" for d in stopped),
            )
        )
    if held:
        total = sum(amount for _ja, _en, amount in held)
        items.append(
            Item(
                "benefits_held",
                "未支給の給付金の請求",
                "Claim the benefits held for the estate",
                "給付の実施機関",
                "The paying bodies",
                add_months(died, 60),
                "会計法第30条",
                detail_ja=(
                    f"支払を保留しています（計 {total:,}円）: "
                    + "、".join(f"{ja} {amount:,}円" for ja, _en, amount in held)
                ),
                detail_en=(
                    f"Payments held ({total:,} yen in all): "
                    + ", ".join(f"{en} {amount:,} yen" for _ja, en, amount in held)
                ),
            )
        )
    return items


def _business_items(session: Session, person_id: uuid.UUID, died: date) -> list[Item]:
    """The corporations the deceased represented, as the corporate registry links them by
    person id: each needs its change of representative registered within two weeks
    (会社法第915条第1項)."""
    return [
        Item(
            f"representative_change:{corporation.corporate_number}",
            "代表者変更登記",
            "Register the change of representative",
            "法務局",
            "Legal affairs bureau",
            died + timedelta(days=14),
            "会社法第915条第1項",
            detail_ja=f"{corporation.name}（法人番号 {corporation.corporate_number}、"
            f"{corporation.representative.title}）",
            detail_en=f"{corporation.name} (corporate number {corporation.corporate_number}, "
            f"{corporation.representative.title})",
        )
        for corporation in corporations.list_corporations_represented_by(session, person_id)
    ]
