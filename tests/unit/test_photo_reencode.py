"""Uploaded photos are re-encoded: upright, bounded, metadata-free JPEGs; anything else is refused.

Every input is made here with Pillow (or by hand for headers), so no binary fixtures are committed.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from backend.lib.errors import ValidationFailed
from backend.reflections.photos import (
    PHOTO_MAX_BYTES,
    PHOTO_MAX_SIDE,
    ReencodedPhoto,
    photo_reencode,
)

MODEL = "SecretCam 9000 serial 4711"
GPS_IFD = 0x8825
RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def halves(
    size: tuple[int, int], left: tuple[int, ...], right: tuple[int, ...], mode: str = "RGB"
) -> Image.Image:
    image = Image.new(mode, size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def noise(size: tuple[int, int]) -> Image.Image:
    """Incompressible content, so that half of the encoded file is really half of the picture."""
    return Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))


def opened(photo: ReencodedPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(photo.jpeg))
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.size == (photo.width, photo.height)
    return image


def near(actual: Any, expected: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge canvas in a few bytes: the shape of a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def refused(data: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        photo_reencode(data)
    assert caught.value.field == "file"
    return caught.value


def test_location_camera_and_other_metadata_are_gone() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretMaker"  # Make
    exif[0x0110] = MODEL  # Model
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 9.1), 27: b"ASCII\0\0\0GPS-FUSED"}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description Label="secret-xmp"/></rdf:RDF></x:xmpmeta>'
    upload = encode(
        noise((640, 480)),
        "JPEG",
        exif=exif,
        icc_profile=b"secret-icc-profile" * 8,
        comment=b"secret-comment",
        xmp=xmp,
    )
    source = Image.open(io.BytesIO(upload))
    assert source.getexif().get_ifd(GPS_IFD)[1] == "N"  # the upload really carries all of it
    assert {"exif", "icc_profile", "comment", "xmp"} <= set(source.info)

    photo = photo_reencode(upload)

    image = opened(photo)
    assert (photo.width, photo.height) == (640, 480)
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
    for secret in (MODEL.encode(), b"SecretMaker", b"GPS", b"Exif", b"ICC_PROFILE", b"secret", b"xmpmeta"):
        assert secret not in photo.jpeg, secret
    assert image.info.get("progressive") == 1


def test_sideways_phone_photo_comes_out_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; viewers rotate 90° clockwise
    upload = encode(halves((300, 200), RED, BLUE), "JPEG", exif=exif, quality=95)

    photo = photo_reencode(upload)

    image = opened(photo)
    assert image.size == (200, 300)
    assert near(image.getpixel((100, 30)), RED)  # what was on the left is now on top
    assert near(image.getpixel((100, 270)), BLUE)


def test_wide_transparent_png_is_shrunk_and_flattened_onto_white() -> None:
    upload = encode(halves((5000, 1000), (0, 0, 0, 0), (*BLUE, 255), mode="RGBA"), "PNG")

    photo = photo_reencode(upload)

    image = opened(photo)
    assert (photo.width, photo.height) == (PHOTO_MAX_SIDE, 410)  # 5000:1000 kept
    assert near(image.getpixel((100, 200)), WHITE)  # transparent, not black
    assert near(image.getpixel((PHOTO_MAX_SIDE - 100, 200)), BLUE)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        pytest.param((1500, 4500), (683, PHOTO_MAX_SIDE), id="tall"),
        pytest.param((6000, 4500), (PHOTO_MAX_SIDE, 1536), id="big-enough-to-decode-at-half-scale"),
    ],
)
def test_large_jpeg_is_bounded_by_its_longest_side(size: tuple[int, int], expected: tuple[int, int]) -> None:
    photo = photo_reencode(encode(halves(size, RED, BLUE), "JPEG"))
    image = opened(photo)
    assert image.size == expected
    assert near(image.getpixel((10, 10)), RED)
    assert near(image.getpixel((expected[0] - 10, expected[1] - 10)), BLUE)


def test_small_photo_is_not_enlarged() -> None:
    photo = photo_reencode(encode(noise((640, 480)), "PNG"))
    assert (photo.width, photo.height) == (640, 480)


def test_palette_png_with_transparency_is_flattened_onto_white() -> None:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([*RED, *BLUE])
    image.paste(1, (32, 0, 64, 64))
    upload = encode(image, "PNG", transparency=0)

    result = opened(photo_reencode(upload))

    assert near(result.getpixel((8, 32)), WHITE)
    assert near(result.getpixel((56, 32)), BLUE)


def test_sixteen_bit_greyscale_scan_keeps_its_tones() -> None:
    upload = encode(Image.new("I;16", (64, 64), 128 * 257), "PNG")
    assert near(opened(photo_reencode(upload)).getpixel((32, 32)), (128, 128, 128), 4)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_webp_is_accepted(mode: str) -> None:
    upload = encode(Image.new(mode, (320, 240), (*BLUE, 255)[: len(mode)]), "WEBP", quality=90)
    photo = photo_reencode(upload)
    assert (photo.width, photo.height) == (320, 240)
    assert near(opened(photo).getpixel((160, 120)), BLUE)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "MPO"])
def test_animation_or_multi_picture_keeps_the_first_frame(fmt: str) -> None:
    first, *rest = [Image.new("RGB", (120, 90), colour) for colour in (RED, BLUE, (20, 200, 20))]
    upload = encode(first, fmt, save_all=True, append_images=rest, duration=100)
    assert Image.open(io.BytesIO(upload)).n_frames == 3

    photo = photo_reencode(upload)

    assert (photo.width, photo.height) == (120, 90)
    assert near(opened(photo).getpixel((60, 45)), RED, 40)


def test_content_decides_not_the_name() -> None:
    """A PNG is read as a PNG whatever it claims; the function never sees a file name at all."""
    assert opened(photo_reencode(encode(Image.new("RGB", (10, 10), RED), "PNG"))).size == (10, 10)


def _truncated(fmt: str) -> bytes:
    whole = encode(noise((400, 300)), fmt)
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(b"", id="empty"),
        pytest.param("今天学到了三件事\nthree things I learned\n".encode(), id="text"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n", id="pdf"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
            id="svg",
        ),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200), id="heic"),
        pytest.param(_truncated("JPEG"), id="truncated-jpeg"),
        pytest.param(_truncated("PNG"), id="truncated-png"),
        pytest.param(b"\xff\xd8\xff\xe0" + bytes(100), id="jpeg-magic-then-garbage"),
        pytest.param(encode(Image.new("RGB", (10, 10)), "BMP"), id="bmp-not-accepted"),
        pytest.param(encode(Image.new("RGB", (10, 10)), "TIFF"), id="tiff-not-accepted"),
    ],
)
def test_what_is_not_a_readable_photo_is_refused(upload: bytes) -> None:
    assert refused(upload).key == "error.photo_not_image"


def test_upload_over_the_byte_limit_is_refused_before_decoding() -> None:
    error = refused(b"\xff" * (PHOTO_MAX_BYTES + 1))
    assert error.key == "error.photo_too_large"
    assert error.params == {"max_mb": 15}


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(10_000, 5_001, id="just-over-our-limit"),
        pytest.param(10_000, 10_000, id="over-pillows-warning-limit"),
        pytest.param(20_000, 10_000, id="over-pillows-error-limit"),
    ],
)
def test_decompression_bomb_is_refused_without_decoding(width: int, height: int) -> None:
    before = Image.MAX_IMAGE_PIXELS
    error = refused(png_header_only(width, height))
    assert error.key == "error.photo_too_large"
    assert error.params == {"max_mb": 15}
    assert before == Image.MAX_IMAGE_PIXELS  # Pillow's process-wide setting is left alone
