"""Archive PDFs of reflections (心得): one PDF per submitted and per graded version, kept for audits.

The font is Noto Sans SC (SIL Open Font License 1.1), shipped by the `pylopdf-fonts-zh-cn` wheel and
found through `importlib.resources`: no system font, no network. That file has CID-keyed CFF
outlines, which fpdf2 embeds behind a custom /Encoding CMap that several text extractors (pypdf
among them) cannot read. So each render builds, with fontTools, a small TrueType font holding only
the glyphs the document uses (outlines converted to quadratic curves, within 1/1000 em) and embeds
that: an Identity-H CIDFontType2 font (/FontFile2) with a /ToUnicode map, which every reader
extracts. Converted outlines are cached per process, so later renders mostly only assemble.

Characters the font lacks (emoji, rare symbols, most of CJK extension B) print as "□"; invisible
format and control characters are dropped. Line breaking is done here rather than by fpdf2, as it
breaks only at spaces or anywhere: lines may break between any two CJK characters, at spaces,
and inside a word only when it is wider than the line (a 500-character URL), and closing
punctuation (，。、) never starts a line.
"""

from __future__ import annotations

import functools
import io
import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fpdf import FPDF
from fpdf.enums import TextMode, XPos, YPos
from fpdf.fonts import TTFFont
from PIL import Image

__all__ = ["ArchiveDocument", "archive_pdf_render"]

KIND_SUBMITTED = "submitted"
KIND_GRADED = "graded"

# Document labels (printed in the PDF, not UI messages), complete for each supported locale.
_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "document": "培训心得存档",
        "prompt": "题目",
        "author": "作者",
        "employee_no": "工号",
        "department": "部门",
        "version": "版本",
        "version_value": "第 {version} 版",
        "kind": "类型",
        "kind_submitted": "提交稿",
        "kind_graded": "批改稿",
        "submitted_at": "提交时间",
        "late": "逾期提交",
        "body": "心得正文",
        "body_empty": "（无正文）",
        "photos": "照片",
        "photo_caption": "照片 {number} / {count}",
        "photo_unreadable": "（照片 {number} 无法读取）",
        "grading": "批改结果",
        "grade": "成绩",
        "feedback": "评语",
        "grader": "批改人",
        "graded_at": "批改时间",
        "none": "—",
        "page": "第 {page} / {pages} 页",
        "generated": "本文件由 Learnloop 系统自动生成，供培训记录存档与审计",
    },
    "en": {
        "document": "Training reflection archive",
        "prompt": "Prompt",
        "author": "Author",
        "employee_no": "Employee no.",
        "department": "Department",
        "version": "Version",
        "version_value": "Version {version}",
        "kind": "Type",
        "kind_submitted": "Submitted version",
        "kind_graded": "Graded version",
        "submitted_at": "Submitted at",
        "late": "Submitted late",
        "body": "Reflection",
        "body_empty": "(no text)",
        "photos": "Photos",
        "photo_caption": "Photo {number} / {count}",
        "photo_unreadable": "(photo {number} could not be read)",
        "grading": "Grading",
        "grade": "Grade",
        "feedback": "Feedback",
        "grader": "Graded by",
        "graded_at": "Graded at",
        "none": "—",
        "page": "Page {page} / {pages}",
        "generated": "Generated automatically by Learnloop for the training record archive",
    },
}
_DEFAULT_LOCALE = "zh-CN"


@dataclass(frozen=True)
class ArchiveDocument:
    """One version of one person's reflection, as it is archived."""

    training_title: str
    assignment_prompt: str
    author_name: str
    employee_no: str
    department_name: str
    version: int  # 1, 2, ... (a revision after "needs revision" is a new version)
    kind: str  # "submitted" or "graded"
    submitted_at: datetime  # timezone-aware UTC (a naive value is read as UTC)
    late: bool
    body: str  # up to 20,000 characters, Chinese and/or English, newlines kept
    photos: tuple[bytes, ...]  # JPEG bytes (already re-encoded by the server), 0..9 of them
    grade_label: str | None  # e.g. "优秀" when kind == "graded"
    feedback: str | None
    grader_name: str | None
    graded_at: datetime | None
    timezone: str = "Asia/Shanghai"  # timestamps are printed in this zone
    locale: str = "zh-CN"  # "zh-CN" or "en": the document's labels


