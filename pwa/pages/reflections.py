"""The Reflections tab: my assignments and colleagues' reflections (being built)."""

from __future__ import annotations

from typing import Any

from reactpy import component

from pwa.pages.tabs import EmptyTabPage


@component
def ReflectionsPage() -> Any:
    return EmptyTabPage(tab="reflections")
