"""Ratings and comments on courses."""

from __future__ import annotations

from litestar import Controller


class FeedbackController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