# --- font -----------------------------------------------------------------------------------------

_FONT_PACKAGE = "pylopdf_fonts_zh_cn"
_FONT_FILE = "NotoSansSC-Regular.otf"
_FONT_FAMILY = "NotoSansSC"
_REPLACEMENT = "\u25a1"  # □ stands for a character the font cannot show
_PAGES_ALIAS = "{learnloop-pages}"  # fpdf2 puts the page count in its place
_MAX_CURVE_ERROR = 1.0  # font units (1/1000 em): cubic-to-quadratic conversion tolerance

# A lazily loaded TTFont reads from shared state: one glyph at a time.
_SOURCE_LOCK = threading.Lock()


@dataclass(frozen=True)
class _SourceFont:
    font: TTFont
    cmap: dict[int, str]
    glyph_ids: dict[str, int]
    advances: dict[str, int]
    hhea: Any
    os2: Any
    units_per_em: int
    names: dict[int, str]


# 2026-01-01 00:00 UTC in the OpenType clock (seconds since 1904-01-01).
_FONT_TIMESTAMP = 3_850_070_400


@functools.cache
def _source_font() -> _SourceFont:
    data = resources.files(_FONT_PACKAGE).joinpath(_FONT_FILE).read_bytes()
    font = TTFont(io.BytesIO(data), lazy=True, recalcTimestamp=False)
    names = {
        name_id: font["name"].getDebugName(name_id) or ""
        for name_id in (0, 13, 14)  # copyright, licence, licence URL: they travel with the subset
    }
    return _SourceFont(
        font=font,
        cmap=dict(font.getBestCmap()),
        glyph_ids=dict(font.getReverseGlyphMap()),
        advances={name: int(advance) for name, (advance, _) in font["hmtx"].metrics.items()},
        hhea=font["hhea"],
        os2=font["OS/2"],
        units_per_em=int(font["head"].unitsPerEm),
        names=names,
    )


@dataclass(frozen=True)
class _TrueTypeGlyph:
    data: bytes  # the compiled `glyf` entry
    advance: int
    bounds: tuple[int, int, int, int] | None  # None for an empty glyph (a space)
    points: int
    contours: int


@functools.cache  # at most one entry per glyph of the font (~31,000; a few hundred bytes each)
def _truetype_glyph(glyph_name: str) -> _TrueTypeGlyph:
    """One glyph of the source font, its cubic outline converted to TrueType's quadratic curves."""
    source = _source_font()
    pen = TTGlyphPen(None)
    with _SOURCE_LOCK:
        source.font.getGlyphSet()[glyph_name].draw(Cu2QuPen(pen, _MAX_CURVE_ERROR, reverse_direction=True))
    glyph = pen.glyph()
    data = glyph.compile(None)  # None: a converted CFF glyph is never a composite
    if glyph.numberOfContours <= 0:
        return _TrueTypeGlyph(data, source.advances[glyph_name], None, 0, 0)
    bounds = (int(glyph.xMin), int(glyph.yMin), int(glyph.xMax), int(glyph.yMax))
    return _TrueTypeGlyph(
        data, source.advances[glyph_name], bounds, len(glyph.coordinates), int(glyph.numberOfContours)
    )


