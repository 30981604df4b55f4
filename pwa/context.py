"""What every page needs: the signed-in actor, the language, the settings and the current URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from reactpy import create_context, use_context

from backend.lib.i18n import translate
from backend.lib.policy import Actor
from backend.settings import Settings


@dataclass(frozen=True)
class UIContext:
    actor: Actor | None
    locale: str
    settings: Settings
    path: str
    query_string: str = ""
    set_locale: Callable[[str], None] = field(default=lambda _locale: None, compare=False)

    def t(self, key: str, **params: Any) -> str:
        return translate(self.locale, key, **params)

    def query(self, name: str, default: str = "") -> str:
        values = parse_qs(self.query_string.lstrip("?")).get(name)
        return values[0] if values else default


AppContext = create_context(None)


def use_app() -> UIContext:
    ctx = use_context(AppContext)
    if ctx is None:  # pragma: no cover - a page rendered outside the root
        raise RuntimeError("pages must be rendered inside pwa.app.root")
    return ctx  # type: ignore[no-any-return]
