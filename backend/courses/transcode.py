"""A course video made ready for every browser: H.264 (yuv420p) + AAC in a faststart MP4, ≤ 1080p.

Pure functions on local files (PyAV's bundled FFmpeg); the job in jobs.py moves the files to and from
object storage. An upload that is already H.264/AAC/yuv420p in an MP4/MOV and at most 1080p is only
remuxed (packets copied, not re-encoded); anything else, HEVC from iPhones and VP9/Opus WebM from
Android browsers included, is transcoded. A phone's rotation (the display matrix) is kept in the output
and applied to the poster. Anything the trainer must fix raises MediaError with a catalog key.
"""

from __future__ import annotations

import contextlib
import errno
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.video.reformatter import VideoReformatter
from PIL import Image

MAX_DURATION_SECONDS = 2 * 3600
MAX_LONG_SIDE, MAX_SHORT_SIDE = 4096, 2160  # larger than 4K is refused
OUT_LONG_SIDE, OUT_SHORT_SIDE = 1920, 1080  # at most 1080p, landscape or portrait
MAX_FPS = 60  # slow-motion footage is thinned out to this
POSTER_AT_SECONDS = 1.0
POSTER_LONG_SIDE = 1280
POSTER_PACKETS = 2_000  # how far into the file a poster frame is looked for
PROBE_PACKETS = 500  # how far into the file the first picture must decode
MAX_BAD_PACKETS = 50  # damaged packets tolerated (skipped) before the file counts as unreadable
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "profile": "high", "maxrate": "5M", "bufsize": "10M"}
REMUX_CONTAINER = "mov,mp4,m4a,3gp,3g2,mj2"
REMUX_PIX_FMTS = ("yuv420p", "yuvj420p")  # 8-bit 4:2:0 (full-range phones' yuvj420p plays everywhere)

UNREADABLE = "transcode.unreadable"
NO_VIDEO = "transcode.no_video"
TOO_LONG = "transcode.too_long"
TOO_LARGE = "transcode.too_large"


