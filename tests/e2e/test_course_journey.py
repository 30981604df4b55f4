"""The micro-course journey on phones: `trainer` creates a course in the studio, uploads a clip through
the upload page and publishes it; once the worker has processed it, `zhang` finds it, plays it, rates
it 4 stars and comments.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM_FLAGS, PHONE, chromium_path
from tests.e2e.test_foundation_journeys import sign_in

pytestmark = pytest.mark.e2e

# The embedded worker transcodes a few seconds of video in well under this.
PUBLISH_WAIT_MS = 180_000


@pytest.fixture
def second_phone(playwright_instance: Any, tmp_path: Path) -> Iterator[Any]:
    """Another person's phone: its own persistent profile, so its own cookies."""
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "second-profile"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_FLAGS,
        locale="zh-CN",
        **PHONE,
    )
    try:
        yield context
    finally:
        context.close()


def _tap_target_ok(locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 44, box


def _trainer_creates_a_course(page: Any, base: str, title: str) -> int:
    from playwright.sync_api import expect

    sign_in(page, base, "trainer", name_label="账号或工号", password_label="密码", submit="登录")
    page.get_by_role("heading", name="你好，陈建国").wait_for()
    # Phones have no side bar: the studio is reached from Me.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的").click()
    page.get_by_role("link", name="课程工作室").click()
    page.get_by_role("heading", name="课程工作室", exact=True).wait_for()
    new = page.get_by_role("link", name="新建微课").first
    _tap_target_ok(new)
    new.click()
    page.get_by_role("heading", name="新建微课", exact=True).wait_for()

    # Saving without a title says what is missing, next to the field.
    save = page.get_by_role("button", name="保存")
    _tap_target_ok(save)
    save.click()
    expect(page.get_by_role("alert").filter(has_text="请按提示修改后再保存。")).to_be_visible()

    page.get_by_label("标题").fill(title)
    page.get_by_label("简介").fill("三分钟学会交接班时的设备点检。")
    page.get_by_label("分类").fill("生产安全")
    page.get_by_label("技能标签").fill("点检，交接班")
    page.get_by_label("问题", exact=True).fill("交接班时点检漏项，小毛病拖成大故障。")
    page.get_by_label("案例", exact=True).fill("二号线轴承异响三天没人上报，停机十二小时。")
    method = "看、听、摸三步，每步对照点检卡打勾。"
    page.get_by_label("方法", exact=True).fill(method)
    expect(page.get_by_text(f"{len(method)}/3000 字")).to_be_visible()  # the method's counter
    save.click()
    page.get_by_role("heading", name="编辑微课", exact=True).wait_for()
    page.wait_for_url(re.compile(r"/studio/courses/\d+$"))
    expect(page.get_by_role("status").filter(has_text="微课已创建")).to_be_visible()
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def _trainer_uploads_a_clip(page: Any, base: str, course_id: int, clip: Path) -> None:
    from playwright.sync_api import expect

    record = page.get_by_role("link", name="录制或上传视频")
    _tap_target_ok(record)
    record.click()
    page.wait_for_url(f"{base}/studio/courses/{course_id}/upload")
    page.get_by_role("heading", name="录制或上传视频").wait_for()
    # The camera and the library, both as plain file inputs a phone understands.
    camera = page.get_by_label("录制视频")
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "video/*"
    _tap_target_ok(page.locator("label.upload-pick").filter(has_text="从相册选择视频"))
    page.get_by_label("从相册选择视频").set_input_files(str(clip))

    size_mb = f"{clip.stat().st_size / 1024 / 1024:.1f} MB"
    expect(page.get_by_text(f"{clip.name}（{size_mb}）")).to_be_visible()
    bar = page.get_by_role("progressbar", name="上传进度")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.get_by_text(f"100% · {size_mb.removesuffix(' MB')} / {size_mb}")).to_be_visible()
    done = page.get_by_role("navigation", name="正在处理视频…")
    expect(done).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="上传完成")).to_be_visible()
    assert page.get_by_role("alert").filter(has_text=re.compile(".+")).count() == 0
    # Nothing left to resume on this phone.
    left = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('learnloop.upload.'))")
    assert left == []
    done.get_by_role("link", name="返回编辑微课").click()
    page.wait_for_url(f"{base}/studio/courses/{course_id}")


