"""The URLs of course media. /media routes resolve them back to rows and check the viewer's right."""

from __future__ import annotations


def video_url(course_id: int, version_id: int) -> str:
    return f"/media/courses/{course_id}/versions/{version_id}/video.mp4"


def poster_url(course_id: int, version_id: int) -> str:
    return f"/media/courses/{course_id}/versions/{version_id}/poster.jpg"


def attachment_url(course_id: int, attachment_id: int) -> str:
    return f"/media/courses/{course_id}/attachments/{attachment_id}"


def source_key(upload_id: str) -> str:
    """Where an upload's bytes are assembled (deleted once the video is processed)."""
    return f"uploads/{upload_id}/source"


def version_video_key(course_id: int, number: int) -> str:
    return f"courses/{course_id}/v{number}/video.mp4"


def version_poster_key(course_id: int, number: int) -> str:
    return f"courses/{course_id}/v{number}/poster.jpg"


def attachment_key(course_id: int, token: str) -> str:
    return f"courses/{course_id}/attachments/{token}"
