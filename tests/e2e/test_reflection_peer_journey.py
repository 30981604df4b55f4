"""Peer work on reflections in headless Chromium on a phone: zhang reads, likes and comments on a
colleague's reflection; the manager grades it 优秀 and features it; it is on the featured wall."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_foundation_journeys import sign_in

pytestmark = pytest.mark.e2e

# A colleague's (not zhang's own) 大客户关系维护 reflection card in the feed.
COLLEAGUE_CARD = re.compile(r"^阅读 (?!张丽华 ).+ 的心得：大客户关系维护$")
LIKE = re.compile(r"^赞\s*\d+$")


def _sign_in(page: Any, base: str, username: str) -> None:
    sign_in(page, base, username, name_label="账号或工号", password_label="密码", submit="登录")


def _like_count(button: Any) -> int:
    return int(button.locator(".rf-like-count").inner_text())


def test_colleagues_like_and_comment_then_the_manager_grades_and_features(
    live_server: str, phone: Any
) -> None:
    page = phone.new_page()
    _sign_in(page, live_server, "zhang")
    page.get_by_role("heading", name="你好，张丽华").wait_for()
    # Home: her reflection is due in two days and links to the writer.
    todo = page.get_by_role("link", name=re.compile("写心得：大客户关系维护"))
    todo.wait_for()
    assert "还剩 2 天" in todo.inner_text()
    assert re.fullmatch(r"/write/\d+", todo.get_attribute("href") or "")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="心得").click()
    page.get_by_role("heading", name="同事的心得").wait_for()
    assert (
        page.get_by_role("navigation", name="范围")
        .get_by_role("link", name="本部门")
        .get_attribute("aria-current")
        == "page"
    )
    # The department feed shows colleagues' work; the newest first.
    card = page.get_by_role("link", name=COLLEAGUE_CARD).first
    card.wait_for()
    author = card.inner_text().strip()
    box = card.locator("xpath=ancestor::article").bounding_box()
    assert box is not None and box["height"] >= 44  # the whole card is the tap target
    card.click()
    page.get_by_role("heading", name=f"{author} 的心得").wait_for()
    url = page.url
    assert re.search(r"/reflections/\d+$", url)

    # Like it: the button is pressed and the count goes up by one.
    like = page.get_by_role("button", name=LIKE)
    like.wait_for()
    assert like.get_attribute("aria-pressed") == "false"
    like_box = like.bounding_box()
    assert like_box is not None and like_box["height"] >= 44
    before = _like_count(like)
    like.click()
    page.get_by_role("button", name=LIKE, pressed=True).wait_for()
    assert _like_count(page.get_by_role("button", name=LIKE)) == before + 1

    # Comment on it, with the live counter.
    comment = "先倾听再方案这一点我下周就用上！"
    page.get_by_label("写评论").fill(comment)
    page.get_by_text(f"{len(comment)}/1000").wait_for()
    page.get_by_role("button", name="发表评论").click()
    page.get_by_role("status").filter(has_text="评论已发表").wait_for()
    item = page.get_by_role("listitem").filter(has_text=comment)
    item.wait_for()
    assert "张丽华" in item.inner_text()
    assert item.get_by_role("button", name="删除 张丽华 的评论").is_visible()
    # Still liked after a reload: it was saved, not only drawn.
    page.reload()
    page.get_by_role("button", name=LIKE, pressed=True).wait_for()

    # The manager grades it 优秀 and features it.
    phone.clear_cookies()
    _sign_in(page, live_server, "manager")
    page.get_by_role("heading", name="你好，李强").wait_for()
    page.goto(url)
    page.get_by_role("heading", name=f"{author} 的心得").wait_for()
    page.get_by_role("radio", name="优秀").click()
    page.get_by_role("radio", name="优秀", checked=True).wait_for()
    page.get_by_label("评语").fill("复盘和倾听都落到了具体客户上，值得大家参考。")
    page.get_by_role("button", name="提交评分").click()
    page.get_by_role("status").filter(has_text="已评分：优秀").wait_for()
    switch = page.get_by_role("switch", name="精选到展示墙")
    switch.wait_for()
    switch.click()  # the server re-renders its state: wait for it below, not inside check()
    page.get_by_role("switch", name="精选到展示墙", checked=True).wait_for()
    page.get_by_text("已精选到展示墙").first.wait_for()

    # On the featured wall of 华东大区 (zhang's view).
    phone.clear_cookies()
    _sign_in(page, live_server, "zhang")
    page.get_by_role("heading", name="你好，张丽华").wait_for()
    page.goto(f"{live_server}/reflections/featured")
    page.get_by_role("heading", name="精选展示墙").wait_for()
    page.get_by_role("link", name=f"阅读 {author} 的心得：大客户关系维护").wait_for()
