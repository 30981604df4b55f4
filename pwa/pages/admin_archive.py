"""The reflections archive for HR (being built)."""

from __future__ import annotations

from typing import Any

from reactpy import component

from pwa.pages.tabs import EmptyTabPage


@component
def ArchivePage() -> Any:
    return EmptyTabPage(tab="reflections")
