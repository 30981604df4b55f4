"""Placeholder until this screen lands (being built now)."""

from __future__ import annotations

from typing import Any

from reactpy import component

from pwa.pages.tabs import EmptyTabPage


@component
def CourseDetailPage(*, course_id: int) -> Any:
    return EmptyTabPage(tab="courses")
