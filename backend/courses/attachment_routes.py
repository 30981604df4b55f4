"""Course attachments (PDF, PPT, audio)."""

from __future__ import annotations

from litestar import Controller


class AttachmentController(Controller):
    path = "/api/v1/courses"
    tags = ("courses",)
