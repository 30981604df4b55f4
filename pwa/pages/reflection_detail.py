"""One reflection: likes, comments, grading (being built)."""

from __future__ import annotations

from typing import Any

from reactpy import component

from pwa.pages.tabs import EmptyTabPage


@component
def ReflectionDetailPage(*, submission_id: int) -> Any:
    return EmptyTabPage(tab="reflections")
