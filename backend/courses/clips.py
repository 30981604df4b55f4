"""Short generated video clips with sound: demo courses, tests and benchmarks all use them.

A clip is a colour-bar test pattern with a box sweeping across it and a frame counter, over a sine
tone that beeps higher at each full second. The same arguments always give the same picture and sound,
so tests can tell frames apart and demo data looks the same on every machine.
"""

from __future__ import annotations

import contextlib
import math
from array import array
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import av
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont

VideoCodec = Literal["h264", "hevc", "vp9", "mpeg4"]
AudioCodec = Literal["aac", "opus"]

# Encoder names to try for each codec, best first (PyAV wheels differ in what they bundle).
ENCODERS: dict[str, tuple[str, ...]] = {
    "h264": ("libx264", "h264"),
    "hevc": ("libx265", "hevc"),
    "vp9": ("libvpx-vp9", "vp9"),
    "mpeg4": ("mpeg4",),
    "aac": ("aac",),
    "opus": ("libopus", "opus"),
}
CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".webm": "webm"}
# What each container may hold (webm is VP9 + Opus only, as Android browsers record it).
ALLOWED = {
    "mp4": ({"h264", "hevc", "vp9", "mpeg4"}, {"aac", "opus"}),
    "mov": ({"h264", "hevc", "mpeg4"}, {"aac"}),
    "webm": ({"vp9"}, {"opus"}),
}
SAMPLE_RATE = 48_000
TONE_HZ = 440.0
BEEP_HZ = 880.0
BEEP_SECONDS = 0.15
BARS = ((192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192))


@cache
def encoder_name(codec: str) -> str | None:
    """The encoder this PyAV build has for `codec` ("h264", "hevc", ...), or None."""
    available = av.codecs_available
    for name in ENCODERS.get(codec, ()):
        if name in available:
            with contextlib.suppress(Exception):  # listed, but as a decoder only
                av.codec.Codec(name, "w")
                return name
    return None


def clip_generate(
    path: str | Path,
    *,
    seconds: float,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    video_codec: VideoCodec = "h264",
    audio_codec: AudioCodec | None = "aac",
    pix_fmt: str = "yuv420p",
    faststart: bool = False,
    rotation: int = 0,
    caption: str = "",
) -> Path:
    """Write a clip of `seconds` to `path`; the container follows the suffix (.mp4, .mov, .webm).

    `pix_fmt="yuv422p"` makes an otherwise browser-ready H.264 file need a transcode; `rotation`
    (degrees counter-clockwise: 90, -90, 180) stores a display matrix as phones do for portrait video.
    `caption` (Chinese is fine) is written along the bottom, e.g. a demo course's title.
    Raises ValueError for a combination the container cannot hold or an encoder this build lacks.
    """
    target = Path(path)
    container_format = CONTAINERS.get(target.suffix.lower())
    if container_format is None:
        raise ValueError(f"unknown clip container {target.suffix!r} (use {', '.join(CONTAINERS)})")
    videos, audios = ALLOWED[container_format]
    if video_codec not in videos or (audio_codec is not None and audio_codec not in audios):
        raise ValueError(f"{container_format} cannot hold {video_codec} + {audio_codec}")
    if seconds <= 0 or width < 16 or height < 16 or width % 2 or height % 2 or fps < 1:
        raise ValueError("a clip needs a positive length and even dimensions of at least 16 pixels")
    video_encoder = _encoder(video_codec)
    audio_encoder = _encoder(audio_codec) if audio_codec else None
    frames = max(1, round(seconds * fps))
    options = {"fflags": "+bitexact"}  # no muxing date or library version: the same bytes every run
    if faststart and container_format != "webm":
        options["movflags"] = "+faststart"
    with av.open(str(target), "w", format=container_format, container_options=options) as output:
        output.metadata["title"] = "Learnloop test clip"
        video = output.add_stream(video_encoder, rate=fps)
        assert isinstance(video, av.video.stream.VideoStream)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.codec_context.time_base = Fraction(1, fps)
        video.options = _video_options(video_codec)
        if video_codec == "hevc" and container_format in ("mp4", "mov"):
            video.codec_tag = "hvc1"  # what iPhones write; Apple players want it
        if rotation:
            video.set_display_rotation(rotation)
        audio: av.audio.stream.AudioStream | None = None
        if audio_encoder is not None:
            added = output.add_stream(audio_encoder, rate=SAMPLE_RATE)
            assert isinstance(added, av.audio.stream.AudioStream)
            audio = added
            audio.layout = "mono"
            if audio_codec == "aac":
                audio.bit_rate = 64_000
        painter = _Painter(width, height, fps, frames, caption)
        converter = VideoReformatter()  # shared: a frame's own .reformat() sets up anew each time
        samples_per_frame = SAMPLE_RATE // fps if SAMPLE_RATE % fps == 0 else 0
        audio_done = 0
        total_samples = round(frames / fps * SAMPLE_RATE)
        for index in range(frames):
            frame = converter.reformat(av.VideoFrame.from_image(painter.paint(index)), format=pix_fmt)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(video.encode(frame))
            if audio is not None:
                # Audio follows the picture in frame-sized chunks so the muxer interleaves evenly.
                upto = (
                    (index + 1) * samples_per_frame
                    if samples_per_frame
                    else round((index + 1) / fps * SAMPLE_RATE)
                )
                upto = min(upto, total_samples)
                if upto > audio_done:
                    output.mux(audio.encode(_tone(audio_done, upto - audio_done)))
                    audio_done = upto
        output.mux(video.encode(None))
        if audio is not None:
            output.mux(audio.encode(None))
    return target


