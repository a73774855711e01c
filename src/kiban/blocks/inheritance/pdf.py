"""The chart of legal heirs as a printable PDF, drawn with reportlab.

The text uses reportlab's built-in Japanese CID font (HeiseiKakuGo-W5), which PDF readers
supply themselves, so no font file is embedded or shipped.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from kiban.blocks.inheritance.diagram import Layout

FONT = "HeiseiKakuGo-W5"


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def render_pdf(layout: Layout) -> bytes:
    """One page, A4 wide and as tall as the layout (A4 when the heirs fit)."""
    _register_font()
    buffer = io.BytesIO()
    width, height = A4[0], max(A4[1], layout.height)
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True)
    canvas.setTitle(layout.title)
    canvas.setSubject(layout.description)
    canvas.setCreator("kiban")
    canvas.setLineWidth(0.8)
    for stroke in layout.strokes:
        # The layout measures from the top; PDF from the bottom.
        canvas.line(stroke.x1, height - stroke.y1, stroke.x2, height - stroke.y2)
    for text in layout.texts:
        canvas.setFont(FONT, text.size)
        y = height - text.y
        # The CID font has no bold face: a bold line is drawn twice, a hair apart.
        for shift in (0.0, 0.3) if text.bold else (0.0,):
            if text.anchor == "middle":
                canvas.drawCentredString(text.x + shift, y, text.text)
            else:
                canvas.drawString(text.x + shift, y, text.text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
