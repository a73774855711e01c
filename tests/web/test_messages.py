"""Every message the code and templates mark for translation has a Japanese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiban.platform import i18n

SRC = Path(i18n.__file__).resolve().parents[2]
METHOD_MAP = [("kiban/**.py", "python"), ("kiban/**/templates/**.html", "jinja2")]


def _marked_messages() -> set[str]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SRC), method_map=METHOD_MAP
    ):
        messages.update(m for m in ([message] if isinstance(message, str) else message) if m)
    return messages


def test_the_japanese_catalog_translates_every_message() -> None:
    with i18n.catalog_path("ja").open("rb") as po:
        catalog = read_po(po, locale="ja")
    translated = {m.id for m in catalog if m.id and m.string}

    marked = _marked_messages()

    assert "Skip to main content" in marked, "extraction found nothing; is the path right?"
    assert sorted(marked - translated) == []


def test_both_catalogs_list_the_same_messages() -> None:
    ids = {}
    for lang in i18n.LANGUAGES:
        with i18n.catalog_path(lang).open("rb") as po:
            ids[lang] = {m.id for m in read_po(po, locale=lang) if m.id}

    assert ids["ja"] == ids["en"]
