"""The receipt of a submitted application as a PDF (reportlab): the reference number, the
procedure, when it was submitted, what happens next and by when, in the resident's language.

Japanese text is set in reportlab's built-in CID font ``HeiseiKakuGo-W5`` (the PDF viewer
supplies the glyphs), so no font file is shipped. The sentences are the receipt page's own
gettext messages, so the page and the PDF say the same thing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from kiban.platform import i18n

__all__ = ["Receipt", "render_receipt"]

FONT: Final = "HeiseiKakuGo-W5"
_MARGIN: Final = 20 * mm
_WIDTH: Final = A4[0] - 2 * _MARGIN


@dataclass(frozen=True)
class Receipt:
    """What a receipt says."""

    title: str  # the procedure, in the reader's language
    reference: str
    submitted_at: datetime
    office: str | None
    destination: str | None
    moving_day: date | None
    expected_completion: date | None
    move_in_by: date | None
    moving_out: bool


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, size: float) -> list[str]:
    # Japanese has no spaces to break at: wrap by width, character by character.
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, _font(), size) > _WIDTH and line:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line]


def _steps(lang: i18n.Language, receipt: Receipt) -> list[str]:
    _ = i18n.translations(lang).gettext

    def day(value: date) -> str:
        return i18n.format_day(lang, value)

    steps = [
        _("The office checks your notice and tells you the result in your inbox by %(day)s.")
        % {"day": day(receipt.expected_completion)}
        if receipt.expected_completion
        else _("The office checks your notice and tells you the result in your inbox.")
    ]
    if receipt.moving_out:
        steps.append(
            _(
                "Once it is accepted, your moving-out data goes to your new municipality "
                "through the public service mesh: you need no paper moving-out certificate."
            )
        )
        steps.append(
            _(
                "Reserve a visit to the new office from Procedures; visits start on your moving date."  # noqa: E501
            )
        )
        if receipt.move_in_by:
            steps.append(
                _(
                    "Complete the moving-in notice at the new office within 14 days of your "
                    "move: by %(day)s."
                )
                % {"day": day(receipt.move_in_by)}
            )
    return steps


def render_receipt(lang: i18n.Language, receipt: Receipt) -> bytes:
    """The receipt as a one-page A4 PDF."""
    _ = i18n.translations(lang).gettext
    font = _font()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4)
    pdf.setTitle(_("%(procedure)s submitted") % {"procedure": receipt.title})
    pdf.setSubject(receipt.reference)
    y = A4[1] - _MARGIN

    def write(text: str, size: float = 10.5, gap: float = 1.6) -> None:
        nonlocal y
        pdf.setFont(font, size)
        for line in _wrap(text, size):
            pdf.drawString(_MARGIN, y, line)
            y -= size * gap

    write(_("%(procedure)s submitted") % {"procedure": receipt.title}, 18, 1.8)
    write(_("Your reference number"), 10.5)
    write(receipt.reference, 20, 2.0)
    facts = [
        (_("Procedure"), receipt.title),
        (_("Reference number"), receipt.reference),
        (_("Submitted"), i18n.format_moment(lang, receipt.submitted_at)),
    ]
    if receipt.office:
        facts.append((_("Filed with"), receipt.office))
    if receipt.destination:
        facts.append((_("New address"), receipt.destination))
    if receipt.moving_day:
        facts.append((_("Moving date"), i18n.format_day(lang, receipt.moving_day)))
    write(_("What you filed"), 13, 1.8)
    for label, value in facts:
        write(f"{label}: {value}")
    y -= 6
    write(_("What happens next"), 13, 1.8)
    for number, step in enumerate(_steps(lang, receipt), start=1):
        write(f"{number}. {step}")
    y -= 6
    write(
        _(
            "Keep this number: quote it if you contact the office. We have also put it in your inbox."  # noqa: E501
        ),
        9,
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