def _subset_font(text: str) -> bytes:
    """A TrueType font with the glyphs for `text` (and printable ASCII), Noto Sans SC's metrics."""
    source = _source_font()
    codepoints = sorted({ord(ch) for ch in text} | set(range(0x20, 0x7F)))
    cmap = {cp: source.cmap[cp] for cp in codepoints if cp in source.cmap}
    order = [".notdef", *sorted(set(cmap.values()) - {".notdef"}, key=source.glyph_ids.__getitem__)]
    glyphs = {name: _truetype_glyph(name) for name in order}
    hhea, os2 = source.hhea, source.os2
    builder = FontBuilder(source.units_per_em, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    # The glyphs go in compiled as they are cached: no bounding box is recalculated on saving, so
    # head, hhea and maxp get theirs here (fpdf2 recalculates them all when it subsets again).
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {name: Glyph(glyph.data) for name, glyph in glyphs.items()}
    builder.font["glyf"] = glyf
    builder.font["loca"] = newTable("loca")
    builder.font.recalcBBoxes = False
    # FontBuilder stamps head.created/modified with "now": a fixed stamp keeps the same version's PDF
    # byte for byte the same, also when two renders fall on either side of a second.
    builder.font["head"].created = builder.font["head"].modified = _FONT_TIMESTAMP
    builder.setupHorizontalMetrics(
        {name: (glyph.advance, glyph.bounds[0] if glyph.bounds else 0) for name, glyph in glyphs.items()}
    )
    boxes = [glyph.bounds for glyph in glyphs.values() if glyph.bounds]
    head = builder.font["head"]
    head.xMin = min((box[0] for box in boxes), default=0)
    head.yMin = min((box[1] for box in boxes), default=0)
    head.xMax = max((box[2] for box in boxes), default=0)
    head.yMax = max((box[3] for box in boxes), default=0)
    right_bearings = [glyph.advance - glyph.bounds[2] for glyph in glyphs.values() if glyph.bounds]
    builder.setupHorizontalHeader(
        ascent=hhea.ascent,
        descent=hhea.descent,
        lineGap=hhea.lineGap,
        advanceWidthMax=max(glyph.advance for glyph in glyphs.values()),
        minLeftSideBearing=head.xMin,
        minRightSideBearing=min(right_bearings, default=0),
        xMaxExtent=head.xMax,
    )
    maxp = builder.font["maxp"]
    maxp.numGlyphs = len(order)
    maxp.maxPoints = max(glyph.points for glyph in glyphs.values())
    maxp.maxContours = max(glyph.contours for glyph in glyphs.values())
    builder.setupNameTable(
        {
            "copyright": source.names[0],
            "familyName": "Noto Sans SC",
            "styleName": "Regular",
            "fullName": "Noto Sans SC",
            "psName": _FONT_FAMILY,
            "licenseDescription": source.names[13],
            "licenseInfoURL": source.names[14],
        }
    )
    builder.setupOS2(
        usWeightClass=os2.usWeightClass,
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        sTypoLineGap=os2.sTypoLineGap,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        sxHeight=os2.sxHeight,
        sCapHeight=os2.sCapHeight,
        fsType=os2.fsType,
    )
    builder.setupPost(keepGlyphNames=False)
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def _clean(text: str) -> str:
    """`text` with only what the font can print: unknown characters become □, invisible ones go."""
    cmap = _source_font().cmap
    # No Unicode normalisation: NFC would turn CJK compatibility ideographs into other characters.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    joined = False  # just after a zero-width joiner: an emoji sequence goes on
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append("    ")
        elif ch in "\u2028\u2029\x85":
            out.append("\n")
        elif ord(ch) in cmap and category not in ("Cc", "Cf"):
            out.append(ch)
        elif category in ("Cc", "Cf", "Cs") or category.startswith("M"):
            # controls, joiners, variation selectors, stray combining marks: nothing to print
            joined = joined or ch == "\u200d"
            continue
        elif category == "Zs":
            out.append(" ")
        elif (joined and out and out[-1] == _REPLACEMENT) or 0x1F3FB <= ord(ch) <= 0x1F3FF:
            pass  # one box per emoji sequence; skin tone modifiers add none
        else:
            out.append(_REPLACEMENT)
        joined = False
    return "".join(out)


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


# --- line breaking --------------------------------------------------------------------------------

# Never at the start of a line (they stay with what precedes them) ...
_CLOSING = set("，。、：；！？）」』》〉】〕〗〙〛…‥・,.;:!?)]}>%‰℃’”»〞﹚﹜）］｝〉》")
# ... and never at the end of one (they stay with what follows them).
_OPENING = set("（「『《〈【〔〖〘〚([{<‘“«〝﹙﹛（［｛〈《$¥￥")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x9FFF  # radicals, CJK punctuation, kana, unified ideographs
        or 0xAC00 <= cp <= 0xD7AF  # hangul
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= cp <= 0xFE4F  # vertical forms
        or 0xFF00 <= cp <= 0xFFEF  # full-width forms
        or 0x20000 <= cp <= 0x3FFFF
        or ch == _REPLACEMENT
    )


