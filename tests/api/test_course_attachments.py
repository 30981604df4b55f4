"""Course attachments over the API: PDF, PowerPoint and audio recognised by content, bounded, author/HR only."""

from __future__ import annotations

import io
import wave
import zipfile
from typing import Any

import pytest
from minio.error import S3Error

from backend.courses.attachments import ATTACHMENT_MAX_BYTES, ATTACHMENTS_MAX
from backend.courses.tables import Course, CourseAttachment
from backend.lib.runtime import runtime_get
from backend.lib.storage import storage_get
from backend.org.tables import Employee
from tests.conftest import AppClient, app_client, login

pytestmark = pytest.mark.usefixtures("backend_name", "demo")


# files as phones and laptops make them ------------------------------------------
def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _ole(stream_name: str) -> bytes:
    """An OLE compound file whose directory names one stream (as PowerPoint's or Word's does)."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
    entry = stream_name.encode("utf-16-le").ljust(64, b"\0") + bytes(64)
    return header + entry + bytes(1024)


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(16000))
    return buffer.getvalue()


def _mp3_frames() -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz frame headers (no ID3 tag, as some recorders write them).
    return (b"\xff\xfb\x90\x64" + bytes(413)) * 4


def _m4a() -> bytes:
    return b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A mp42isom\x00\x00\x00\x00" + bytes(256)


ACCEPTED = [
    ("讲义.pdf", _pdf(), "pdf", "讲义.pdf"),
    ("点检流程.ppt", _ole("PowerPoint Document"), "ppt", "点检流程.ppt"),
    ("点检流程.pptx", _zip(["ppt/presentation.xml", "ppt/slides/slide1.xml"]), "ppt", "点检流程.pptx"),
    ("讲解.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + _mp3_frames(), "audio", "讲解.mp3"),
    ("讲解2.mp3", _mp3_frames(), "audio", "讲解2.mp3"),
    ("录音.m4a", _m4a(), "audio", "录音.m4a"),
    ("录音.ogg", b"OggS\x00\x02" + bytes(200), "audio", "录音.ogg"),
    ("录音.wav", _wav(), "audio", "录音.wav"),
    ("录音.flac", b"fLaC\x00\x00\x00\x22" + bytes(200), "audio", "录音.flac"),
    # The name does not decide anything: a PDF sent as "notes" gets a name that opens as a PDF.
    ("../../etc/notes", _pdf(), "pdf", "notes.pdf"),
]


async def _employee_id(name: str) -> int:
    row = await Employee.select(Employee.id).where(Employee.name == name).first()
    assert row is not None
    return int(row["id"])


async def _course(*, author: str = "陈建国", status: str = "draft") -> int:
    rows = await Course.insert(
        Course(title="设备点检三步法", author=await _employee_id(author), status=status)
    ).returning(Course.id)
    return int(rows[0]["id"])


async def _attach(client: AppClient, course_id: int, name: str, content: bytes) -> Any:
    return await client.post(
        f"/api/v1/courses/{course_id}/attachments",
        files={"file": (name, content, "application/octet-stream")},
    )


def _message(response: Any) -> str:
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize(("name", "content", "kind", "stored_name"), ACCEPTED)
async def test_each_kind_is_recognised_from_its_content(
    client: AppClient, name: str, content: bytes, kind: str, stored_name: str
) -> None:
    course_id = await _course()
    await login(client, "trainer")
    response = await _attach(client, course_id, name, content)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == kind and body["filename"] == stored_name and body["size"] == len(content)
    assert body["url"] == f"/media/courses/{course_id}/attachments/{body['id']}"
    listed = (await client.get(f"/api/v1/courses/{course_id}/attachments")).json()
    assert [item["id"] for item in listed] == [body["id"]]
    row = await CourseAttachment.select().where(CourseAttachment.id == body["id"]).first()
    assert row is not None and row["course"] == course_id
    # Stored under a key the server made, with the bytes as sent.
    assert row["storage_key"].startswith(f"courses/{course_id}/attachments/")
    assert name not in row["storage_key"]
    assert await storage_get(row["storage_key"]) == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("讲义.pdf", b"\x89PNG\r\n\x1a\n" + bytes(200)),  # a picture renamed to .pdf
        ("讲义.pdf", "这是一段文字，不是 PDF。".encode()),
        ("合同.ppt", _ole("WordDocument")),  # a Word file renamed to .ppt
        ("报告.pptx", _zip(["word/document.xml"])),  # a Word .docx renamed to .pptx
        ("setup.mp3", b"MZ\x90\x00" + bytes(300)),  # a program renamed to .mp3
        ("clip.m4a", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(100)),  # a video
    ],
)
async def test_a_renamed_file_of_another_type_is_refused(
    client: AppClient, name: str, content: bytes
) -> None:
    course_id = await _course()
    await login(client, "trainer")
    response = await _attach(client, course_id, name, content)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file"
    assert "只能上传 PDF、PPT/PPTX 或音频" in _message(response)
    assert await CourseAttachment.count().where(CourseAttachment.course == course_id) == 0


async def test_the_refusal_speaks_english_to_english_browsers(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    response = await client.post(
        f"/api/v1/courses/{course_id}/attachments",
        files={"file": ("a.pdf", b"hello", "application/pdf")},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422 and "Only PDF, PPT/PPTX or audio" in _message(response)


async def test_an_empty_or_missing_file_is_refused(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    empty = await _attach(client, course_id, "a.pdf", b"")
    assert empty.status_code == 422 and _message(empty) == "这个文件是空的"
    missing = await client.post(f"/api/v1/courses/{course_id}/attachments", data={"note": "x"}, files={})
    assert missing.status_code in (400, 422)


async def test_a_file_over_50_mib_is_refused_and_nothing_is_kept(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    just_over = _pdf() + bytes(ATTACHMENT_MAX_BYTES + 1 - len(_pdf()))
    response = await _attach(client, course_id, "大文件.pdf", just_over)
    assert response.status_code == 422 and _message(response) == "附件不能超过 50 MB"
    far_over = await _attach(client, course_id, "更大.pdf", just_over + bytes(1024 * 1024))
    assert far_over.status_code == 413
    assert await CourseAttachment.count().where(CourseAttachment.course == course_id) == 0
    exactly = await _attach(client, course_id, "刚好.pdf", just_over[:-1])
    assert exactly.status_code == 201, exactly.text


async def test_a_course_holds_at_most_ten_attachments(client: AppClient) -> None:
    course_id = await _course()
    await login(client, "trainer")
    for n in range(ATTACHMENTS_MAX):
        assert (await _attach(client, course_id, f"第{n}章.pdf", _pdf())).status_code == 201
    response = await _attach(client, course_id, "多余.pdf", _pdf())
    assert response.status_code == 409
    assert _message(response) == "每门课程最多 10 个附件，请先删除不需要的"
    assert await CourseAttachment.count().where(CourseAttachment.course == course_id) == ATTACHMENTS_MAX
    # Making room lets the next one in.
    first = (await client.get(f"/api/v1/courses/{course_id}/attachments")).json()[0]
    assert (await client.delete(f"/api/v1/courses/{course_id}/attachments/{first['id']}")).status_code == 204
    assert (await _attach(client, course_id, "补充.pdf", _pdf())).status_code == 201


async def test_only_the_author_and_hr_manage_attachments(client: AppClient, settings: Any) -> None:
    draft = await _course()
    published = await _course(status="published")
    assert (await _attach(client, draft, "a.pdf", _pdf())).status_code == 401
    await login(client, "zhang")
    # A draft is not even seen by colleagues; a published course is seen but not theirs to change.
    assert (await _attach(client, draft, "a.pdf", _pdf())).status_code == 404
    assert (await _attach(client, published, "a.pdf", _pdf())).status_code == 403
    assert (await client.get(f"/api/v1/courses/{published}/attachments")).status_code == 403
    assert (await _attach(client, 999_999, "a.pdf", _pdf())).status_code == 404
    async with app_client(settings) as hr:
        await login(hr, "hr")
        added = await _attach(hr, draft, "制度.pdf", _pdf())
        assert added.status_code == 201
    assert (
        await client.delete(f"/api/v1/courses/{draft}/attachments/{added.json()['id']}")
    ).status_code == 404
    assert await CourseAttachment.count().where(CourseAttachment.course == draft) == 1


async def test_deleting_removes_the_row_and_the_stored_file(client: AppClient) -> None:
    course_id = await _course()
    other_course = await _course()
    await login(client, "trainer")
    added = (await _attach(client, course_id, "讲义.pdf", _pdf())).json()
    row = await CourseAttachment.select().where(CourseAttachment.id == added["id"]).first()
    assert row is not None
    # An attachment is addressed through its own course only.
    wrong = await client.delete(f"/api/v1/courses/{other_course}/attachments/{added['id']}")
    assert wrong.status_code == 404
    response = await client.delete(f"/api/v1/courses/{course_id}/attachments/{added['id']}")
    assert response.status_code == 204
    assert (await client.get(f"/api/v1/courses/{course_id}/attachments")).json() == []
    runtime = runtime_get()
    with pytest.raises(S3Error):
        runtime.storage.stat_object(runtime.settings.storage.bucket, row["storage_key"])
    again = await client.delete(f"/api/v1/courses/{course_id}/attachments/{added['id']}")
    assert again.status_code == 404
