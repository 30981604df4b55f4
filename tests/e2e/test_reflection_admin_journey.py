"""HR on a phone: create a training for 研发部 with a reflection assignment, then pull an archived PDF."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.test_foundation_journeys import sign_in

pytestmark = pytest.mark.e2e


def test_hr_creates_a_training_and_downloads_an_archived_reflection(live_server: str, phone: Any) -> None:
    from playwright.sync_api import expect

    page = phone.new_page()
    sign_in(page, live_server, "hr", name_label="账号或工号", password_label="密码", submit="登录")
    page.get_by_role("heading", name="你好，刘芳").wait_for()

    # The trainings page is reachable from Me (phones have no side bar).
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的").click()
    page.get_by_role("link", name="培训", exact=True).click()
    page.get_by_role("heading", name="培训", exact=True).wait_for()
    page.get_by_role("link", name="新建培训").first.click()

    title = f"接口设计评审 {uuid.uuid4().hex[:4]}"
    page.get_by_label("培训名称").fill(title)
    page.get_by_label("培训类型").select_option(label="工作坊")
    preview = page.get_by_role("status").filter(has_text="参加")
    expect(preview).to_contain_text("选择部门")
    # The checkbox sits inside its chip; a finger taps the chip.
    page.locator("label.chip").filter(has_text=re.compile(r"^研发部$")).click()
    expect(page.get_by_role("checkbox", name="研发部", exact=True)).to_be_checked()
    expect(preview).to_have_text(re.compile(r"^将有 \d+ 人参加：.*王磊"))
    count = int(re.search(r"将有 (\d+) 人", preview.inner_text()).group(1))  # type: ignore[union-attr]
    assert count >= 2
    page.get_by_label("作业要求").fill("结合最近一次接口评审，写下你最大的收获和下一步行动。")
    page.get_by_label("最少字数").fill("50")
    page.get_by_label("谁能看到").select_option(label="本部门")
    save = page.get_by_role("button", name="保存培训和作业")
    box = save.bounding_box()
    assert box is not None and box["height"] >= 44
    save.click()
    page.get_by_role("heading", name=f"已创建培训“{title}”").wait_for()
    page.get_by_role("link", name="查看培训列表").click()
    listed = page.get_by_role("article").filter(has_text=title)
    expect(listed).to_contain_text("工作坊")
    expect(listed).to_contain_text(f"{count} 人参加")
    expect(listed).to_contain_text(f"已交 0/{count}")

    # The archive: filter by the sales training, download the excellent reflection's PDF.
    page.goto(f"{live_server}/admin/archive")
    page.get_by_role("heading", name="心得归档").wait_for()
    page.get_by_label("培训").select_option(label="大客户关系维护")
    page.get_by_role("search").get_by_role("button", name="搜索").click()
    expect(page.get_by_text("共 7 份归档")).to_be_visible()
    row = page.get_by_role("article").filter(has_text="优秀")
    expect(row).to_have_count(1)
    link = row.get_by_role("link", name=re.compile("^下载 PDF："))
    with page.expect_download() as info:
        link.click()
    download = info.value
    path = download.path()
    assert path is not None
    with open(path, "rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "先倾听再方案" in re.sub(r"\s+", "", text)
    assert (
        page.get_by_role("link", name="下载全部（ZIP）")
        .get_attribute("href", timeout=5_000)
        .startswith("/api/v1/archive.zip?training_id=")
    )