def _trainer_publishes(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("heading", name="编辑微课", exact=True).wait_for()
    publish = page.get_by_role("button", name="发布", exact=True)
    _tap_target_ok(publish)
    publish.click()
    # The toast says so; when the video was ready already, the card's status says 已发布 as well.
    expect(
        page.get_by_role("status").filter(has_text=re.compile("已发布|视频处理完成后会自动发布")).first
    ).to_be_visible()
    # The page looks again by itself while the video is processed.
    expect(page.locator(".studio-status").first).to_have_text("已发布", timeout=PUBLISH_WAIT_MS)
    expect(page.get_by_text(re.compile(r"视频时长 0:0[3-9]"))).to_be_visible()


def _zhang_watches_rates_and_comments(page: Any, base: str, title: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, base, "zhang", name_label="账号或工号", password_label="密码", submit="登录")
    page.get_by_role("heading", name="你好，张丽华").wait_for()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="课程").click()
    search = page.get_by_role("search")
    search.get_by_label("搜索课程").fill(title)
    search.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name=re.compile(re.escape(title))).first.click()
    page.get_by_role("heading", name=title).first.wait_for()
    for section in ("问题", "案例", "方法"):
        expect(page.get_by_text(section, exact=True).first).to_be_visible()

    video = page.locator("video")
    video.wait_for()
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=30_000)
    start = float(page.evaluate("document.querySelector('video').currentTime"))
    # Muted: a page may start muted playback without a tap.
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; return v.play(); }")
    page.wait_for_function(f"document.querySelector('video').currentTime > {start + 1}", timeout=30_000)
    page.evaluate("document.querySelector('video').pause()")

    four = page.get_by_role("button", name="4 星", exact=True)
    _tap_target_ok(four)
    four.click()
    expect(page.get_by_role("status").filter(has_text="已评 4 星")).to_be_visible()

    comment = f"看完就用上了，点检卡很实用。{uuid.uuid4().hex[:4]}"
    page.get_by_label("写评论").fill(comment)
    page.get_by_role("button", name="发表").click()
    expect(page.get_by_role("status").filter(has_text="评论已发表")).to_be_visible()
    expect(page.get_by_text(comment)).to_be_visible()

    # What she did stays: the API agrees after a reload of the data.
    course_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    shown = page.request.get(f"{base}/api/v1/courses/{course_id}").json()
    assert shown["my_rating"] == 4 and shown["comment_count"] >= 1 and shown["status"] == "published"


def test_trainer_publishes_a_phone_video_and_zhang_watches_rates_and_comments(
    live_server: str, phone: Any, second_phone: Any, tmp_path: Path
) -> None:
    from backend.courses.clips import clip_generate

    base = live_server
    title = f"交接班设备点检 {uuid.uuid4().hex[:4]}"
    clip = clip_generate(tmp_path / "点检演示.mp4", seconds=6)

    trainer = phone.new_page()
    errors: list[str] = []
    trainer.on("pageerror", lambda error: errors.append(str(error)))
    course_id = _trainer_creates_a_course(trainer, base, title)
    _trainer_uploads_a_clip(trainer, base, course_id, clip)
    _trainer_publishes(trainer)
    assert errors == []

    zhang = second_phone.new_page()
    zhang.on("pageerror", lambda error: errors.append(str(error)))
    _zhang_watches_rates_and_comments(zhang, base, title)
    assert errors == []

    # The trainer's studio lists it as published.
    trainer.goto(f"{base}/studio")
    card = trainer.get_by_role("article").filter(has_text=title)
    card.wait_for()
    assert "已发布" in card.inner_text()
