"""Settings: defaults, TOML file, LEARNLOOP_<SECTION>_<KEY> overrides, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.settings import SettingsError, settings_load


def test_defaults_are_the_embedded_setup() -> None:
    settings = settings_load(environ={})
    assert settings.server.port == 8000 and settings.server.data_dir == "var"
    assert settings.uses_embedded_database and settings.uses_embedded_redis and settings.uses_embedded_storage
    assert settings.i18n.default_locale == "zh-CN" and settings.i18n.timezone == "Asia/Shanghai"


def test_environment_overrides_by_section_and_key() -> None:
    settings = settings_load(
        environ={
            "LEARNLOOP_DATABASE_URL": "postgresql://u:p@db:5432/learnloop",
            "LEARNLOOP_SERVER_PORT": "9000",
            "LEARNLOOP_SERVER_DATA_DIR": "/srv/learnloop",
            "LEARNLOOP_SERVER_TRUST_PROXY": "true",
            "LEARNLOOP_SERVER_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "LEARNLOOP_PUSH_ALLOW_LOOPBACK_HTTP": "1",
            "LEARNLOOP_TEST_DATABASE_URL": "ignored: test-suite variable",
        }
    )
    assert (
        settings.database.url == "postgresql://u:p@db:5432/learnloop" and not settings.uses_embedded_database
    )
    assert settings.server.port == 9000 and settings.server.data_dir == "/srv/learnloop"
    assert settings.server.trust_proxy is True and settings.push.allow_loopback_http is True
    assert settings.server.allowed_origins == ["https://a.example", "https://b.example"]


def test_a_config_file_sits_between_defaults_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "learnloop.toml"
    config.write_text('[server]\nport = 8100\nhost = "0.0.0.0"\n', encoding="utf-8")
    settings = settings_load(config_file=config, environ={"LEARNLOOP_SERVER_PORT": "8200"})
    assert settings.server.host == "0.0.0.0" and settings.server.port == 8200


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"LEARNLOOP_SERVER_PORT": "eighty"},
            "bad value for server.port (from LEARNLOOP_SERVER_PORT): Expected `int`",
        ),
        (
            {"LEARNLOOP_SERVER_PROT": "80"},
            "unknown setting LEARNLOOP_SERVER_PROT: [server] has no key 'prot'",
        ),
        ({"LEARNLOOP_NOPE_X": "1"}, "unknown setting LEARNLOOP_NOPE_X"),
        ({"LEARNLOOP_SERVER_TRUST_PROXY": "perhaps"}, "bad value for server.trust_proxy"),
    ],
)
def test_bad_environment_gives_one_readable_line(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_load(environ=environ)
    text = str(error.value)
    assert text.startswith(message) and "\n" not in text


def test_unknown_key_in_a_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[database]\nurll = 'x'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"unknown config key database.urll in .*bad.toml"):
        settings_load(config_file=config, environ={})


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file not found"):
        settings_load(config_file=tmp_path / "absent.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        settings_load(config_file=broken, environ={})
