"""A notification's words in the reader's language.

Stored parameters are data, rendered at reading time:
- `{"key": "points.kind.exam_passed", "text": "exam_passed"}`: that catalog message (else `text`),
- `{"at": "2026-11-24T10:00:00+00:00"}`: a moment, shown in the organisation's time zone,
- a list of names: joined the way the language lists things,
- anything else: as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from backend.lib.i18n import translate
from backend.notifications.quiet_hours import org_zone

LIST_JOINERS = {"zh-CN": "、", "en": ", "}


def _param(locale: str, value: Any) -> Any:
    if isinstance(value, dict):
        if "key" in value:
            text = translate(locale, str(value["key"]))
            return str(value.get("text", "")) if text == value["key"] else text
        if "at" in value:
            try:
                moment = dt.datetime.fromisoformat(str(value["at"]))
            except ValueError:
                return ""
            return moment.astimezone(org_zone()).strftime("%Y-%m-%d %H:%M")
        return ""
    if isinstance(value, list):
        return LIST_JOINERS.get(locale, ", ").join(str(item) for item in value)
    return value


def params_decode(value: Any) -> dict[str, Any]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return dict(decoded) if isinstance(decoded, dict) else {}


def notification_words(
    locale: str, *, message_key: str, params: Any, title: str = "", body: str = ""
) -> tuple[str, str]:
    """(title, body) in `locale`: the catalog's messages for a key, or the literal text of HR messages."""
    if not message_key:
        return title, body
    values = {name: _param(locale, value) for name, value in params_decode(params).items()}
    return (
        translate(locale, f"{message_key}.title", **values),
        translate(locale, f"{message_key}.body", **values),
    )
