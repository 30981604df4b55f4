"""What counts as an e-mail address (org.services.email_checked), and how the sender writes the mail."""

from __future__ import annotations

import pytest

from backend.lib.errors import ValidationFailed
from backend.notifications.channel_settings import EmailChannel
from backend.notifications.channel_transports import ChannelMessage, address_ascii, mail_of
from backend.org.services import email_checked


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("zhang@demo.learnloop.example", "zhang@demo.learnloop.example"),
        ("  Zhang.Li@EXAMPLE.com\n", "Zhang.Li@example.com"),  # trimmed; only the domain is lower-cased
        ("a+notify@mail.example.cn", "a+notify@mail.example.cn"),
        ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zhang@example.com"),  # typed with a Chinese input method
        ("li@例子.中国", "li@例子.中国"),  # an internationalised domain
        ("", ""),
        ("   ", ""),  # empty: no address
    ],
)
def test_plausible_addresses_are_kept(typed: str, stored: str) -> None:
    assert email_checked(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "zhang",
        "zhang@",
        "@example.com",
        "zhang@example",  # no dot in the domain
        "zhang@@example.com",
        "zhang@li@example.com",
        "zhang li@example.com",
        "zhang@exa mple.com",
        "zhang\t@example.com",
        "zhang\x00@example.com",
        "zhang@example.com\r\nBcc: all@example.com",
        "张丽华@example.com",  # a non-ASCII local part needs SMTPUTF8
        ".zhang@example.com",
        "zhang..li@example.com",
        "zhang@-example.com",
        "zhang@example..com",
        "zhang@example.123",
        "zhang,li@example.com",
        "<zhang@example.com>",
        "x" * 65 + "@example.com",
    ],
)
def test_implausible_addresses_are_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        email_checked(typed)
    assert (refused.value.key, refused.value.field) == ("error.email_invalid", "email")


def test_an_address_over_254_characters_is_refused_as_too_long() -> None:
    with pytest.raises(ValidationFailed) as refused:
        email_checked("z" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 63 + ".cn")
    assert (refused.value.key, refused.value.params) == ("error.email_too_long", {"max": 254})


def test_the_mail_has_one_line_subject_link_and_footer() -> None:
    config = EmailChannel(host="smtp.example.com", from_address="learnloop@example.com")
    message = ChannelMessage(
        title="请提交心得\n本周五截止",
        body="正文",
        url="https://learn.example.com/reflections",
        footer="说明",
    )
    mail = mail_of(config, "zhang@example.com", message)
    assert mail["Subject"] == "请提交心得 本周五截止"
    assert mail["Auto-Submitted"] == "auto-generated" and mail["Message-ID"].endswith("@example.com>")
    assert mail.get_content() == "正文\n\nhttps://learn.example.com/reflections\n\n-- \n说明\n"
    assert address_ascii("li@例子.中国") == "li@xn--fsqu00a.xn--fiqs8s"
