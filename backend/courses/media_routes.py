"""Course media: Range streaming (embedded) or a presigned redirect (MinIO)."""

from __future__ import annotations

from litestar import Controller


class MediaController(Controller):
    path = "/media"
    tags = ("courses",)
