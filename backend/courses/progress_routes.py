"""Watch progress (watched intervals) and the trainer's analytics."""

from __future__ import annotations

from litestar import Controller


class ProgressController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
