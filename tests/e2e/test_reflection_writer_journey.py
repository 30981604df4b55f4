"""张姐 writes her reflection on the phone: online with a photo, then on the subway without network."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

pytestmark = pytest.mark.e2e

ONLINE_TEXT = (
    "这次大客户关系维护培训让我重新认识了客户分层的重要性。过去我习惯平均用力，现在明白要先识别关键决策人，"
    "再按客户的业务节奏安排拜访。课上的案例提醒我，每次沟通后要在二十四小时内整理纪要并确认下一步。"
    "接下来一个月，我会为三家重点客户建立关系地图，每周复盘一次进展。"
)
OFFLINE_TEXT = (
    "在地铁上写下这段心得：离线也能写，联网后自动发送。培训中的复盘方法很实用，我准备在下周的例会上试一试，"
    "并把结果分享给团队。"
)


def _png(path: Path, colour: str) -> Path:
    Image.new("RGB", (64, 48), colour).save(path, "PNG")
    return path


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("账号或工号").fill(username)
    page.get_by_label("密码", exact=True).fill("learnloop-demo")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/")


def _status(page: Any, text: str) -> Any:
    return page.locator("#writer-status").filter(has_text=text)


def _new_assignment_for(playwright: Any, base: str, *employee_ids: int, title: str = "地铁上的复盘课") -> int:
    """HR creates a training with these people in it and its assignment, through the HTTP API."""
    hr = playwright.request.new_context(base_url=base)
    try:
        assert hr.post("/api/v1/auth/login", data={"username": "hr", "password": "learnloop-demo"}).ok
        training = hr.post(
            "/api/v1/trainings",
            data={
                "title": title,
                "kind": "workshop",
                "starts_on": dt.date.today().isoformat(),
                "participants": {"employee_ids": list(employee_ids)},
            },
        )
        assert training.status == 201, training.text()
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
        assignment = hr.post(
            f"/api/v1/trainings/{training.json()['id']}/assignments",
            data={
                "prompt": "复盘课后，你准备怎样用到工作中？",
                "due_at": due,
                "min_length": 30,
                "max_photos": 2,
                "visibility": "organisation",  # so wang, of another department, can like it
            },
        )
        assert assignment.status == 201, assignment.text()
        return int(assignment.json()["id"])
    finally:
        hr.dispose()


def test_zhang_writes_online_and_offline_and_each_is_sent_once(
    live_server: str, phone: Any, playwright_instance: Any, tmp_path: Path
) -> None:
    base = live_server
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, base, "zhang")

    # --- online: write, add a photo, submit ---
    mine = page.request.get(f"{base}/api/v1/assignments").json()
    first = next(item for item in mine if item["training"]["name"] == "大客户关系维护")
    page.goto(f"{base}/write/{first['id']}")
    page.get_by_role("heading", name="大客户关系维护").wait_for()
    assert page.get_by_text(first["prompt"]).is_visible()
    text = page.get_by_label("我的心得")
    text.fill("今天学到了很多")
    page.locator("#writer-count").filter(has_text="还差 93 字").wait_for()
    text.fill(ONLINE_TEXT)
    assert len(ONLINE_TEXT) >= 100
    page.locator("#writer-count").filter(has_text="已达到最低字数").wait_for()

    page.get_by_label("从相册选择").set_input_files(str(_png(tmp_path / "notes.png", "#3a7")))
    page.get_by_role("img", name="第 1 张照片").wait_for()
    page.get_by_role("button", name="删除第 1 张照片").wait_for()
    # Uploaded straight away (the server keeps it in the draft), with a progress bar meanwhile.
    page.get_by_role("status").filter(has_text="草稿已保存").wait_for()
    # That status may still be the text's earlier save: wait (bounded) for the save with the photo.
    for _ in range(80):
        draft = page.request.get(f"{base}/api/v1/assignments/{first['id']}").json()
        if draft["photo_ids"]:
            break
        page.wait_for_timeout(250)
    assert draft["state"] == "draft" and len(draft["photo_ids"]) == 1

    submit = page.get_by_role("button", name="提交", exact=True)
    box = submit.bounding_box()
    assert box is not None and box["height"] >= 44
    submit.click()
    _status(page, "已发送").wait_for()
    done = page.get_by_role("link", name="查看我的心得")
    submitted = page.request.get(f"{base}/api/v1/assignments/{first['id']}").json()
    assert submitted["state"] == "submitted" and submitted["body"] == ONLINE_TEXT
    assert submitted["photo_ids"] == draft["photo_ids"]
    assert done.get_attribute("href") == f"/reflections/{submitted['submission_id']}"
    assert page.get_by_role("link", name="返回心得列表").get_attribute("href") == "/reflections"

    # --- offline (subway): write another, submit, it waits; back online, it is sent once ---
    me = page.request.get(f"{base}/api/v1/me").json()
    second = _new_assignment_for(playwright_instance, base, int(me["id"]))
    page.goto(f"{base}/write/{second}")
    page.get_by_role("heading", name="地铁上的复盘课").wait_for()
    # The service worker controls the page, so this page is kept for offline use.
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    phone.set_offline(True)
    page.get_by_label("我的心得").fill(OFFLINE_TEXT)
    page.locator("#writer-count").filter(has_text="已达到最低字数").wait_for()
    page.get_by_label("拍照").set_input_files(str(_png(tmp_path / "board.png", "#c52")))
    page.get_by_text("联网后上传").wait_for()
    page.get_by_role("button", name="提交", exact=True).click()
    _status(page, "等待发送").wait_for()
    key = page.evaluate(f"LearnloopOutbox.outboxGet({second}).then((item) => item.key)")
    assert 8 <= len(key) <= 64

    # Reloading without network: the service worker serves the kept page; it still waits.
    page.reload()
    page.get_by_role("heading", name="地铁上的复盘课").wait_for()
    _status(page, "等待发送").wait_for()
    assert page.get_by_label("我的心得").input_value() == OFFLINE_TEXT
    assert page.evaluate(f"LearnloopOutbox.outboxGet({second}).then((item) => item.key)") == key
    waiting = page.request.get(f"{base}/api/v1/assignments/{second}").json()
    assert waiting["state"] in ("assigned", "draft") and waiting["submission_id"] is None

    # Any other page offline: the offline page lists what waits to be sent, and opens its writer.
    page.goto(f"{base}/reflections")
    page.get_by_role("heading", name="当前处于离线状态").wait_for()
    queued = page.get_by_role("list", name="等待发送")
    queued.get_by_role("listitem").filter(has_text="等待发送").wait_for()
    queued.get_by_role("link", name="地铁上的复盘课").click()
    page.get_by_role("heading", name="地铁上的复盘课").wait_for()
    _status(page, "等待发送").wait_for()

    phone.set_offline(False)
    _status(page, "已发送").wait_for()
    sent = page.request.get(f"{base}/api/v1/assignments/{second}").json()
    assert sent["state"] == "submitted" and sent["body"] == OFFLINE_TEXT
    assert len(sent["photo_ids"]) == 1  # the offline photo went up first, once
    assert page.evaluate("LearnloopOutbox.outboxAll().then((items) => items.length)") == 0

    # A second replay of the same request changes nothing: the server answers the same submission.
    again = page.request.post(
        f"{base}/api/v1/assignments/{second}/submissions",
        data={"body": OFFLINE_TEXT, "photo_ids": sent["photo_ids"]},
        headers={"Idempotency-Key": key},
    )
    assert again.status == 200 and again.json()["id"] == sent["submission_id"]
    assert again.json()["version"] == 1
    assert page.evaluate("LearnloopOutbox.replayAll().then((results) => results.length)") == 0
    final = page.request.get(f"{base}/api/v1/assignments/{second}").json()
    assert final["submission_id"] == sent["submission_id"] and final["state"] == "submitted"
    assert errors == []

    # --- colleagues: wang likes it; HR grades it 优秀 and features it; the archive keeps the text ---
    reflection = f"{base}/reflections/{sent['submission_id']}"
    phone.clear_cookies()
    _sign_in(page, base, "wang")
    page.goto(reflection)
    page.get_by_role("heading", name="张丽华 的心得").wait_for()
    page.get_by_role("button", name=re.compile(r"^赞\s*0$")).click()
    page.get_by_role("button", name=re.compile(r"^赞\s*1$"), pressed=True).wait_for()

    phone.clear_cookies()
    _sign_in(page, base, "hr")
    page.goto(reflection)
    page.get_by_role("heading", name="张丽华 的心得").wait_for()
    page.get_by_role("radio", name="优秀").click()
    page.get_by_role("radio", name="优秀", checked=True).wait_for()
    page.get_by_label("评语").fill("地铁上也认真复盘，值得推荐。")
    page.get_by_role("button", name="提交评分").click()
    page.get_by_role("status").filter(has_text="已评分：优秀").wait_for()
    page.get_by_role("switch", name="精选到展示墙").click()  # state comes back from the server
    page.get_by_role("switch", name="精选到展示墙", checked=True).wait_for()
    page.goto(f"{base}/reflections/featured")
    page.get_by_role("heading", name="精选展示墙").wait_for()
    page.get_by_role("link", name="阅读 张丽华 的心得：地铁上的复盘课").wait_for()

    pdf = page.request.get(f"{base}/api/v1/submissions/{sent['submission_id']}/archive.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert OFFLINE_TEXT[:12] in text and "优秀" in text and "地铁上也认真复盘" in text


def test_a_draft_written_offline_survives_a_reload_and_reaches_the_server(
    live_server: str, phone: Any
) -> None:
    base = live_server
    page = phone.new_page()
    _sign_in(page, base, "wang")
    mine = page.request.get(f"{base}/api/v1/assignments").json()
    assignment = next(item for item in mine if item["training"]["name"] == "代码评审实践")
    page.goto(f"{base}/write/{assignment['id']}")
    page.get_by_role("heading", name="代码评审实践").wait_for()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    phone.set_offline(True)
    draft = "评审时先看测试，再看实现；离线写下的这句话不会丢。"
    page.get_by_label("我的心得").fill(draft)
    page.get_by_role("button", name="保存草稿").click()
    _status(page, "已保存在本机").wait_for()
    page.reload()  # served by the service worker; the text comes back from IndexedDB
    page.get_by_role("heading", name="代码评审实践").wait_for()
    _status(page, "已恢复本机保存的草稿").wait_for()
    assert page.get_by_label("我的心得").input_value() == draft
    assert page.request.get(f"{base}/api/v1/assignments/{assignment['id']}").json()["body"] == ""

    phone.set_offline(False)  # the phone's copy is newer than the server's: it is sent up
    _status(page, "草稿已保存").wait_for()
    saved = page.request.get(f"{base}/api/v1/assignments/{assignment['id']}").json()
    assert saved["state"] == "draft" and saved["body"] == draft

    page.reload()  # now the server's copy and the phone's agree
    assert page.get_by_label("我的心得").input_value() == draft


def test_on_a_shared_phone_a_queued_reflection_is_only_sent_by_its_writer(
    live_server: str, phone: Any, playwright_instance: Any
) -> None:
    base = live_server
    page = phone.new_page()
    _sign_in(page, base, "wang")
    wang_id = int(page.request.get(f"{base}/api/v1/me").json()["id"])
    phone.clear_cookies()
    _sign_in(page, base, "zhang")
    zhang_id = int(page.request.get(f"{base}/api/v1/me").json()["id"])
    shared = _new_assignment_for(playwright_instance, base, zhang_id, wang_id, title="共享手机上的心得课")
    page.goto(f"{base}/write/{shared}")
    page.get_by_role("heading", name="共享手机上的心得课").wait_for()
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    phone.set_offline(True)
    text = "张丽华在共享手机上离线写的心得，只能以她的名义发送，绝不能算到别人头上。"
    page.get_by_label("我的心得").fill(text)
    page.get_by_role("button", name="提交", exact=True).click()
    _status(page, "等待发送").wait_for()

    # Back online, but now wang is signed in on this phone and opens the same assignment.
    page.goto("about:blank")
    phone.set_offline(False)
    phone.clear_cookies()
    _sign_in(page, base, "wang")
    page.goto(f"{base}/write/{shared}")
    page.get_by_role("heading", name="共享手机上的心得课").wait_for()
    assert page.get_by_label("我的心得").input_value() == ""  # not zhang's text
    assert page.evaluate("LearnloopOutbox.replayAll().then((results) => results.length)") == 0
    mine = page.request.get(f"{base}/api/v1/assignments/{shared}").json()
    assert mine["submission_id"] is None and mine["body"] == ""
    assert page.evaluate(f"LearnloopOutbox.outboxGet({shared}).then((item) => item.owner)") == zhang_id

    # zhang signs in again: her queued reflection goes out, as hers, once.
    phone.clear_cookies()
    _sign_in(page, base, "zhang")
    page.goto(f"{base}/write/{shared}")
    _status(page, "已发送").wait_for()
    sent = page.request.get(f"{base}/api/v1/assignments/{shared}").json()
    assert sent["state"] == "submitted" and sent["body"] == text
