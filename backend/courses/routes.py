"""The courses API: create, edit, publish, list and read courses."""

from __future__ import annotations

from litestar import Controller


class CourseController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