def _atoms(paragraph: str) -> list[str]:
    """Pieces of a paragraph between which a line may break; a piece of whitespace is its own atom."""
    atoms: list[str] = []
    glue_next = False  # the previous atom ended with opening punctuation
    for token in re.findall(r"\s+|\S", paragraph):
        if token.isspace():
            atoms.append(token)
            glue_next = False
            continue
        previous = atoms[-1] if atoms else ""
        joins_previous = bool(previous) and not previous.isspace()
        if joins_previous and not glue_next:
            # within a word of a spaced script, or closing punctuation: no break before it
            joins_previous = token in _CLOSING or not (_is_cjk(token) or _is_cjk(previous[-1]))
        if joins_previous:
            atoms[-1] = previous + token
        else:
            atoms.append(token)
        glue_next = token in _OPENING
    return atoms


def _wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """`text` broken into lines no wider than `width`; newlines are kept as paragraph breaks."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        pending, pending_width = "", 0.0  # whitespace seen since the last atom
        for atom in _atoms(paragraph):
            atom_width = measure(atom)
            if atom.isspace():
                pending, pending_width = pending + atom, pending_width + atom_width
                continue
            if line_width + pending_width + atom_width <= width:
                line, line_width = line + pending + atom, line_width + pending_width + atom_width
                pending, pending_width = "", 0.0
                continue
            if atom_width > width:  # wider than a whole line (a long URL): break anywhere
                line, line_width = line + pending, line_width + pending_width
                for ch in atom:
                    ch_width = measure(ch)
                    if line.strip() and line_width + ch_width > width:
                        lines.append(line)
                        line, line_width = "", 0.0
                    line, line_width = line + ch, line_width + ch_width
            else:
                if line:
                    lines.append(line)
                line, line_width = atom, atom_width
            pending, pending_width = "", 0.0
        if line or not paragraph.strip():
            lines.append(line)  # a blank line stays a blank line
    return lines


# --- rendering ------------------------------------------------------------------------------------

_PAGE_MARGIN = 18.0  # mm
_BOTTOM_MARGIN = 20.0
_LABEL_WIDTH = 26.0
_TEXT_GREY = (90, 90, 90)
_RULE_GREY = (200, 200, 200)
_LATE_RED = (190, 30, 30)


def _labels_for(locale: str) -> dict[str, str]:
    if locale in _LABELS:
        return _LABELS[locale]
    language = locale.split("-")[0].lower()
    for key, labels in _LABELS.items():
        if key.split("-")[0].lower() == language:
            return labels
    return _LABELS[_DEFAULT_LOCALE]


def _format_time(moment: datetime, zone: ZoneInfo) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{local:%Y-%m-%d %H:%M} (UTC{sign}{hours:02d}:{minutes:02d})"


class _ArchivePDF(FPDF):
    footer_text: str = ""

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(_FONT_FAMILY, size=8)
        self.set_text_color(*_TEXT_GREY)
        page = str(self.page_no())
        text = self.footer_text.replace("{page}", page)
        # fpdf2 writes the page count over the alias at the end: centre the text as it will read
        # (the count taken as long as this page's number), not as it reads now.
        width = self.get_string_width(text.replace(_PAGES_ALIAS, page))
        self.set_x((self.w - width) / 2)
        self.cell(width, 5, text)


class _Writer:
    """Places wrapped text, rows and images top to bottom, adding pages as they fill."""

    def __init__(self, pdf: _ArchivePDF) -> None:
        self.pdf = pdf

    def _room(self, height: float) -> None:
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    def _lines(self, lines: Sequence[str], x: float, width: float, line_height: float) -> None:
        for line in lines:
            self._room(line_height)
            self.pdf.set_x(x)
            self.pdf.cell(width, line_height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraphs(
        self,
        text: str,
        size: float,
        colour: tuple[int, int, int] = (0, 0, 0),
        line_spacing: float = 1.6,
        bold: bool = False,
    ) -> None:
        pdf = self.pdf
        pdf.set_font(_FONT_FAMILY, size=size)
        pdf.set_text_color(*colour)
        if bold:  # the font has one weight: a thin outline in the text colour thickens it
            pdf.set_draw_color(*colour)
            pdf.set_line_width(size * 0.012)
            pdf.text_mode = TextMode.FILL_STROKE
        line_height = size * 0.3528 * line_spacing  # pt to mm
        self._lines(_wrap(text, pdf.epw, pdf.get_string_width), pdf.l_margin, pdf.epw, line_height)
        pdf.text_mode = TextMode.FILL

    def row(self, label: str, value: str, colour: tuple[int, int, int] = (0, 0, 0)) -> None:
        """A "label  value" row; the value wraps under itself."""
        pdf = self.pdf
        size, line_height = 10.0, 6.0
        pdf.set_font(_FONT_FAMILY, size=size)
        value_x = pdf.l_margin + _LABEL_WIDTH
        value_width = pdf.epw - _LABEL_WIDTH
        lines = _wrap(value, value_width, pdf.get_string_width) or [""]
        self._room(line_height)
        y = pdf.get_y()
        pdf.set_text_color(*_TEXT_GREY)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(_LABEL_WIDTH, line_height, label)
        pdf.set_xy(value_x, y)
        pdf.set_text_color(*colour)
        pdf.cell(value_width, line_height, lines[0], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._lines(lines[1:], value_x, value_width, line_height)

    def heading(self, text: str) -> None:
        self.space(3)
        self._room(20)  # keep a heading with the start of its section
        self.paragraphs(text, 12.5, bold=True, line_spacing=1.5)
        self.space(1)

    def rule(self) -> None:
        pdf = self.pdf
        self._room(30)  # a rule opens a section: not alone at the foot of a page
        self.space(2)
        pdf.set_draw_color(*_RULE_GREY)
        pdf.set_line_width(0.3)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        self.space(2)

    def space(self, height: float) -> None:
        if self.pdf.get_y() + height <= self.pdf.page_break_trigger:
            self.pdf.ln(height)

    def photo(self, jpeg: bytes, caption: str, unreadable: str) -> None:
        pdf = self.pdf
        caption_height = 6.0
        try:
            with Image.open(io.BytesIO(jpeg)) as image:
                image.verify()
            with Image.open(io.BytesIO(jpeg)) as image:
                pixel_width, pixel_height = image.size
        except Exception:  # a damaged photo must not lose the rest of the archive
            self.paragraphs(unreadable, 10, colour=_LATE_RED)
            return
        page_room = pdf.page_break_trigger - pdf.t_margin - caption_height - 2
        width = pdf.epw
        height = width * pixel_height / pixel_width
        if height > page_room:  # a tall photo: as high as a page allows
            height = page_room
            width = height * pixel_width / pixel_height
        self._room(height + caption_height + 2)
        x = pdf.l_margin + (pdf.epw - width) / 2
        pdf.image(io.BytesIO(jpeg), x=x, y=pdf.get_y(), w=width, h=height)
        pdf.set_y(pdf.get_y() + height + 1)
        pdf.set_font(_FONT_FAMILY, size=9)
        pdf.set_text_color(*_TEXT_GREY)
        pdf.cell(0, caption_height - 1, caption, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.space(3)


def archive_pdf_render(document: ArchiveDocument) -> bytes:
    """The archive PDF (A4) of one reflection version; the same document always gives the same bytes."""
    if document.kind not in (KIND_SUBMITTED, KIND_GRADED):
        raise ValueError(f"unknown reflection version kind: {document.kind!r}")
    locale_labels = _labels_for(document.locale)
    labels = {key: _clean(value) for key, value in locale_labels.items()}
    zone = ZoneInfo(document.timezone)
    graded = document.kind == KIND_GRADED
    none = labels["none"]

    title = _clean(document.training_title.strip()) or none
    prompt = _clean(document.assignment_prompt.strip()) or none
    author = _one_line(document.author_name) or none
    employee_no = _one_line(document.employee_no) or none
    department = _one_line(document.department_name) or none
    body = _clean(document.body.strip("\n")) if document.body.strip() else labels["body_empty"]
    submitted_at = _format_time(document.submitted_at, zone)
    grade = _one_line(document.grade_label or "") or none
    feedback = _clean((document.feedback or "").strip()) or none
    grader = _one_line(document.grader_name or "") or none
    graded_at = _format_time(document.graded_at, zone) if document.graded_at else none
    version = labels["version_value"].format(version=document.version)
    kind = labels["kind_graded"] if graded else labels["kind_submitted"]
    footer = "  ·  ".join(
        ("Learnloop", labels["page"].format(page="{page}", pages=_PAGES_ALIAS), labels["generated"])
    )

    printed: Iterable[str] = (
        *labels.values(),
        *(title, prompt, author, employee_no, department, body, submitted_at),
        *(grade, feedback, grader, graded_at, version, kind, footer, "·—"),
    )
    font_data = _subset_font("".join(printed))

    pdf = _ArchivePDF(orientation="portrait", unit="mm", format="A4")
    moment = document.graded_at if graded and document.graded_at else document.submitted_at
    pdf.set_creation_date(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    pdf.set_title(f"{_one_line(title)} — {author} — {version}")
    pdf.set_author(author)
    pdf.set_subject(labels["document"])
    pdf.set_creator("Learnloop")
    pdf.set_lang("en" if locale_labels is _LABELS["en"] else "zh-CN")
    pdf.set_margins(_PAGE_MARGIN, _PAGE_MARGIN, _PAGE_MARGIN)
    pdf.set_auto_page_break(True, margin=_BOTTOM_MARGIN)
    pdf.alias_nb_pages(_PAGES_ALIAS)
    pdf.footer_text = footer

    with tempfile.TemporaryDirectory(prefix="learnloop-pdf-") as folder:
        font_path = Path(folder) / "archive-font.ttf"
        font_path.write_bytes(font_data)
        pdf.add_font(_FONT_FAMILY, "", font_path)
        embedded = [font for font in pdf.fonts.values() if isinstance(font, TTFFont)]
        for font_file in embedded:
            # The glyphs carry their bounding boxes already: fpdf2's own subsetting need not decode
            # and re-encode every outline to recalculate them (that halves the time of output()).
            font_file.ttfont.recalcBBoxes = False
            # fpdf2 saves its own subset too: keep head.modified, or a second boundary changes the bytes.
            font_file.ttfont.recalcTimestamp = False
        try:
            pdf.add_page()
            writer = _Writer(pdf)
            writer.paragraphs(labels["document"], 9, colour=_TEXT_GREY, line_spacing=1.4)
            writer.paragraphs(title, 17, bold=True, line_spacing=1.4)
            writer.space(2)
            writer.row(labels["prompt"], prompt)
            writer.row(labels["author"], author)
            writer.row(labels["employee_no"], employee_no)
            writer.row(labels["department"], department)
            writer.row(labels["version"], version)
            writer.row(labels["kind"], kind)
            writer.row(labels["submitted_at"], submitted_at)
            if document.late:
                writer.row("", labels["late"], colour=_LATE_RED)
            writer.rule()

            writer.heading(labels["body"])
            writer.paragraphs(body, 11)

            if document.photos:
                writer.heading(labels["photos"])
                count = len(document.photos)
                for number, jpeg in enumerate(document.photos, start=1):
                    writer.photo(
                        jpeg,
                        labels["photo_caption"].format(number=number, count=count),
                        labels["photo_unreadable"].format(number=number),
                    )

            if graded:
                writer.rule()
                writer.heading(labels["grading"])
                writer.row(labels["grade"], grade)
                writer.row(labels["grader"], grader)
                writer.row(labels["graded_at"], graded_at)
                writer.row(labels["feedback"], feedback)
            return bytes(pdf.output())
        finally:
            for font_file in embedded:
                font_file.ttfont.close()