def _encoder(codec: str) -> str:
    name = encoder_name(codec)
    if name is None:
        raise ValueError(f"this PyAV build has no {codec} encoder")
    return name


def _video_options(codec: str) -> dict[str, object]:
    if codec == "h264":
        # Threads and x264's macroblock tree make the bytes vary from run to run; off for test clips.
        return {"preset": "veryfast", "crf": "23", "threads": "1", "x264-params": "no-mbtree=1"}
    if codec == "hevc":
        # x265 is chatty on stderr; frame threads off keeps the output the same from run to run.
        return {"preset": "ultrafast", "crf": "28", "x265-params": "log-level=error:frame-threads=1"}
    if codec == "vp9":
        return {"deadline": "realtime", "cpu-used": "8", "crf": "40", "b": "0", "threads": "1"}
    return {"qscale": "5"}


def _tone(start: int, count: int) -> av.AudioFrame:
    """`count` mono samples from sample `start` on: a quiet sine, a higher beep at each full second."""
    second = _one_second()
    chunks, n = [], start
    while n < start + count:  # the sound repeats every second (both tones fit whole cycles into one)
        offset = n % SAMPLE_RATE
        take = min(SAMPLE_RATE - offset, start + count - n)
        chunks.append(second[2 * offset : 2 * (offset + take)])
        n += take
    frame = av.AudioFrame(format="s16", layout="mono", samples=count)
    frame.planes[0].update(b"".join(chunks))
    frame.sample_rate = SAMPLE_RATE
    frame.pts = start
    frame.time_base = Fraction(1, SAMPLE_RATE)
    return frame


@cache
def _one_second() -> bytes:
    samples = array("h", bytes(2 * SAMPLE_RATE))
    for n in range(SAMPLE_RATE):
        hz = BEEP_HZ if n < BEEP_SECONDS * SAMPLE_RATE else TONE_HZ
        samples[n] = int(9000 * math.sin(2 * math.pi * hz * n / SAMPLE_RATE))
    return samples.tobytes()


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Noto Sans SC (a dependency, for the PDF archive) so Chinese captions show; else Pillow's own."""
    try:
        path = resources.files("pylopdf_fonts_zh_cn").joinpath("NotoSansSC-Regular.otf")
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


class _Painter:
    """Draws frame `index`: colour bars, a box sweeping left to right, and the frame counter."""

    def __init__(self, width: int, height: int, fps: int, frames: int, caption: str = "") -> None:
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        self.background = Image.new("RGB", (width, height), (16, 16, 16))
        draw = ImageDraw.Draw(self.background)
        bar_bottom = height * 2 // 3
        for i, colour in enumerate(BARS):
            draw.rectangle(
                (i * width // len(BARS), 0, (i + 1) * width // len(BARS) - 1, bar_bottom - 1), fill=colour
            )
        for x in range(0, width, 8):  # a grey ramp under the bars
            shade = 16 + 224 * x // max(1, width - 1)
            draw.rectangle((x, bar_bottom, x + 7, height - 1), fill=(shade, shade, shade))
        self.box = max(8, height // 6)
        self.font = _font(max(10, height // 9))
        if caption:
            strip = height - height // 7
            draw.rectangle((0, strip, width - 1, height - 1), fill=(0, 0, 0))
            draw.text(
                (height // 40 + 2, strip), caption, fill=(255, 220, 0), font=_font(max(10, height // 10))
            )

    def paint(self, index: int) -> Image.Image:
        image = self.background.copy()
        draw = ImageDraw.Draw(image)
        travel = self.width - self.box
        x = travel * index // max(1, self.frames - 1)
        top = self.height // 3 - self.box // 2
        draw.rectangle((x, top, x + self.box - 1, top + self.box - 1), fill=(255, 255, 255))
        label = f"{index:04d}  {index / self.fps:5.2f}s"
        draw.rectangle((0, 0, self.width - 1, self.height // 8), fill=(0, 0, 0))
        draw.text((self.height // 40 + 2, 1), label, fill=(255, 255, 255), font=self.font)
        return image
