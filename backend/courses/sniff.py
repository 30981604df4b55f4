"""What kind of video a file is, from its first bytes: never from its name or the type a client declares.

Phones record MP4 / QuickTime (.mov) / 3GP (ISO base media files: an `ftyp` box first), browsers record
WebM (Matroska: the EBML magic 1A 45 DF A3); AVI (RIFF....AVI ) still comes from older cameras. ISO
files that hold a still image (HEIC/AVIF photos) or only sound (.m4a) are not videos.
"""

from __future__ import annotations

# Enough for every signature here (Matroska's DocType sits within the first few dozen bytes).
SNIFF_BYTES = 64

TYPE_MP4 = "video/mp4"
TYPE_QUICKTIME = "video/quicktime"
TYPE_3GPP = "video/3gpp"
TYPE_WEBM = "video/webm"
TYPE_MATROSKA = "video/x-matroska"
TYPE_AVI = "video/x-msvideo"
VIDEO_TYPES = (TYPE_MP4, TYPE_QUICKTIME, TYPE_3GPP, TYPE_WEBM, TYPE_MATROSKA, TYPE_AVI)

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
# ISO base media brands that are still images or sound, not video.
_NOT_VIDEO_BRANDS = frozenset(
    {
        b"heic",
        b"heix",
        b"heim",
        b"heis",
        b"hevc",
        b"hevx",
        b"mif1",
        b"msf1",
        b"avif",
        b"avis",
        b"avci",
        b"jpeg",
        b"M4A ",
        b"M4B ",
        b"M4P ",
        b"F4A ",
        b"F4B ",
        b"crx ",
    }
)


def _iso_media_type(head: bytes) -> str | None:
    """MP4 / MOV / 3GP: a box of a plausible size named `ftyp`, then the major brand."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    if box_size < 12 or box_size > 4096:
        return None
    brand = head[8:12]
    if brand in _NOT_VIDEO_BRANDS or not all(32 <= byte < 127 for byte in brand):
        return None
    if brand == b"qt  ":
        return TYPE_QUICKTIME
    if brand.startswith((b"3gp", b"3g2")):
        return TYPE_3GPP
    return TYPE_MP4


def _matroska_type(head: bytes) -> str | None:
    if not head.startswith(EBML_MAGIC):
        return None
    # The EBML header's DocType element (42 82) tells WebM from other Matroska files.
    if b"\x42\x82\x84webm" in head[:SNIFF_BYTES]:
        return TYPE_WEBM
    return TYPE_MATROSKA


def sniff_video(head: bytes) -> str | None:
    """The video media type the first bytes of a file announce, or None when they are not a video."""
    head = bytes(head[:SNIFF_BYTES])
    found = _iso_media_type(head) or _matroska_type(head)
    if found:
        return found
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return TYPE_AVI
    return None
