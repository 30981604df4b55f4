"""Journeys in headless Chromium on a phone viewport against the real embedded server."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def sign_in(
    page: Any, base: str, username: str, *, name_label: str, password_label: str, submit: str
) -> None:
    page.goto(f"{base}/login")
    page.get_by_label(name_label).fill(username)
    page.get_by_label(password_label, exact=True).fill("learnloop-demo")
    page.get_by_role("button", name=submit, exact=True).click()


def test_zhang_signs_in_and_sees_home_in_chinese(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    sign_in(page, live_server, "zhang", name_label="账号或工号", password_label="密码", submit="登录")
    page.get_by_role("heading", name="你好，张丽华").wait_for()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    tabs = page.get_by_role("navigation", name="主导航")
    assert tabs.count() == 1
    for label in ("首页", "课程", "心得", "积分", "我的"):
        assert tabs.get_by_role("link", name=label).is_visible()
    assert page.get_by_role("link", name="写心得：大客户关系维护").first.is_visible()
    # The tab bar sits at the bottom of a phone screen with 44 px targets, icon (CSS) above label.
    me = tabs.get_by_role("link", name="我的")
    box = me.bounding_box()
    assert box is not None and box["height"] >= 44 and box["y"] > 700
    icon = me.evaluate("a => { const s = getComputedStyle(a, '::before'); return [s.width, s.maskImage]; }")
    assert icon[0] == "24px" and icon[1].startswith('url("data:image/svg+xml')
    label = me.locator("span").bounding_box()
    assert label is not None and label["y"] > box["y"] + 24
    # The fixed tab bar never covers the end of the page: the shell leaves room for all of it.
    room = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.app-shell')).paddingBottom)")
    assert room >= tabs.evaluate("nav => nav.getBoundingClientRect().height")


@pytest.mark.parametrize("phone", ["en-US"], indirect=True)
def test_zhang_signs_in_and_sees_home_in_english(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_role("heading", name="Sign in to Learnloop").wait_for()
    sign_in(
        page,
        live_server,
        "zhang",
        name_label="Account or employee number",
        password_label="Password",
        submit="Sign in",
    )
    page.get_by_role("heading", name="Hello, 张丽华").wait_for()
    assert (
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Points").is_visible()
    )


def test_wrong_password_is_refused_with_a_message(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("账号或工号").fill("zhang")
    page.get_by_label("密码", exact=True).fill("not-the-password")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("alert").filter(has_text="账号或密码不正确").wait_for()
    assert page.get_by_label("账号或工号").input_value() == "zhang"


def test_the_app_is_installable(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = phone.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == []
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors")


def test_offline_navigation_shows_the_offline_page(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    phone.set_offline(True)
    try:
        page.goto(f"{live_server}/courses")
        page.get_by_role("heading", name="当前处于离线状态").wait_for()
        assert page.get_by_role("button", name="重试").is_visible()
    finally:
        phone.set_offline(False)


def test_demo_accounts_sign_in_with_one_tap_and_sign_out(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_role("button", name="以 wang 的身份登录").click()
    page.get_by_role("heading", name="你好，王磊").wait_for()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的").click()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("heading", name="登录学习圈").wait_for()
    page.goto(f"{live_server}/me")
    page.get_by_role("heading", name="登录学习圈").wait_for()


def test_choosing_a_language_in_a_select_switches_the_app(live_server: str, phone: Any) -> None:
    """A <select> reaches the server as its options (ReactPy's client): its value must still be read."""
    page = phone.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_role("button", name="以 wang 的身份登录").click()
    page.get_by_role("heading", name="你好，王磊").wait_for()
    page.goto(f"{live_server}/me")
    page.get_by_role("combobox", name="语言").select_option(label="English")
    page.get_by_role("navigation", name="Main navigation").wait_for()
    page.get_by_role("combobox", name="Language").select_option(label="简体中文")
    page.get_by_role("navigation", name="主导航").wait_for()


def test_sales_manager_sees_no_rd_people_in_the_ui(live_server: str, phone: Any) -> None:
    page = phone.new_page()
    sign_in(page, live_server, "manager", name_label="账号或工号", password_label="密码", submit="登录")
    page.get_by_role("heading", name="你好，李强").wait_for()
    page.goto(f"{live_server}/admin/employees")
    page.get_by_text("张丽华").first.wait_for()
    assert page.get_by_text("王磊").count() == 0


def test_wide_screens_get_side_navigation(live_server: str, playwright_instance: Any, tmp_path: Any) -> None:
    from tests.e2e.conftest import CHROMIUM_FLAGS, chromium_path

    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "desktop"),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_FLAGS,
        locale="zh-CN",
        viewport={"width": 1280, "height": 800},
    )
    try:
        page = context.new_page()
        sign_in(page, live_server, "hr", name_label="账号或工号", password_label="密码", submit="登录")
        page.get_by_role("heading", name="你好，刘芳").wait_for()
        side = page.get_by_role("navigation", name="主导航")
        assert side.count() == 1 and side.is_visible()
        box = side.bounding_box()
        assert box is not None and box["x"] < 100 and box["height"] > 300
        assert side.get_by_text("管理", exact=True).is_visible()
        assert side.get_by_role("link", name="部门管理").is_visible()
        main = page.locator("main").bounding_box()
        assert main is not None and main["x"] >= box["x"] + box["width"]
    finally:
        context.close()
