"""Telling videos from other files by their first bytes (what an upload's first part is checked with)."""

from __future__ import annotations

import io

import av
import pytest

from backend.courses.sniff import (
    SNIFF_BYTES,
    TYPE_3GPP,
    TYPE_AVI,
    TYPE_MATROSKA,
    TYPE_MP4,
    TYPE_QUICKTIME,
    TYPE_WEBM,
    sniff_video,
)


def _clip(container: str, codec: str, *, width: int = 176, height: int = 144) -> bytes:
    """A real three-frame video made by PyAV in the given container."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=10)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def _sound_only_m4a() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ipod") as output:
        stream = output.add_stream("aac", rate=44100)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
        frame.sample_rate = 44100
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("container", "codec", "expected"),
    [
        ("mp4", "libx264", TYPE_MP4),
        ("mov", "libx264", TYPE_QUICKTIME),
        ("3gp", "h263", TYPE_3GPP),
        ("webm", "libvpx-vp9", TYPE_WEBM),
        ("matroska", "libx264", TYPE_MATROSKA),
        ("avi", "mpeg4", TYPE_AVI),
    ],
)
def test_real_videos_are_recognised_from_their_first_bytes(container: str, codec: str, expected: str) -> None:
    clip = _clip(container, codec)
    assert sniff_video(clip[:SNIFF_BYTES]) == expected
    assert sniff_video(clip) == expected  # more bytes than needed change nothing


def test_a_hand_made_ftyp_box_is_enough() -> None:
    header = (24).to_bytes(4, "big") + b"ftypmp42" + b"\x00\x00\x00\x00" + b"mp42isom"
    assert sniff_video(header + bytes(1000)) == TYPE_MP4


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x00\x00\x00",
        b"\x89PNG\r\n\x1a\n" + bytes(60),
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(50),
        b"%PDF-1.7\n" + bytes(60),
        b"PK\x03\x04" + bytes(60),
        "这不是视频，只是改了扩展名的文本。".encode(),
        b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(50),  # sound, not video
        (24).to_bytes(4, "big") + b"ftypheic\x00\x00\x00\x00mif1heic",  # an iPhone photo
        (24).to_bytes(4, "big") + b"ftypavif\x00\x00\x00\x00avifmif1",
        (0xFFFFFF).to_bytes(4, "big") + b"ftypisom" + bytes(20),  # not a plausible box size
        b"\x1a\x45\xdf",  # EBML magic cut short
    ],
)
def test_other_files_are_not_videos(head: bytes) -> None:
    assert sniff_video(head) is None


def test_a_sound_file_in_an_mp4_container_is_not_a_video() -> None:
    assert sniff_video(_sound_only_m4a()) is None
