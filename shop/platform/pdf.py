"""A4 documents made with reportlab (a CoA, an order acknowledgement): laid out twice, so that every page can say
"Page n of N", and text escaped for reportlab's paragraph markup."""
from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

MARGIN = 18 * mm
WIDTH, HEIGHT = A4
TEXT_WIDTH = WIDTH - 2 * MARGIN

# Draws a page's header and footer: the canvas, the page's number, and how many pages there are.
PageFrame = Callable[[Canvas, int, int], None]


def render_a4(story: Callable[[], list[Flowable]], page_frame: PageFrame, *, title: str, author: str,
              subject: str, font: str | None = None) -> bytes:
    """The document as PDF bytes: `story()` laid out once to count the pages, then again with the count known.
    `font`, a registered font's name, replaces Helvetica as the one every page starts in (a PDF/A document must
    embed every font it names, and the standard Helvetica is never embedded)."""
    def build(total_pages: int | None) -> tuple[bytes, int]:
        buffer = BytesIO()
        doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=24 * mm,
                                bottomMargin=22 * mm, title=title, author=author, subject=subject,
                                initialFontName=font)

        def frame(canvas: Canvas, document: SimpleDocTemplate) -> None:
            page_frame(canvas, document.page, total_pages or document.page)

        doc.build(story(), onFirstPage=frame, onLaterPages=frame)
        return buffer.getvalue(), doc.page

    return build(build(None)[1])[0]


def escape(text: object) -> str:
    """Text for a reportlab Paragraph, which parses a small XML markup: lab text such as "<197K>" is no tag."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
