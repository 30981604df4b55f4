"""Re-encode an uploaded photo of someone's notes before it is stored.

What a phone sends carries more than the picture: EXIF with GPS coordinates and the camera's serial
number, XMP, comments, ICC profiles, and sometimes a polyglot payload after the image data. The server
keeps none of it: it sniffs the type from the content (a file name or a MIME type is the client's
claim), decodes the pixels, and writes a fresh JPEG from a blank canvas, so no metadata can ride along.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageOps

from backend.lib.errors import ValidationFailed

PHOTO_MAX_BYTES = 15 * 1024 * 1024  # what an upload may be before decoding
PHOTO_MAX_PIXELS = 50_000_000  # decompression-bomb guard (width*height of the source)
PHOTO_MAX_SIDE = 2048  # longest side of the stored JPEG
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO"})  # what we accept (sniffed)

_JPEG_QUALITY = 82
# Pillow has no opener named MPO: its JPEG opener returns an MPO image for multi-picture files.
_OPENERS = sorted(PHOTO_FORMATS - {"MPO"})
# What Pillow raises on a file it cannot read: unknown or corrupt (OSError, incl.
# UnidentifiedImageError and "image file is truncated"), and the parse errors some plugins let escape.
_UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error)


@dataclass(frozen=True)
class ReencodedPhoto:
    jpeg: bytes
    width: int
    height: int


def _too_large() -> ValidationFailed:
    return ValidationFailed("error.photo_too_large", field="file", max_mb=PHOTO_MAX_BYTES // (1024 * 1024))


def photo_reencode(data: bytes) -> ReencodedPhoto:
    """An upright, metadata-free RGB JPEG of the first frame, its longest side at most PHOTO_MAX_SIDE.

    Raises ValidationFailed("error.photo_too_large") for too many bytes or pixels and
    ValidationFailed("error.photo_not_image") for anything that is not a readable image of PHOTO_FORMATS.
    """
    if len(data) > PHOTO_MAX_BYTES:
        raise _too_large()
    try:
        with Image.open(io.BytesIO(data), formats=_OPENERS) as source:
            # The header alone gives the size; refuse before decoding rather than trusting Pillow's
            # process-wide Image.MAX_IMAGE_PIXELS, which is higher and is not ours to change.
            if source.width * source.height > PHOTO_MAX_PIXELS:
                raise _too_large()
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that still covers PHOTO_MAX_SIDE,
            # which saves most of the memory and time a 48-megapixel phone photo would take.
            source.draft(None, (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            source.load()  # inside the try: a truncated or corrupt file fails here, not at open
            picture = ImageOps.exif_transpose(source)  # phones store sideways pixels plus a flag
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except _UNREADABLE as exc:
        raise ValidationFailed("error.photo_not_image", field="file") from exc

    if picture.mode.startswith("I;16"):  # 16-bit greyscale PNG (scanners): convert() would clip to white
        picture = picture.point(lambda value: value / 257)
    # A new canvas has empty .info, so nothing of the source's metadata reaches the encoder. JPEG has
    # no alpha: transparent areas become white like paper, not the black a plain convert() gives.
    canvas = Image.new("RGB", picture.size, "white")
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
    else:
        canvas.paste(picture.convert("RGB"))
    canvas.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)  # keeps ratio, never grows

    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True)
    return ReencodedPhoto(jpeg=out.getvalue(), width=canvas.width, height=canvas.height)