class MediaError(Exception):
    """The file cannot become a course video; `key` is the catalog message for the trainer."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key


class MediaCancelled(Exception):
    """Processing was stopped from outside (the job's time limit or a worker shutting down)."""


@dataclass(frozen=True)
class Probe:
    container: str  # FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm"
    video_codec: str
    pix_fmt: str
    width: int  # as coded; see display_size for what a viewer sees
    height: int
    audio_codec: str | None
    duration: float | None  # None: the container does not say (e.g. a browser's WebM recording)
    rotation: int = 0  # degrees counter-clockwise, from the display matrix

    @property
    def browser_ready(self) -> bool:
        """Already what every browser plays: remux, do not re-encode."""
        return (
            self.container == REMUX_CONTAINER
            and self.video_codec == "h264"
            and self.pix_fmt in REMUX_PIX_FMTS
            and self.audio_codec in (None, "aac")
            and output_size(self.width, self.height) == (self.width, self.height)
        )


@dataclass(frozen=True)
class MediaResult:
    duration: float
    width: int  # as displayed (rotation applied)
    height: int
    size: int  # bytes of the output file
    remuxed: bool


def output_size(width: int, height: int) -> tuple[int, int]:
    """At most 1080p on either orientation, aspect kept, even sides (yuv420p needs them)."""
    scale = min(1.0, OUT_LONG_SIDE / max(width, height), OUT_SHORT_SIDE / min(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def media_probe(path: str | Path) -> Probe:
    """What the file holds. Decodes the first picture, so a file that opens but cannot play fails here."""
    with _opened(path) as container, _as_media_error():
        if not container.streams.video:
            raise MediaError(NO_VIDEO)
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        _size_check(video.codec_context.width, video.codec_context.height)  # before decoding a picture
        first = _first_frame(container, video)
        width, height = video.codec_context.width or first.width, video.codec_context.height or first.height
        probe = Probe(
            container=container.format.name,
            video_codec=video.codec_context.name,
            pix_fmt=video.codec_context.pix_fmt or first.format.name,
            width=width,
            height=height,
            audio_codec=audio.codec_context.name if audio is not None else None,
            duration=_container_duration(container),
            rotation=_right_angle(first.rotation),
        )
    if width <= 0 or height <= 0:
        raise MediaError(UNREADABLE, "no picture size")
    _size_check(width, height)
    if probe.duration is not None and probe.duration > MAX_DURATION_SECONDS:
        raise MediaError(TOO_LONG, f"{probe.duration:.0f} s")
    return probe


def media_process(
    source: str | Path, target: str | Path, poster: str | Path, *, cancel: threading.Event | None = None
) -> MediaResult:
    """Write the browser-ready MP4 to `target` and a JPEG poster to `poster`.

    Raises MediaError (nothing is left at `target`/`poster`), or MediaCancelled when `cancel` is set.
    """
    target, poster = Path(target), Path(poster)
    stop = cancel or threading.Event()
    try:
        probe = media_probe(source)
        if probe.browser_ready:
            _remux(Path(source), target, stop)
        else:
            _transcode(Path(source), target, probe, stop)
        duration, width, height, rotation = _output_facts(target)
        _poster_write(target, poster, duration, rotation)
    except BaseException:
        target.unlink(missing_ok=True)
        poster.unlink(missing_ok=True)
        raise
    if rotation in (90, -90):
        width, height = height, width
    return MediaResult(duration, width, height, target.stat().st_size, probe.browser_ready)


# --- remux and transcode ---------------------------------------------------------------------


def _remux(source: Path, target: Path, stop: threading.Event) -> None:
    with _as_media_error(), _opened(source) as inp, _output(target) as out:
        streams = _chosen_streams(inp)
        mapping = {stream.index: out.add_stream_from_template(stream) for stream in streams}
        for packet in inp.demux(*streams):
            _check(stop)
            if packet.dts is None:  # a demuxer's end-of-stream marker
                continue
            if packet.pts is not None and packet.pts * packet.time_base > MAX_DURATION_SECONDS:
                raise MediaError(TOO_LONG)
            packet.stream = mapping[packet.stream_index]
            out.mux(packet)


def _transcode(source: Path, target: Path, probe: Probe, stop: threading.Event) -> None:
    with _as_media_error(), _opened(source) as inp, _output(target) as out:
        in_video, *rest = _chosen_streams(inp)
        in_audio = rest[0] if rest else None
        in_video.thread_type = "AUTO"
        rate = in_video.average_rate or in_video.guessed_rate or Fraction(30)
        rate = min(Fraction(rate), Fraction(MAX_FPS))
        width, height = output_size(probe.width, probe.height)
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video_time_base = in_video.time_base or Fraction(1, 90_000)
        video.codec_context.time_base = video_time_base
        video.codec_context.gop_size = max(12, min(250, round(2 * rate)))  # a keyframe every ~2 s
        video.options = dict(X264_OPTIONS)
        if probe.rotation:
            video.set_display_rotation(probe.rotation)
        audio = None
        if in_audio is not None:
            channels = in_audio.codec_context.channels or 2
            sample_rate = in_audio.codec_context.sample_rate or 48_000
            audio = out.add_stream("aac", rate=sample_rate if sample_rate in AAC_RATES else 48_000)
            audio.layout = "mono" if channels == 1 else "stereo"
            audio.bit_rate = 64_000 if channels == 1 else 128_000
        start = Fraction(inp.start_time or 0, 1_000_000)
        last_video_pts: int | None = None
        audio_next = 0  # where the previous audio frame ended, in its time base
        last_kept: Fraction | None = None
        min_gap = Fraction(1, MAX_FPS) * Fraction(9, 10)
        scaler = VideoReformatter()  # one for all frames: a frame's own .reformat() sets up anew each time
        for frame in _frames(inp, [s for s in (in_video, in_audio) if s is not None], stop):
            if frame.pts is not None and frame.time_base is not None:
                frame.pts = max(0, frame.pts - round(start / frame.time_base))  # both tracks from 0
                if frame.pts * frame.time_base > MAX_DURATION_SECONDS:
                    raise MediaError(TOO_LONG)
            if isinstance(frame, av.AudioFrame):
                if audio is not None and frame.time_base is not None and frame.sample_rate:
                    # Overlapping or clamped timestamps would be refused by the muxer: keep them rising.
                    frame.pts = max(frame.pts if frame.pts is not None else audio_next, audio_next)
                    audio_next = frame.pts + round(
                        Fraction(frame.samples, frame.sample_rate) / frame.time_base
                    )
                    out.mux(audio.encode(frame))
                continue
            assert isinstance(frame, av.VideoFrame)
            if last_video_pts is not None and (frame.pts is None or frame.pts <= last_video_pts):
                frame.pts = last_video_pts + 1  # the encoder needs rising timestamps
            elif frame.pts is None:
                frame.pts = 0
            now = frame.pts * video_time_base
            if last_kept is not None and now - last_kept < min_gap:
                continue  # slow-motion footage: keep at most MAX_FPS pictures a second
            last_kept, last_video_pts = now, frame.pts
            picture = scaler.reformat(
                frame, width=width, height=height, format="yuv420p", interpolation="BILINEAR"
            )
            picture.pts, picture.time_base = frame.pts, video_time_base
            out.mux(video.encode(picture))
        if last_video_pts is None:
            raise MediaError(UNREADABLE, "no picture decoded")
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))


def _frames(container: Any, streams: list[Any], stop: threading.Event) -> Iterator[Any]:
    """Decoded frames of `streams`; a few damaged packets are skipped, many mean the file is broken."""
    bad = 0
    for packet in container.demux(*streams):
        _check(stop)
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            _raise_if_system(exc)
            bad += 1
            if bad > MAX_BAD_PACKETS:
                raise MediaError(UNREADABLE, f"{bad} damaged packets") from exc
            continue
        yield from frames


def _chosen_streams(container: Any) -> list[Any]:
    """The first video stream and the first audio stream (phones add metadata tracks we leave out)."""
    streams = [container.streams.video[0]]
    if container.streams.audio:
        streams.append(container.streams.audio[0])
    return streams


# --- output facts and poster -----------------------------------------------------------------


def _output_facts(target: Path) -> tuple[float, int, int, int]:
    """Duration, coded width and height, rotation of the written file."""
    with _opened(target) as container, _as_media_error():
        video = container.streams.video[0]
        duration = _container_duration(container)
        if duration is None and video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        first = _first_frame(container, video)
        return (
            round(duration or 0.0, 3),
            video.codec_context.width,
            video.codec_context.height,
            _right_angle(first.rotation),
        )


def _poster_write(video_path: Path, poster: Path, duration: float, rotation: int) -> None:
    """A JPEG of the picture about one second in (the middle of a shorter clip), upright."""
    at = min(POSTER_AT_SECONDS, duration / 2)
    chosen = None
    with _opened(video_path) as container, _as_media_error():
        stream = container.streams.video[0]
        for count, packet in enumerate(container.demux(stream)):
            if count > POSTER_PACKETS:
                break
            for frame in packet.decode():
                chosen = frame
                if frame.time is not None and frame.time >= at:
                    break
            else:
                continue
            break
        if chosen is None:
            raise MediaError(UNREADABLE, "no poster frame")
        image = chosen.to_image()
    if rotation:
        image = image.rotate(rotation, expand=True)  # Pillow also turns counter-clockwise
    image.thumbnail((POSTER_LONG_SIDE, POSTER_LONG_SIDE), Image.Resampling.BICUBIC)
    image.convert("RGB").save(poster, format="JPEG", quality=82, optimize=True)


# --- small pieces ------------------------------------------------------------------------------


@contextlib.contextmanager
def _opened(path: str | Path) -> Iterator[Any]:
    try:
        container = av.open(str(path), metadata_errors="replace")
    except (av.FFmpegError, UnicodeDecodeError, EOFError) as exc:
        _raise_if_system(exc)
        raise MediaError(UNREADABLE, str(exc)) from exc
    try:
        yield container
    finally:
        container.close()


@contextlib.contextmanager
def _output(target: Path) -> Iterator[Any]:
    # faststart: the index (moov) goes before the media (mdat), so playback starts before the download ends
    with av.open(str(target), "w", format="mp4", container_options={"movflags": "+faststart"}) as out:
        yield out


@contextlib.contextmanager
def _as_media_error() -> Iterator[None]:
    """FFmpeg's complaints about the input become MediaError; the machine's own trouble does not."""
    try:
        yield
    except (av.FFmpegError, EOFError, UnicodeDecodeError) as exc:
        _raise_if_system(exc)
        raise MediaError(UNREADABLE, str(exc)) from exc


def _raise_if_system(exc: BaseException) -> None:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.ENOMEM, errno.EIO, errno.EMFILE):
        raise exc  # a full disk is not the trainer's fault: let the job retry


def _first_frame(container: Any, video: Any) -> Any:
    for count, packet in enumerate(container.demux(video)):
        if count > PROBE_PACKETS:
            break
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:
            _raise_if_system(exc)
            continue
        if frames:
            return frames[0]
    raise MediaError(UNREADABLE, "no picture decoded")


def _size_check(width: int, height: int) -> None:
    if max(width, height) > MAX_LONG_SIDE or min(width, height) > MAX_SHORT_SIDE:
        raise MediaError(TOO_LARGE, f"{width}x{height}")


def _container_duration(container: Any) -> float | None:
    if container.duration is None or container.duration <= 0:
        return None
    return float(container.duration) / 1_000_000


def _right_angle(degrees: float | None) -> int:
    """The display matrix's rotation snapped to 0, 90, 180 or -90 (anything else is noise)."""
    if not degrees:
        return 0
    snapped = round(degrees / 90) * 90 % 360
    return {0: 0, 90: 90, 180: 180, 270: -90}[snapped]


def _check(stop: threading.Event) -> None:
    if stop.is_set():
        raise MediaCancelled()
