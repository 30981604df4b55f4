"""Micro-courses (微课): recording and resumable upload, transcoding, streaming, progress and analytics."""
