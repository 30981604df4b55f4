"""Trainings and assignments for HR and trainers (being built)."""

from __future__ import annotations

from typing import Any

from reactpy import component

from pwa.pages.tabs import EmptyTabPage


@component
def TrainingListPage() -> Any:
    return EmptyTabPage(tab="reflections")


@component
def TrainingFormPage() -> Any:
    return EmptyTabPage(tab="reflections")
