"""The organisation's channel settings on SQLite and PostgreSQL: HR writes, auditors read, nobody else;
webhook URLs outside the allowlist are 422s that say why; secrets come back masked and a masked value
sent back keeps the stored secret; enabling a channel makes `notify` plan its deliveries."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest

from backend.lib.errors import PermissionDenied, ValidationFailed
from backend.lib.policy import ROLE_AUDITOR
from backend.notifications.channel_settings import (
    ChannelSettings,
    channel_settings_get,
    channel_settings_set,
    channel_settings_stored,
)
from backend.notifications.kinds import CHANNEL_DINGTALK, CHANNEL_WEB_PUSH, CHANNEL_WECOM, KIND_HR_MESSAGE
from backend.notifications.selectors import organisation_settings
from backend.notifications.services import notify
from backend.notifications.tables import Delivery
from tests.conftest import AppClient, login
from tests.ui.harness import actor_named

pytestmark = pytest.mark.usefixtures("backend_name", "demo")

PATH = "/api/v1/notifications/channels"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
DING_SECRET = "SECb0a1c2d3e4f5061728394a5b6c7d8e9f"
FULL: dict[str, Any] = {
    "web_push": {"enabled": True},
    "wecom": {
        "enabled": True,
        "webhook_url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
    },
    "dingtalk": {
        "enabled": True,
        "webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}",
        "secret": DING_SECRET,
    },
    "email": {
        "enabled": True,
        "host": "smtp.example.com",
        "port": 465,
        "security": "ssl",
        "username": "learnloop",
        "password": "mail-password-1234",
        "from_address": "learnloop@example.com",
        "to_address": "all-staff@example.com",
    },
    "allowed_hosts": [],
}


def with_changes(**sections: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        name: dict(value) if isinstance(value, dict) else list(value) for name, value in FULL.items()
    }
    for name, changes in sections.items():
        body[name] = {**body[name], **changes}
    return body


async def test_hr_saves_and_reads_them_back_masked(client: AppClient) -> None:
    await login(client, "hr")
    assert (await client.get(PATH)).json()["wecom"] == {"enabled": False, "webhook_url": ""}
    saved = await client.put(PATH, json=FULL)
    assert saved.status_code == 200, saved.text
    shown = (await client.get(PATH)).json()
    assert shown == saved.json()
    text = str(shown)
    for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET, "mail-password-1234"):
        assert secret not in text
    assert shown["wecom"]["webhook_url"].endswith("key=••••5aaa")
    assert shown["dingtalk"]["secret"] == "••••8e9f"
    assert shown["email"]["password"] == "••••1234"
    assert shown["email"]["username"] == "learnloop"  # not a secret

    # Sending the masked form back (the page does) keeps the stored secrets.
    again = await client.put(PATH, json=shown)
    assert again.status_code == 200, again.text
    stored = await channel_settings_stored()
    assert stored.wecom.webhook_url == FULL["wecom"]["webhook_url"]
    assert stored.dingtalk.secret == DING_SECRET and stored.email.password == "mail-password-1234"

    enabled = (await organisation_settings()).channels
    assert set(enabled) == {CHANNEL_WEB_PUSH, CHANNEL_WECOM, CHANNEL_DINGTALK, "email"}
    turned_off = await client.put(PATH, json=with_changes(wecom={"enabled": False}))
    assert turned_off.json()["wecom"]["enabled"] is False
    assert CHANNEL_WECOM not in (await organisation_settings()).channels
    # The existing settings endpoint lists what is on.
    assert CHANNEL_WEB_PUSH in (await client.get("/api/v1/notifications/settings")).json()["channels"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"wecom": {"webhook_url": "https://evil.example.com/cgi-bin/webhook/send?key=1"}},
            "wecom.webhook_url",
            "evil.example.com",
        ),
        (
            {"dingtalk": {"webhook_url": "https://qyapi.weixin.qq.com/robot/send?access_token=1"}},
            "dingtalk.webhook_url",
            "oapi.dingtalk.com",  # WeCom's host is not DingTalk's
        ),
        ({"wecom": {"webhook_url": "http://qyapi.weixin.qq.com/x?key=1"}}, "wecom.webhook_url", "https"),
        ({"wecom": {"webhook_url": "http://127.0.0.1:9/x?key=1"}}, "wecom.webhook_url", "127.0.0.1"),
        ({"wecom": {"webhook_url": "qyapi.weixin.qq.com"}}, "wecom.webhook_url", "https://"),
        ({"wecom": {"webhook_url": "https://u:p@qyapi.weixin.qq.com/x"}}, "wecom.webhook_url", "https://"),
        ({"dingtalk": {"secret": ""}}, "dingtalk.secret", "Required"),
        ({"email": {"from_address": "not an address"}}, "email.from_address", "e-mail"),
        ({"email": {"host": "smtp://x"}}, "email.host", "host name"),
    ],
)
async def test_bad_settings_are_422_with_the_reason(
    client: AppClient, changes: dict[str, Any], field: str, words: str
) -> None:
    await login(client, "hr")
    body = with_changes(**changes)
    response = await client.put(PATH, json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and words in error["message"], error


async def test_the_allowlist_message_is_chinese_first(client: AppClient) -> None:
    await login(client, "hr")
    body = with_changes(wecom={"webhook_url": "https://hooks.example.com/send?key=1"})
    error = (await client.put(PATH, json=body)).json()["error"]
    assert "允许列表" in error["message"] and "qyapi.weixin.qq.com" in error["message"]


async def test_hr_may_add_a_host_to_the_allowlist(client: AppClient) -> None:
    await login(client, "hr")
    body = with_changes(wecom={"webhook_url": "https://robot.corp.example.com/cgi-bin/webhook/send?key=1"})
    assert (await client.put(PATH, json=body)).status_code == 422
    body["allowed_hosts"] = ["Robot.Corp.Example.com"]
    saved = await client.put(PATH, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["allowed_hosts"] == ["robot.corp.example.com"]
    body["allowed_hosts"] = ["127.0.0.1"]  # host names only: no addresses
    bad = await client.put(PATH, json=body)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "allowed_hosts[0]"


async def test_only_hr_writes_and_auditors_read() -> None:
    hr = await actor_named("hr")
    auditor = dataclasses.replace(hr, roles=frozenset({ROLE_AUDITOR}))
    await channel_settings_set(actor=hr, settings=msgspec.convert(FULL, ChannelSettings))
    shown = await channel_settings_get(actor=auditor)
    assert shown.dingtalk.secret == "••••8e9f"
    with pytest.raises(PermissionDenied):
        await channel_settings_set(actor=auditor, settings=shown)
    for name in ("zhang", "manager", "trainer"):
        with pytest.raises(PermissionDenied):
            await channel_settings_get(actor=await actor_named(name))


async def test_employees_get_403_over_http(client: AppClient) -> None:
    await login(client, "zhang")
    assert (await client.get(PATH)).status_code == 403
    assert (await client.put(PATH, json=FULL)).status_code == 403
    assert (await client.post(f"{PATH}/wecom/test")).status_code == 403


async def test_a_channel_without_credentials_cannot_be_on() -> None:
    hr = await actor_named("hr")
    with pytest.raises(ValidationFailed) as failed:
        await channel_settings_set(
            actor=hr, settings=msgspec.convert({"wecom": {"enabled": True}}, ChannelSettings)
        )
    assert failed.value.field == "wecom.webhook_url"


async def test_enabled_channels_get_deliveries_planned() -> None:
    hr = await actor_named("hr")
    await channel_settings_set(
        actor=hr, settings=msgspec.convert(with_changes(email={"enabled": False}), ChannelSettings)
    )
    zhang = await actor_named("zhang")
    assert zhang.employee_id is not None
    [created] = await notify(
        employee_ids=[zhang.employee_id], kind=KIND_HR_MESSAGE, title="t", body="b", dedupe_key="c:1"
    )
    rows = await Delivery.select(Delivery.channel).where(Delivery.notification == created)
    assert sorted(row["channel"] for row in rows) == sorted(
        [CHANNEL_WEB_PUSH, CHANNEL_WECOM, CHANNEL_DINGTALK]
    )
