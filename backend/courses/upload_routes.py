"""Resumable video uploads (S3 multipart underneath)."""

from __future__ import annotations

from litestar import Controller


class UploadController(Controller):
    path = "/api/v1/uploads"
    tags = ("courses",)
