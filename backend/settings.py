"""Settings: config/default.toml, an optional TOML file, then LEARNLOOP_<SECTION>_<KEY> environment variables.

Parsed once into msgspec Structs. An unknown key or a bad value raises SettingsError with one readable line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

_SOURCE_DEFAULT = Path(__file__).resolve().parent.parent / "config" / "default.toml"
# From a source checkout config/default.toml; from an installed wheel the copy packaged beside this file.
DEFAULT_CONFIG = (
    _SOURCE_DEFAULT if _SOURCE_DEFAULT.exists() else Path(__file__).resolve().parent / "default.toml"
)
ENV_PREFIX = "LEARNLOOP_"
# Environment variables with this prefix that are not settings.
ENV_NOT_SETTINGS = ("LEARNLOOP_CONFIG", "LEARNLOOP_TEST_")


class SettingsError(Exception):
    """A configuration problem, worded for the operator in one line."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "var"
    media_dir: str = "media"
    demo: bool = False
    trust_proxy: bool = False
    allowed_origins: list[str] = msgspec.field(default_factory=list)
    max_body_bytes: int = 1_048_576


class DatabaseSettings(_Section):
    url: str = ""
    pool_max: int = 10


class RedisSettings(_Section):
    url: str = ""


class StorageSettings(_Section):
    endpoint: str = ""
    access_key: str = ""
    secret_key: str = ""
    bucket: str = "learnloop"
    region: str = "us-east-1"
    secure: bool = False
    # How /media hands out course videos, posters and attachments: "stream" (the app answers Range
    # requests itself), "redirect" (302 to a short-lived presigned URL) or "auto" (stream from the
    # embedded loopback S3 server, which browsers cannot reach; redirect to any other).
    media_delivery: Literal["auto", "stream", "redirect"] = "auto"
    # Where browsers reach the object store for presigned URLs: host:port or http(s)://host[:port].
    # Empty: the endpoint itself.
    public_endpoint: str = ""


class WorkerSettings(_Section):
    embedded: bool = True
    poll_delay: float = 0.05  # a due reminder starts within a second; ~20 cheap Redis polls a second


class AuthSettings(_Section):
    session_idle_minutes: int = 10080
    session_absolute_minutes: int = 43200
    max_failures_per_account: int = 5
    max_failures_per_address: int = 30
    failure_window_seconds: int = 900


class I18nSettings(_Section):
    default_locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"


class PushSettings(_Section):
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:admin@example.com"
    allow_loopback_http: bool = False


class Settings(_Section):
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    redis: RedisSettings = msgspec.field(default_factory=RedisSettings)
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)
    worker: WorkerSettings = msgspec.field(default_factory=WorkerSettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    i18n: I18nSettings = msgspec.field(default_factory=I18nSettings)
    push: PushSettings = msgspec.field(default_factory=PushSettings)

    @property
    def data_path(self) -> Path:
        return Path(self.server.data_dir).resolve()

    @property
    def media_path(self) -> Path:
        return Path(self.server.media_dir).resolve()

    @property
    def sqlite_path(self) -> Path:
        return self.data_path / "learnloop.sqlite3"

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database.url

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis.url

    @property
    def uses_embedded_storage(self) -> bool:
        return not self.storage.endpoint


_SECTION_TYPES: dict[str, type[_Section]] = {
    field.name: field.type for field in msgspec.structs.fields(Settings)
}
_SECTIONS = _SECTION_TYPES


def _section_fields(section: str) -> dict[str, Any]:
    struct_type = _SECTION_TYPES[section]
    return {f.name: f.type for f in msgspec.structs.fields(struct_type)}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return msgspec.toml.decode(path.read_bytes())
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except msgspec.DecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], override: Mapping[str, Any], origin: str) -> None:
    for section, values in override.items():
        if section not in _SECTIONS:
            raise SettingsError(f"unknown config section [{section}] in {origin}")
        if not isinstance(values, dict):
            raise SettingsError(f"[{section}] in {origin} must be a table")
        fields = _section_fields(section)
        for key, value in values.items():
            if key not in fields:
                raise SettingsError(f"unknown config key {section}.{key} in {origin}")
            base.setdefault(section, {})[key] = value


def _env_value(raw: str, field_type: Any) -> Any:
    """Environment values are strings; lists are JSON or comma-separated."""
    if "list" in str(field_type):
        raw = raw.strip()
        if raw.startswith("["):
            return msgspec.json.decode(raw)
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    overrides: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(ENV_NOT_SETTINGS):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section not in _SECTIONS or not key:
            raise SettingsError(f"unknown setting {name} (expected LEARNLOOP_<SECTION>_<KEY>)")
        fields = _section_fields(section)
        if key not in fields:
            raise SettingsError(f"unknown setting {name}: [{section}] has no key {key!r}")
        try:
            overrides.setdefault(section, {})[key] = _env_value(raw, fields[key])
        except msgspec.DecodeError:
            raise SettingsError(
                f"bad value for {name}: expected a JSON list or comma-separated values"
            ) from None
        names[f"{section}.{key}"] = name
    return overrides, names


def settings_load(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from the defaults, an optional TOML file, the environment and explicit overrides.

    `overrides` take dotted-free section dicts, e.g. ``server={"port": 9000}``.
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    _merge(merged, _read_toml(DEFAULT_CONFIG), str(DEFAULT_CONFIG.name))
    config_file = config_file or environ.get("LEARNLOOP_CONFIG") or None
    if config_file:
        _merge(merged, _read_toml(Path(config_file)), str(config_file))
    env, env_names = _env_overrides(environ)
    _merge(merged, env, "the environment")
    _merge(merged, overrides, "the command line")
    try:
        return msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc), env_names)) from None


def _explain(message: str, env_names: Mapping[str, str]) -> str:
    # msgspec says e.g. "Expected `int`, got `str` - at `$.server.port`"
    text, _, where = message.partition(" - at `$.")
    key = where.rstrip("`")
    source = f" (from {env_names[key]})" if key in env_names else ""
    return f"bad value for {key}{source}: {text}" if key else f"bad configuration: {message}"
