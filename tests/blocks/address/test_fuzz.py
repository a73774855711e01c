"""Fuzzing the normalizer: random Unicode, address-shaped noise, unbalanced brackets and very
long lines all get a well-formed result, and a batch gives one result per line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from kiban.blocks import address
from kiban.blocks.address.rules import MAX_INPUT
from kiban.platform import db

LG_CODES = ("131016", "261041", "262081", "011011")
FRAGMENTS = [
    "東京都",
    "東京",
    "千代田区",
    "丸の内",
    "丸ノ内",
    "霞が関",
    "京都府",
    "京都市中京区",
    "烏丸通",
    "六角下ル",
    "七観音町",
    "向日市",
    "森本町",
    "北海道",
    "札幌市",
    "中央区",
    "北1条西",
    "一",
    "二十",
    "丁目",
    "丁",
    "番地",
    "番",
    "号",
    "の",
    "ノ",
    "之",
    "-",
    "ー",
    "－",
    "―",
    "第",
    "地割",
    "大字",
    "字",
    "〒",
    "100-0005",
    "1000005",
    "1",
    "23",
    "456",
    "Ａ",
    "ビル",
    " ",
    "\u3000",
    "(",
    ")",
    "（",
    "）",
    "「",
    "【",
    "\n",
    "\x00",
    "\u200b",
]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEVELS = set(get_args(address.MatchLevel))


@pytest.fixture(scope="module")
def registry(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    path = tmp_path_factory.mktemp("fuzz") / "kiban.db"
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


def check(result: address.NormalizeResult, text: str) -> None:
    assert result.input == text
    assert result.match_level in LEVELS
    assert 0 <= result.score <= 1
    if result.match_level == "unknown":
        assert result.error
        assert result.score == 0
        assert result.matched_address == ""
    else:
        assert result.matched_address
        assert result.ids.lg_code is not None
    assert len(result.unmatched_address) <= len(text) + 1
    for value in result.structured_address.model_dump().values():
        assert value is None or isinstance(value, str)
    address.NormalizeResult.model_validate(result.model_dump(mode="json"))


address_like = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_unicode(registry: Session, text: str) -> None:
    check(address.normalize(text, session=registry), text)


@SETTINGS
@given(text=address_like)
def test_address_shaped_noise(registry: Session, text: str) -> None:
    check(address.normalize(text, session=registry), text)


@SETTINGS
@given(
    head=address_like,
    filler=st.text(alphabet="(（「【-ー0一丁目番地の ", min_size=1, max_size=20),
    repeat=st.integers(min_value=50, max_value=200),
)
def test_very_long_lines(registry: Session, head: str, filler: str, repeat: int) -> None:
    text = head + filler * repeat

    result = address.normalize(text, session=registry)

    check(result, text)
    if len(text) > MAX_INPUT:
        assert result.error is not None


@settings(max_examples=30, deadline=None)
@given(lines=st.lists(st.one_of(st.text(max_size=80), address_like), max_size=40))
def test_a_batch_gives_one_result_per_line_in_order(registry: Session, lines: list[str]) -> None:
    results = list(address.normalize_many(lines, session=registry))

    assert [r.input for r in results] == lines
    for result, line in zip(results, lines, strict=True):
        check(result, line)


def test_pathological_inputs_return(registry: Session) -> None:
    cases = [
        "(" * 5000,
        "（" * 3000 + "東京都",
        "1-" * 3000,
        "一" * 3000,
        "丁目" * 2000,
        "東京都千代田区丸の内" + "1丁目" * 1000,
        "京都市中京区" + "上ル" * 2000,
        "\U0010ffff" * 2000,
        "\ud800",
    ]

    for text in cases:
        check(address.normalize(text, session=registry), text)


@SETTINGS
@given(
    numbers=st.lists(st.integers(min_value=1, max_value=999), min_size=1, max_size=2),
    separator=st.sampled_from(["-", "－", "ー", "番", "の"]),
    building=st.sampled_from(["", " ビル3F", "号", "番地"]),
)
def test_no_chome_is_made_up_from_block_numbers(
    registry: Session, numbers: list[int], separator: str, building: str
) -> None:
    text = "東京都千代田区丸の内" + separator.join(map(str, numbers)) + building

    result = address.normalize(text, session=registry)

    s = result.structured_address
    assert s.oaza_cho == "丸の内"
    # 丸の内 exists only with its 丁目 一〜三: a plain number 1-3 right after it (then a dash,
    # a space or nothing) can only be that 丁目; any other number is a block, never a 丁目.
    plain = len(numbers) == 1 or separator in "-－ー"
    plain = plain and not (len(numbers) == 1 and building in ("号", "番地"))
    if numbers[0] <= 3 and plain:
        assert s.chome == f"{'一二三'[numbers[0] - 1]}丁目"
        assert result.match_level == "machiaza_detail"
        return
    assert s.chome is None
    assert result.match_level == "machiaza"
    assert str(numbers[0]) in (s.blk_num, s.prc_num1)


@SETTINGS
@given(chome=st.integers(min_value=1, max_value=3), kanji=st.booleans())
def test_a_written_chome_is_read(registry: Session, chome: int, kanji: bool) -> None:
    written = "一二三"[chome - 1] if kanji else str(chome)

    result = address.normalize(f"千代田区丸の内{written}丁目", session=registry)

    assert result.match_level == "machiaza_detail"
    assert result.structured_address.chome == "一二三"[chome - 1] + "丁目"
