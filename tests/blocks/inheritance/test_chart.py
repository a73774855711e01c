"""The 法定相続情報一覧図: SVG that parses and names every heir, and a PDF that parses."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from kiban.blocks.inheritance import chart_pdf, chart_svg, compute_heirs, parse_family
from kiban.blocks.inheritance.diagram import layout_chart, text_width
from kiban.cli import app
from tests.blocks.inheritance.casebook import CASES, Case, child, family, person, spouse

SVG = "{http://www.w3.org/2000/svg}"
runner = CliRunner()

ADDRESS = "東京都千代田区霞が関一丁目1番"
FAMILY = family(
    [
        person("W", "1945-05-05", name="甲野花子", sex="female", address=ADDRESS),
        person("C1", "1968-02-03", name="甲野一郎", sex="male"),
        person("C2", "1970-01-01", "2010-06-01", name="甲野次郎", sex="male"),
        person("G", "1995-07-07", name="甲野三郎", sex="male"),
        person("G2", "1998-08-08", name="甲野桜", sex="female"),
    ],
    [
        spouse("A", "W"),
        child("A", "C1"),
        child("A", "C2"),
        child("C2", "G"),
        child("C2", "G2"),
    ],
)
FAMILY["people"][0]["address"] = ADDRESS


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))  # noqa: S314 — our own output, not untrusted.
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def test_svg_parses_and_names_every_heir_with_share_and_relationship() -> None:
    parsed = parse_family(FAMILY)
    svg = chart_svg(compute_heirs(parsed), parsed, made_on=date(2026, 12, 7))

    root = ET.fromstring(svg.encode("utf-8"))  # noqa: S314 — our own output.
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert "甲野太郎" in (title.text or "")
    assert desc is not None
    texts = _texts(svg)
    for name in ("甲野花子", "甲野一郎", "甲野三郎", "甲野桜"):
        assert name in texts
        assert name in (desc.text or "")
    assert "甲野次郎" not in texts  # Represented, not an heir: named only as 被代襲者.
    assert "被代襲者　甲野次郎" in texts
    assert "（妻）" in texts
    assert "（孫（代襲相続人））" in texts
    assert "相続分　2分の1" in texts
    assert "相続分　8分の1" in texts
    assert "最後の住所　東京都千代田区霞が関一丁目1番" in texts
    assert "死亡　令和7年4月1日" in texts
    assert "作成日　令和8年12月7日" in texts


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_casebook_chart_names_its_heirs(case: Case) -> None:
    parsed = parse_family(case.family)
    result = compute_heirs(parsed)
    texts = _texts(chart_svg(result, parsed, made_on=date(2026, 12, 7)))
    for heir in result.heirs:
        assert heir.id in texts  # No names in the casebook: the id stands for the name.
    assert ("相続人はいません。" in texts) == result.none


def test_pdf_parses_with_title_and_japanese_text() -> None:
    parsed = parse_family(FAMILY)
    pdf = chart_pdf(compute_heirs(parsed), parsed, made_on=date(2026, 12, 7))

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert reader.metadata is not None
    assert reader.metadata.title == "被相続人 甲野太郎 法定相続情報"
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert any("HeiseiKakuGo" in str(font.get_object()["/BaseFont"]) for font in fonts.values())
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)


def test_cli_draws_svg_and_pdf(tmp_path: Path) -> None:
    source = tmp_path / "family.json"
    source.write_text(json.dumps(FAMILY, ensure_ascii=False), encoding="utf-8")
    for name in ("chart.svg", "chart.pdf"):
        out = tmp_path / name
        result = runner.invoke(
            app,
            [
                "heirs",
                "diagram",
                "--input",
                str(source),
                "--out",
                str(out),
                "--made-on",
                "2026-12-07",
            ],
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
    assert "甲野桜" in _texts((tmp_path / "chart.svg").read_text(encoding="utf-8"))
    assert len(PdfReader(tmp_path / "chart.pdf").pages) == 1


def test_cli_refuses_another_output_format(tmp_path: Path) -> None:
    source = tmp_path / "family.json"
    source.write_text(json.dumps(FAMILY), encoding="utf-8")
    result = runner.invoke(
        app, ["heirs", "diagram", "--input", str(source), "--out", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 2
    assert ".svg or .pdf" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_long_addresses_wrap_inside_the_page() -> None:
    raw = json.loads(json.dumps(FAMILY))
    long_address = "北海道札幌市中央区北一条西二丁目1番地 札幌中央ハイツ第二棟1205号室 A-12"
    raw["people"][0]["address"] = long_address
    raw["people"][1]["address"] = long_address
    parsed = parse_family(raw)
    layout = layout_chart(compute_heirs(parsed), parsed, made_on=date(2026, 12, 7))

    for text in layout.texts:
        if text.anchor == "start":
            assert text.x + text_width(text.text, text.size) <= layout.width - 30, text.text
    continued = [t.text for t in layout.texts if t.text.startswith("　　　")]
    assert len(continued) == 2  # The decedent's last address and the spouse's address.
    assert all("1205号室" in line for line in continued)
