"""张姐's points on the phone: a reflection earns points she sees rise, she redeems 咖啡券 after
confirming, her manager 李强 approves it on /points/approvals, and she sees it approved.

The demo's points (rules, targets, rewards) come from backend.points.demo; where this server's demo
has no rule for submitted reflections or no 咖啡券 yet, HR adds them through the API first.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REFLECTION = (
    "积分课让我明白了持续学习的价值：每周固定两个小时看微课，课后马上写下可以用到客户拜访里的做法，"
    "再在周例会上和同事交流，一个月后回头检查哪些做法真的有效。"
)
WAIT_STEPS = 120  # × 250 ms: the embedded worker awards the points from the outbox


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("账号或工号").fill(username)
    page.get_by_label("密码", exact=True).fill("learnloop-demo")
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{base}/")


def _hr(playwright: Any, base: str) -> Any:
    hr = playwright.request.new_context(base_url=base)
    assert hr.post("/api/v1/auth/login", data={"username": "hr", "password": "learnloop-demo"}).ok
    return hr


def _points_set_up(hr: Any) -> None:
    """A rule for submitted reflections and a 咖啡券 reward, unless the demo has them already."""
    rules = hr.get("/api/v1/points/rules").json()
    if not any(
        rule["kind"] == "reflection_submitted"
        and rule["current"]
        and rule["active"]
        and rule["points"] > 0
        and rule["department"] is None
        and rule["position"] is None
        and rule["level"] is None
        for rule in rules
    ):
        created = hr.post(
            "/api/v1/points/rules",
            data={"kind": "reflection_submitted", "points": 2},
        )
        assert created.status == 201, created.text()
    if not any(item["name"] == "咖啡券" for item in hr.get("/api/v1/points/rewards").json()):
        created = hr.post("/api/v1/points/rewards", data={"name": "咖啡券", "cost": 2})
        assert created.status == 201, created.text()


def _assignment_for(hr: Any, employee_id: int) -> int:
    """HR creates a workshop with zhang in it and a reflection assignment."""
    training = hr.post(
        "/api/v1/trainings",
        data={
            "title": "积分之旅工作坊",
            "kind": "workshop",
            "starts_on": dt.date.today().isoformat(),
            "participants": {"employee_ids": [employee_id]},
        },
    )
    assert training.status == 201, training.text()
    assignment = hr.post(
        f"/api/v1/trainings/{training.json()['id']}/assignments",
        data={
            "prompt": "这次工作坊对你的工作有什么启发？",
            "due_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(),
            "min_length": 30,
            "max_photos": 0,
        },
    )
    assert assignment.status == 201, assignment.text()
    return int(assignment.json()["id"])


def _year_total_stat(page: Any) -> Any:
    return page.locator(".pt-stat").first.locator(".stat-value")


def _tall_enough(locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 44, box


def test_zhang_earns_points_redeems_a_reward_and_sees_it_approved(
    live_server: str, phone: Any, playwright_instance: Any
) -> None:
    base = live_server
    hr = _hr(playwright_instance, base)
    try:
        _points_set_up(hr)
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _sign_in(page, base, "zhang")
        zhang_id = int(page.request.get(f"{base}/api/v1/me").json()["id"])
        assignment = _assignment_for(hr, zhang_id)
    finally:
        hr.dispose()

    # --- my points before ---
    before = page.request.get(f"{base}/api/v1/points/me").json()
    page.goto(f"{base}/points")
    page.get_by_role("heading", name="积分", exact=True).wait_for()
    _year_total_stat(page).filter(has_text=f"{before['year_total']} 分").wait_for()
    rewards_link = page.get_by_role("link", name=re.compile("^兑换奖励"))
    _tall_enough(rewards_link)

    # --- she writes and submits a reflection; the worker awards it ---
    page.goto(f"{base}/write/{assignment}")
    page.get_by_role("heading", name="积分之旅工作坊").wait_for()
    page.get_by_label("我的心得").fill(REFLECTION)
    page.get_by_role("button", name="提交", exact=True).click()
    page.locator("#writer-status").filter(has_text="已发送").wait_for()
    for _ in range(WAIT_STEPS):
        after = page.request.get(f"{base}/api/v1/points/me").json()
        if after["year_total"] > before["year_total"]:
            break
        page.wait_for_timeout(250)
    earned = after["year_total"] - before["year_total"]
    assert earned > 0, "the reflection earned no points"

    page.goto(f"{base}/points")
    _year_total_stat(page).filter(has_text=f"{after['year_total']} 分").wait_for()
    newest = page.get_by_role("list", name="积分明细").get_by_role("listitem").first
    assert "提交心得" in newest.inner_text() and f"+{earned}" in newest.inner_text()

    # --- she redeems 咖啡券, confirming first ---
    page.goto(f"{base}/points/rewards")
    page.get_by_role("heading", name="兑换奖励").wait_for()
    redeem = page.get_by_role("button", name=re.compile(r"^兑换 咖啡券（\d+ 分）$"))
    cost = int(re.findall(r"\d+", redeem.get_attribute("aria-label") or "")[-1])
    assert after["balance"] >= cost, "zhang cannot afford 咖啡券 in this demo"
    _tall_enough(redeem)
    redeem.click()
    dialog = page.get_by_role("dialog", name="兑换「咖啡券」？")
    dialog.wait_for()
    # Focus moves into the dialog; Escape closes it and focus returns to the button.
    page.wait_for_function("document.activeElement?.id === 'pt-dialog-confirm'")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    page.wait_for_function("document.activeElement?.id?.startsWith('pt-redeem-')")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == redeem.get_attribute(
        "aria-label"
    )
    redeem.click()
    dialog.wait_for()
    assert f"兑换后可用积分：{after['balance'] - cost} 分" in dialog.inner_text()
    confirm = dialog.get_by_role("button", name="确认兑换")
    _tall_enough(confirm)
    confirm.click()
    page.get_by_role("status").filter(has_text="已提交兑换「咖啡券」").wait_for()
    mine = page.get_by_role("list", name="我的兑换").get_by_role("listitem").first
    mine.filter(has_text="咖啡券").filter(has_text="待审批").wait_for()
    assert page.get_by_role("dialog").count() == 0

    mine_now = page.request.get(f"{base}/api/v1/points/redemptions").json()["items"][0]
    assert (mine_now["reward"]["name"], mine_now["state"]) == ("咖啡券", "pending")

    # --- 李强 approves it on /points/approvals (批准, then 确认批准) ---
    phone.clear_cookies()
    _sign_in(page, base, "manager")
    page.goto(f"{base}/points/approvals")
    # The demo may hold other requests for 咖啡券: this one is the item titled by its redemption's id.
    request = page.locator(f"li:has(#redemption-{mine_now['id']}-title)")
    approve = request.get_by_role("button", name="批准", exact=True)
    _tall_enough(approve)
    approve.click()
    request.get_by_role("button", name="确认批准").click()
    page.get_by_role("status").filter(has_text="已批准 张丽华 兑换“咖啡券”").wait_for()

    # --- zhang sees it approved ---
    phone.clear_cookies()
    _sign_in(page, base, "zhang")
    page.goto(f"{base}/points/rewards")
    mine = page.get_by_role("list", name="我的兑换").get_by_role("listitem").first
    mine.filter(has_text="咖啡券").filter(has_text="已批准").wait_for()
    assert "李强" in mine.inner_text()
    assert errors == []
