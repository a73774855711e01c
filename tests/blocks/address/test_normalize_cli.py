"""``kiban address normalize``: one address, a stream on stdin, a file; four output formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from kiban.blocks import address
from kiban.blocks.address.index import invalidate_index
from kiban.cli.address import CSV_COLUMNS, app

LINES = ["東京都千代田区霞が関1-3-1 4F", "", "丸の内一丁目", "千代田区丸の内2-7-2"]


@pytest.fixture
def loaded(session: Session) -> Iterator[None]:
    invalidate_index()
    address.load_registry(session, lg_codes=["131016"])
    session.commit()
    yield
    invalidate_index()


def _run(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, ["normalize", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_one_address_prints_one_json_object(loaded: None) -> None:
    body = json.loads(_run("千代田区霞が関２丁目"))

    assert body["match_level"] == "machiaza_detail"
    assert body["structured_address"]["chome"] == "二丁目"
    assert body["coordinates"]["lat"] == pytest.approx(35.6755, abs=0.01)


def test_stdin_streams_one_result_per_line_in_ndjson(loaded: None) -> None:
    out = _run("-", "--format", "ndjson", stdin="\n".join(LINES) + "\n")

    results = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in results] == LINES
    assert results[1]["match_level"] == "unknown"
    assert results[1]["error"]
    assert results[3]["structured_address"]["oaza_cho"] == "丸の内"


def test_json_stream_is_one_array(loaded: None) -> None:
    results = json.loads(_run("-", stdin="\n".join(LINES)))

    assert len(results) == len(LINES)


def test_csv_lists_the_candidates_of_an_ambiguous_line(session: Session) -> None:
    invalidate_index()
    address.load_registry(session, lg_codes=["132063", "342084"])  # two 府中市
    session.commit()

    rows = list(csv.DictReader(io.StringIO(_run("府中市宮西町", "--format", "csv"))))
    invalidate_index()

    assert rows[0]["match_level"] == "machiaza"
    assert rows[0]["candidates"] == ""  # 宮西町 is only Tokyo's: not ambiguous
    rows = list(csv.DictReader(io.StringIO(_run("府中市", "--format", "csv"))))
    invalidate_index()

    assert rows[0]["match_level"] == "unknown"
    assert rows[0]["candidates"] == "東京都府中市 | 広島県府中市"


def test_csv_has_a_header_and_flat_columns(loaded: None, tmp_path: Path) -> None:
    source = tmp_path / "addresses.txt"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")

    rows = list(csv.DictReader(io.StringIO(_run("--input", str(source), "--format", "csv"))))

    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == len(LINES)
    assert (rows[0]["lg_code"], rows[0]["oaza_cho"], rows[0]["chome"]) == (
        "131016",
        "霞が関",
        "一丁目",
    )
    assert rows[0]["lat"]
    assert rows[1]["match_level"] == "unknown"


def test_geojson_is_a_feature_collection_with_points(loaded: None) -> None:
    collection = json.loads(_run("-", "--format", "geojson", stdin="\n".join(LINES)))

    assert collection["type"] == "FeatureCollection"
    first, empty = collection["features"][:2]
    lon, lat = first["geometry"]["coordinates"]
    assert 139 < lon < 140
    assert 35 < lat < 36
    assert first["properties"]["match_level"] == "machiaza_detail"
    assert empty["geometry"] is None


def test_the_progress_bar_never_mixes_into_the_results(loaded: None, tmp_path: Path) -> None:
    source = tmp_path / "addresses.txt"
    source.write_text("\n".join(LINES), encoding="utf-8")

    out = _run("--input", str(source), "--format", "ndjson")

    assert all(json.loads(line) for line in out.splitlines())


def test_an_empty_registry_and_a_missing_argument_exit_non_zero(database_url: str) -> None:
    invalidate_index()
    runner = CliRunner()

    empty = runner.invoke(app, ["normalize", "千代田区丸の内"])
    nothing = runner.invoke(app, ["normalize"])

    assert empty.exit_code == 1
    assert "kiban address load" in empty.output
    assert nothing.exit_code == 2
