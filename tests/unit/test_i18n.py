"""Message catalogs and language choice."""

from __future__ import annotations

import re

import pytest

from backend.lib.i18n import catalog, locale_choose, locale_from_accept_language, translate


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    chinese, english = catalog("zh-CN"), catalog("en")
    assert set(chinese) == set(english)
    for key in chinese:
        assert set(re.findall(r"{(\w+)}", chinese[key])) == set(re.findall(r"{(\w+)}", english[key])), key
        assert english[key].strip(), key


def test_every_error_key_used_by_services_exists() -> None:
    from pathlib import Path

    used: set[str] = set()
    for path in Path("backend").rglob("*.py"):
        used |= set(re.findall(r'"(error\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used, "no error keys found"
    assert used <= set(catalog("zh-CN")), used - set(catalog("zh-CN"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("zh-Hans-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR,en;q=0.5,zh;q=0.4", "en"),
        ("en;q=0.2,zh-TW;q=0.8", "zh-CN"),
        ("de-DE", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("en;q=abc,zh;q=0.1", "zh-CN"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert locale_from_accept_language(header) == expected


def test_own_setting_beats_the_browser() -> None:
    assert locale_choose("en", "zh-CN") == "en"
    assert locale_choose("", "en-GB") == "en"
    assert locale_choose(None, None) == "zh-CN"


def test_translate_formats_and_falls_back() -> None:
    assert (
        translate("en", "error.password_too_short", min=8) == "The new password needs at least 8 characters."
    )
    assert translate("xx", "nav.home") == "首页"
    assert translate("en", "no.such.key") == "no.such.key"
