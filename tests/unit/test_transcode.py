"""Course videos made browser-ready: remux when possible, transcode otherwise, faststart, poster, limits.

Every input is a real clip written by clip_generate (H.264, HEVC .mov as iPhones record, VP9/Opus .webm
as Android browsers record, MPEG-4 part 2, 4:2:2), small and short so the tests stay fast.
"""

from __future__ import annotations

import random
import struct
import threading
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from backend.courses import jobs, transcode
from backend.courses.clips import clip_generate, encoder_name
from backend.courses.transcode import MediaCancelled, MediaError, media_probe, media_process
from backend.lib.i18n import catalog

SECONDS = 2.0


def small_clip(path: Path, **options: Any) -> Path:
    """A 2-second 320x180 clip: enough for every behaviour here, fast to make and process."""
    return clip_generate(path, width=320, height=180, seconds=SECONDS, **options)


def top_level_boxes(path: Path) -> list[tuple[str, int]]:
    """(type, offset) of the MP4 file's top-level boxes, read from their headers."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append((kind.decode("latin-1"), offset))
        assert size >= 8, f"broken box at {offset}"
        offset += size
    return boxes


def box_offset(path: Path, kind: str) -> int:
    return next(offset for name, offset in top_level_boxes(path) if name == kind)


def video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def streams_of(path: Path) -> dict[str, tuple[str, str | None]]:
    with av.open(str(path)) as container:
        video = container.streams.video[0].codec_context
        audio = container.streams.audio[0].codec_context if container.streams.audio else None
        return {"video": (video.name, video.pix_fmt), "audio": (audio.name if audio else "", None)}


def needs(*codecs: str) -> None:
    missing = [codec for codec in codecs if encoder_name(codec) is None]
    if missing:
        pytest.skip(f"this PyAV build has no encoder for {', '.join(missing)}")


def outputs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "out.mp4", tmp_path / "poster.jpg"


def test_a_browser_ready_mp4_is_remuxed_with_its_packets_unchanged(tmp_path: Path) -> None:
    source = small_clip(tmp_path / "phone.mp4")
    assert box_offset(source, "mdat") < box_offset(source, "moov")  # as recorded: index at the end
    target, poster = outputs(tmp_path)

    result = media_process(source, target, poster)

    assert result.remuxed
    assert streams_of(target) == {"video": ("h264", "yuv420p"), "audio": ("aac", None)}
    assert video_packets(target) == video_packets(source)
    assert box_offset(target, "moov") < box_offset(target, "mdat")  # faststart
    assert (result.width, result.height) == (320, 180)
    assert result.duration == pytest.approx(SECONDS, abs=0.1)
    assert result.size == target.stat().st_size
    with Image.open(poster) as image:
        assert image.format == "JPEG" and image.size == (320, 180)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("yuv422.mp4", {"video_codec": "h264", "pix_fmt": "yuv422p"}),
        ("old-android.mp4", {"video_codec": "mpeg4"}),
        ("iphone.mov", {"video_codec": "hevc"}),
        ("android-browser.webm", {"video_codec": "vp9", "audio_codec": "opus"}),
    ],
)
def test_other_inputs_are_transcoded_to_h264_yuv420p_and_aac(
    tmp_path: Path, name: str, options: dict[str, str]
) -> None:
    needs(options["video_codec"], options.get("audio_codec", "aac"))
    source = small_clip(tmp_path / name, **options)
    target, poster = outputs(tmp_path)

    result = media_process(source, target, poster)

    assert not result.remuxed
    assert streams_of(target) == {"video": ("h264", "yuv420p"), "audio": ("aac", None)}
    assert box_offset(target, "moov") < box_offset(target, "mdat")
    assert (result.width, result.height) == (320, 180)
    assert result.duration == pytest.approx(SECONDS, abs=0.1)
    with Image.open(poster) as image:
        assert image.format == "JPEG"
        # The picture survived: the right-hand colour bar of the test pattern is still blue.
        pixel = image.convert("RGB").getpixel((image.width - 10, image.height // 2))
        assert isinstance(pixel, tuple)
        red, green, blue = pixel
        assert blue > 150 and red < 60 and green < 60


def test_the_sound_survives_a_transcode(tmp_path: Path) -> None:
    needs("vp9", "opus")
    source = small_clip(tmp_path / "android.webm", video_codec="vp9", audio_codec="opus")
    target, poster = outputs(tmp_path)
    media_process(source, target, poster)
    with av.open(str(target)) as container:
        stream = container.streams.audio[0]
        peak = 0.0
        for frame in container.decode(stream):
            assert frame.format.name == "fltp"  # AAC decodes to 32-bit float planes
            samples = memoryview(bytes(frame.planes[0])).cast("f")[: frame.samples]
            peak = max(peak, *(abs(value) for value in samples))
    assert peak > 0.1  # the tone, not silence


def test_a_portrait_phone_video_stays_upright(tmp_path: Path) -> None:
    needs("hevc")
    source = small_clip(tmp_path / "portrait.mov", video_codec="hevc", rotation=-90)
    target, poster = outputs(tmp_path)

    result = media_process(source, target, poster)

    assert (result.width, result.height) == (180, 320)
    assert media_probe(target).rotation == -90  # players turn it as the phone did
    with Image.open(poster) as image:
        assert image.size == (180, 320)


def test_a_rotated_browser_ready_video_is_remuxed_and_keeps_its_rotation(tmp_path: Path) -> None:
    source = small_clip(tmp_path / "portrait.mp4", rotation=90)
    target, poster = outputs(tmp_path)
    result = media_process(source, target, poster)
    assert result.remuxed and (result.width, result.height) == (180, 320)
    with Image.open(poster) as image:
        assert image.size == (180, 320)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((2560, 1440), (1920, 1080)), ((1920, 1088), (1906, 1080)), ((1080, 1920), (1080, 1920))],
)
def test_nothing_larger_than_1080p_comes_out(
    tmp_path: Path, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    source = clip_generate(tmp_path / "big.mp4", width=size[0], height=size[1], seconds=1, fps=5)
    target, poster = outputs(tmp_path)
    result = media_process(source, target, poster)
    assert (result.width, result.height) == expected
    assert result.remuxed == (size == expected)  # a portrait 1080p video is already fine
    with av.open(str(target)) as container:
        video = container.streams.video[0].codec_context
        assert (video.width, video.height) == expected and video.pix_fmt == "yuv420p"


def test_larger_than_4k_is_refused(tmp_path: Path) -> None:
    source = clip_generate(
        tmp_path / "5k.mp4", width=4608, height=2592, seconds=1, fps=1, video_codec="mpeg4", audio_codec=None
    )
    target, poster = outputs(tmp_path)
    with pytest.raises(MediaError) as caught:
        media_process(source, target, poster)
    assert caught.value.key == "transcode.too_large"
    assert not target.exists() and not poster.exists()


@pytest.mark.parametrize("name", ["short.mp4", "short.webm"])
def test_longer_than_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    needs("vp9", "opus")
    options = {"video_codec": "vp9", "audio_codec": "opus"} if name.endswith(".webm") else {}
    source = small_clip(tmp_path / name, **options)
    monkeypatch.setattr(transcode, "MAX_DURATION_SECONDS", 1)  # a 2-hour clip would make a slow test
    target, poster = outputs(tmp_path)
    with pytest.raises(MediaError) as caught:
        media_process(source, target, poster)
    assert caught.value.key == "transcode.too_long"


def _corrupt(tmp_path: Path, kind: str) -> Path:
    rng = random.Random(kind)
    noise = bytes(rng.getrandbits(8) for _ in range(64_000))
    recorded = small_clip(tmp_path / "recorded.mp4").read_bytes()
    faststart = small_clip(tmp_path / "faststart.mp4", faststart=True).read_bytes()
    moov_end = 32 + struct.unpack(">I", faststart[32:36])[0]  # ftyp is 32 bytes, moov follows
    contents = {
        "random bytes": noise,
        "empty": b"",
        "truncated recording": recorded[: len(recorded) // 2],  # the phone died: no index
        "mp4 header then garbage": recorded[:32] + noise,
        "index then garbage": faststart[: moov_end + 200] + noise[: len(faststart) - moov_end - 200],
    }
    path = tmp_path / "upload.mp4"
    path.write_bytes(contents[kind])
    return path


@pytest.mark.parametrize(
    "kind", ["random bytes", "empty", "truncated recording", "mp4 header then garbage", "index then garbage"]
)
def test_a_corrupt_file_is_a_media_error_with_a_message_for_the_trainer(tmp_path: Path, kind: str) -> None:
    source = _corrupt(tmp_path, kind)
    target, poster = outputs(tmp_path)
    with pytest.raises(MediaError) as caught:
        media_process(source, target, poster)
    assert caught.value.key == "transcode.unreadable"
    assert not target.exists() and not poster.exists()


def test_a_sound_recording_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=48_000)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        frame = av.AudioFrame(format="s16", layout="mono", samples=48_000)
        frame.planes[0].update(bytes(96_000))
        frame.sample_rate, frame.pts = 48_000, 0
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    with pytest.raises(MediaError) as caught:
        media_process(path, *outputs(tmp_path))
    assert caught.value.key == "transcode.no_video"


def test_a_stopped_processing_leaves_nothing_behind(tmp_path: Path) -> None:
    source = small_clip(tmp_path / "iphone.mp4", pix_fmt="yuv422p")
    target, poster = outputs(tmp_path)
    stop = threading.Event()
    stop.set()
    with pytest.raises(MediaCancelled):
        media_process(source, target, poster, cancel=stop)
    assert not target.exists() and not poster.exists()


def test_generated_clips_are_the_same_every_time(tmp_path: Path) -> None:
    first = small_clip(tmp_path / "a.mp4").read_bytes()
    small_clip(tmp_path / "other.mp4", pix_fmt="yuv422p")
    second = small_clip(tmp_path / "b.mp4").read_bytes()
    assert first == second


def test_every_failure_reason_has_a_message_in_both_languages() -> None:
    keys = {
        transcode.UNREADABLE,
        transcode.NO_VIDEO,
        transcode.TOO_LONG,
        transcode.TOO_LARGE,
        jobs.TOO_SLOW,
        jobs.SOURCE_MISSING,
        jobs.FAILED,
    }
    for locale in ("zh-CN", "en"):
        assert keys <= set(catalog(locale)), keys - set(catalog(locale))
