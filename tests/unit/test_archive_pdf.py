"""Archive PDFs of reflections: Chinese that extracts as text, an embedded subset font, pages, photos.

Everything is read back with pypdf; the photos are drawn here with Pillow, so nothing binary is committed.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import random
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from backend.reflections.archive_pdf import ArchiveDocument, archive_pdf_render

SENTENCE = "大客户关系维护的三个要点：倾听、跟进、复盘。"
SECOND = "下季度我会每周整理一次拜访记录，并和主管一起复盘。"
SUBMITTED_AT = datetime(2026, 11, 22, 6, 5, tzinfo=UTC)  # 14:05 in Shanghai
GRADED_AT = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
FEEDBACK = "观点清晰，行动计划具体可执行。建议补充复盘环节的量化指标。"


def document(**changes: Any) -> ArchiveDocument:
    base = ArchiveDocument(
        training_title="大客户经理进阶训练营",
        assignment_prompt="请结合本次培训内容，谈谈你在大客户关系维护方面的三点体会。",
        author_name="王小明",
        employee_no="E10023",
        department_name="华东大区 / 销售一部",
        version=1,
        kind="submitted",
        submitted_at=SUBMITTED_AT,
        late=False,
        body=f"{SENTENCE}\n我们在“客户拜访”环节中学到了 open questions 的用法。\n{SECOND}",
        photos=(),
        grade_label=None,
        feedback=None,
        grader_name=None,
        graded_at=None,
    )
    return dataclasses.replace(base, **changes)


def graded(**changes: Any) -> ArchiveDocument:
    values: dict[str, Any] = {
        "version": 2,
        "kind": "graded",
        "grade_label": "优秀",
        "feedback": FEEDBACK,
        "grader_name": "李老师",
        "graded_at": GRADED_AT,
    }
    return document(**(values | changes))


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(pdf).pages)


def flat(text: str) -> str:
    """The text without any whitespace: Chinese sentences read the same across line breaks."""
    return "".join(text.split())


def chinese_text(length: int, seed: int = 7) -> str:
    """`length` characters of varied Chinese (the 3,755 common GB2312 ideographs), in sentences."""
    common = [
        bytes([high, low]).decode("gb2312")
        for high in range(0xB0, 0xD8)
        for low in range(0xA1, 0xFF)
        if not (high == 0xD7 and low > 0xF9)
    ]
    rnd = random.Random(seed)
    parts: list[str] = []
    while sum(map(len, parts)) < length:
        parts.append(
            "".join(rnd.choice(common) for _ in range(rnd.randint(8, 30))) + rnd.choice("，。；！？")
        )
        if rnd.random() < 0.1:
            parts.append("\n")
    return "".join(parts)[:length]


def photo(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 80):
        draw.rectangle((x, 0, x + 30, size[1]), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def embedded_fonts(pdf: bytes) -> list[tuple[DictionaryObject, DictionaryObject]]:
    """(font, font descriptor) of every Type0 font used on any page."""
    found = []
    for page in read(pdf).pages:
        fonts = cast(DictionaryObject, cast(DictionaryObject, page["/Resources"])["/Font"])
        for ref in fonts.values():
            font = cast(DictionaryObject, ref.get_object())
            assert font["/Subtype"] == "/Type0"
            descendants = cast(ArrayObject, font["/DescendantFonts"])
            descendant = cast(DictionaryObject, descendants[0].get_object())
            found.append((font, cast(DictionaryObject, descendant["/FontDescriptor"].get_object())))
    return found


def test_chinese_text_extracts_with_the_header() -> None:
    pdf = archive_pdf_render(document())
    text = text_of(pdf)

    assert SENTENCE in text
    assert SECOND in flat(text)
    assert "open questions" in text
    for expected in ("王小明", "工号", "E10023", "华东大区 / 销售一部", "大客户经理进阶训练营", "第 1 版"):
        assert expected in text
    assert "提交时间" in text
    assert "2026-11-22 14:05 (UTC+08:00)" in text
    assert "提交稿" in text
    # a submitted version has no grading section, and it was on time
    for absent in ("成绩", "评语", "逾期提交"):
        assert absent not in text
    assert len(read(pdf).pages) == 1
    assert "Learnloop" in text and "第 1 / 1 页" in text


def test_graded_version_shows_grade_feedback_grader_and_time() -> None:
    text = text_of(archive_pdf_render(graded()))

    assert SENTENCE in text
    for expected in ("批改稿", "第 2 版", "成绩", "优秀", "评语", "批改人", "李老师", "批改时间"):
        assert expected in text
    assert FEEDBACK in flat(text)
    assert "2026-11-24 09:30 (UTC+08:00)" in text


def test_late_marker_appears_only_when_late() -> None:
    assert "逾期提交" in text_of(archive_pdf_render(document(late=True)))
    assert "逾期提交" not in text_of(archive_pdf_render(document(late=False)))
    assert "Submitted late" in text_of(archive_pdf_render(document(late=True, locale="en")))
    assert "Submitted late" not in text_of(archive_pdf_render(document(late=False, locale="en")))


def test_english_labels_and_another_timezone() -> None:
    text = text_of(archive_pdf_render(graded(locale="en", timezone="Europe/London", late=True)))

    for expected in ("Submitted at", "Employee no.", "Version 2", "Graded version", "Grade", "Feedback"):
        assert expected in text
    assert "Graded by" in text and "Page 1 / 1" in text
    assert "2026-11-22 06:05 (UTC+00:00)" in text
    # the person's own words stay as written; only the labels change language
    assert SENTENCE in text and "优秀" in text
    for chinese_label in ("提交时间", "工号", "成绩", "评语", "逾期提交", "第 1 / 1 页"):
        assert chinese_label not in text


def test_a_20000_character_body_spans_pages_each_with_its_footer() -> None:
    body = chinese_text(20_000 - len(SECOND) - 1) + "\n" + SECOND
    assert len(body) == 20_000
    reader = read(archive_pdf_render(document(body=body)))

    pages = len(reader.pages)
    assert pages >= 5
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "Learnloop" in text
        assert f"第 {number} / {pages} 页" in text
    everything = flat("".join(page.extract_text() for page in reader.pages))
    assert flat(body[:300]) in everything
    assert SECOND in everything  # the very end of the body made it


def test_each_photo_becomes_an_image_scaled_into_the_page() -> None:
    photos = (photo((200, 40, 40), (1600, 1200)), photo((40, 40, 200), (1200, 2048)))
    pdf = archive_pdf_render(document(photos=photos))
    reader = read(pdf)

    assert sum(len(page.images) for page in reader.pages) == 2
    text = text_of(pdf)
    assert "照片 1 / 2" in text and "照片 2 / 2" in text
    assert SENTENCE in text
    # the JPEGs go in as they are (not re-encoded into something bigger)
    assert len(pdf) < sum(map(len, photos)) + 200_000
    # drawn inside the page: every image's placement (a "w 0 0 h x y cm" before "Do") fits A4
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        contents = page.get_contents()
        assert contents is not None
        operations = contents.operations
        for (operands, operator), (_, following) in itertools.pairwise(operations):
            if operator == b"cm" and following == b"Do":
                w, _, _, h, x, y = (float(value) for value in operands)
                assert w > 0 and h > 0
                assert x >= 0 and x + w <= width + 0.5
                assert y >= 0 and y + h <= height + 0.5


def test_an_unreadable_photo_does_not_stop_the_archive() -> None:
    pdf = archive_pdf_render(document(photos=(b"not a jpeg at all", photo((0, 128, 0), (800, 600)))))

    assert sum(len(page.images) for page in read(pdf).pages) == 1
    text = text_of(pdf)
    assert "照片 1 无法读取" in text and "照片 2 / 2" in text and SENTENCE in text


def test_characters_the_font_lacks_do_not_crash() -> None:
    body = (
        f"{SENTENCE}😀👍🏽 家人👨‍👩‍👧 国旗🇨🇳 罕见字𠀀𠮷 音乐𝄞 控制\x07符\u200b号\ufeff ✓ 完毕\n"
        "lone surrogate: \ud800 end"
    )
    pdf = archive_pdf_render(graded(body=body, author_name="王小明🙂", feedback="很好👏"))
    text = text_of(pdf)

    assert SENTENCE in text
    assert "王小明" in text and "很好" in text and "完毕" in text
    assert "□" in text  # what cannot be shown is marked, not silently lost
    for missing in ("😀", "👨", "🇨", "𠀀", "𝄞", "\x07", "\ud800"):
        assert missing not in text


def test_a_500_character_url_wraps_inside_the_page() -> None:
    rnd = random.Random(3)
    url = "https://example.com/" + "".join(rnd.choice("abcdefghijklmnop0123456789/-") for _ in range(480))
    assert len(url) == 500
    pdf = archive_pdf_render(document(body=f"参考资料：{url}\n{SECOND}", feedback=None))
    text = text_of(pdf)

    assert url in flat(text)
    url_lines = [line for line in text.splitlines() if flat(line) and flat(line) in f"参考资料：{url}"]
    assert len(url_lines) >= 4  # broken over several lines ...
    assert url_lines[0].startswith("参考资料：https://")  # ... going on right after the words before it
    assert max(len(line) for line in text.splitlines()) < 120  # ... none of which runs off the page
    assert SECOND in flat(text)


def test_the_font_is_an_embedded_subset_and_the_file_stays_small() -> None:
    pdf = archive_pdf_render(graded(body=chinese_text(1_500)))
    reader = read(pdf)
    assert len(reader.pages) == 2

    fonts = embedded_fonts(pdf)
    assert fonts
    for font, descriptor in fonts:
        assert "/ToUnicode" in font
        assert str(font["/BaseFont"]).startswith("/MPDFAA+")  # a subset's tag
        program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        assert program is not None, "the font program must be embedded"
        # only the glyphs used (about 1,200 here), not the 8 MB of the whole font
        assert len(program.get_object().get_data()) < 700_000
    # measured: about 0.26 MB for these two pages of varied Chinese without photos
    assert len(pdf) < 1_000_000


def test_the_same_version_always_renders_the_same_bytes() -> None:
    version = graded(photos=(photo((10, 20, 30), (640, 480)),))
    assert archive_pdf_render(version) == archive_pdf_render(version)


def test_naive_times_are_read_as_utc_and_empty_parts_get_a_placeholder() -> None:
    text = text_of(
        archive_pdf_render(
            graded(
                submitted_at=datetime(2026, 11, 22, 6, 5),
                body="   ",
                feedback=None,
                grader_name=None,
            )
        )
    )
    assert "2026-11-22 14:05 (UTC+08:00)" in text
    assert "（无正文）" in text
    assert "评语 —" in text and "批改人 —" in text


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        archive_pdf_render(document(kind="draft"))
