"""Message catalogs and locale negotiation. zh-CN is the default.

A locale's catalog is pwa/locales/<file> plus the same file name in every feature folder under
pwa/locales/ (pwa/locales/reflections/zh_CN.toml ...), so features keep their messages apart.
A key defined twice is an error, not a silent override.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import msgspec

LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "pwa" / "locales"
SUPPORTED_LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
_FILES = {"zh-CN": "zh_CN.toml", "en": "en.toml"}


def _flatten(prefix: str, tree: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def catalog(locale: str) -> dict[str, str]:
    """All messages of a locale as flat dotted keys ("error.not_found")."""
    files = [LOCALES_DIR / _FILES[locale], *sorted(LOCALES_DIR.glob(f"*/{_FILES[locale]}"))]
    flat: dict[str, str] = {}
    for path in files:
        part: dict[str, str] = {}
        _flatten("", msgspec.toml.decode(path.read_bytes()), part)
        duplicated = set(part) & set(flat)
        if duplicated:
            raise ValueError(f"{path}: message keys defined twice: {sorted(duplicated)[:5]}")
        flat.update(part)
    return flat


def translate(locale: str, key: str, **params: Any) -> str:
    """The message for `key` in `locale`, falling back to zh-CN, then to the key itself."""
    locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    message = catalog(locale).get(key) or catalog(DEFAULT_LOCALE).get(key) or key
    if params:
        try:
            return message.format(**params)
        except (KeyError, IndexError, ValueError):
            return message
    return message


def locale_normalize(tag: str | None) -> str | None:
    """Map a language tag to a supported locale: en-US -> en, zh-Hans-CN -> zh-CN; None if unsupported."""
    if not tag:
        return None
    primary = tag.strip().split("-")[0].split("_")[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def locale_from_accept_language(header: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick the best supported locale from an Accept-Language header (quality values honoured)."""
    if not header:
        return default
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        locale = locale_normalize(tag)
        if locale and quality > 0:
            choices.append((-quality, index, locale))
    return min(choices)[2] if choices else default


def locale_choose(preferred: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The user's own setting first, else the browser's Accept-Language, else the default."""
    return locale_normalize(preferred) or locale_from_accept_language(accept_language, default)
