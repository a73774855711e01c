"""Legal heirs (法定相続人) as pure, exact code: 民法 886–901, 939 and 32条の2.

The facade. The block imports no other block and no database: it takes a family as data and
returns the heirs with exact shares (:class:`fractions.Fraction`) and the articles applied to
each; the model is in docs/adr/0023-legal-heirs-engine.md.

* :func:`parse_family` reads the JSON of issue 18 into a checked :class:`Family`;
* :func:`compute_heirs` (or :func:`heirs_from_json`) gives a :class:`HeirsResult`, whose
  ``as_json()`` is ``{"heirs": [{"id", "share", "articles"}], "none": bool}``;
* :func:`chart_svg` and :func:`chart_pdf` draw the 法定相続情報一覧図.

Error code: ``inheritance.invalid_family`` (422, :class:`InvalidFamily`), whose ``field``
names the input at fault (``people[2].born_on``, ``relations[0].child``, ``renounced[1]``).
"""

from __future__ import annotations

from datetime import date

from kiban.blocks.inheritance.diagram import Layout, layout_chart, render_svg, share_ja
from kiban.blocks.inheritance.engine import (
    Heir,
    HeirsResult,
    Relationship,
    compute_heirs,
    format_share,
    heirs_from_json,
)
from kiban.blocks.inheritance.errors import InvalidFamily
from kiban.blocks.inheritance.family import ChildLink, Family, Marriage, Person, parse_family
from kiban.blocks.inheritance.pdf import render_pdf


def chart_svg(result: HeirsResult, family: Family, *, made_on: date) -> str:
    """The 法定相続情報一覧図 of ``result`` as an SVG document."""
    return render_svg(layout_chart(result, family, made_on=made_on))


def chart_pdf(result: HeirsResult, family: Family, *, made_on: date) -> bytes:
    """The 法定相続情報一覧図 of ``result`` as a one-page PDF."""
    return render_pdf(layout_chart(result, family, made_on=made_on))


__all__ = [
    "ChildLink",
    "Family",
    "Heir",
    "HeirsResult",
    "InvalidFamily",
    "Layout",
    "Marriage",
    "Person",
    "Relationship",
    "chart_pdf",
    "chart_svg",
    "compute_heirs",
    "format_share",
    "heirs_from_json",
    "parse_family",
    "share_ja",
]
