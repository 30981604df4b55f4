"""Transcode speed of a 720p clip as × realtime, next to the remux of a browser-ready one.

Clips come from clip_generate (test pattern with motion, a tone): a 10 s 1280x720 25 fps H.264 4:2:2
(a valid H.264 that browsers cannot all play, so it must be transcoded), an HEVC .mov as iPhones
record, and an H.264/AAC/yuv420p MP4 that is only remuxed. Each is processed ROUNDS times with
media_process (probe, remux/transcode, faststart, poster) and the best round counts: × realtime =
clip length / wall time. CPU seconds (all threads) are shown beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import Result, say, temp_dir

NAME = "transcode"
SECONDS = 10.0
WIDTH, HEIGHT, FPS = 1280, 720, 25
ROUNDS = 3
TARGET_REALTIME = 1.0  # faster than realtime: a 10-minute course is ready in under 10 minutes


@dataclass
class Case:
    label: str
    filename: str
    options: dict[str, Any]


CASES = (
    Case("transcode H.264 4:2:2 → H.264 4:2:0", "yuv422.mp4", {"pix_fmt": "yuv422p"}),
    Case("transcode HEVC .mov (iPhone) → H.264", "iphone.mov", {"video_codec": "hevc"}),
    Case("remux H.264/AAC/yuv420p", "ready.mp4", {}),
)


def _measure(base: Path, case: Case) -> tuple[float, float, bool] | None:
    """Best wall time and its CPU time of media_process over ROUNDS, and whether it remuxed."""
    from backend.courses.clips import clip_generate, encoder_name
    from backend.courses.transcode import media_process

    if encoder_name(case.options.get("video_codec", "h264")) is None:
        say(f"  {case.label}: skipped (no encoder for the input in this PyAV build)")
        return None
    source = clip_generate(
        base / case.filename, seconds=SECONDS, width=WIDTH, height=HEIGHT, fps=FPS, **case.options
    )
    best: tuple[float, float, bool] | None = None
    for _ in range(ROUNDS):
        cpu, started = time.process_time(), time.perf_counter()
        result = media_process(source, base / "out.mp4", base / "poster.jpg")
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        if best is None or wall < best[0]:
            best = (wall, used, result.remuxed)
    return best


def main() -> list[Result]:
    say(f"transcode: {SECONDS:g} s {WIDTH}x{HEIGHT} {FPS} fps clips, media_process best of {ROUNDS}")
    results: list[Result] = []
    with temp_dir(NAME) as base:
        for case in CASES:
            measured = _measure(base, case)
            if measured is None:
                continue
            wall, cpu, remuxed = measured
            speed = SECONDS / wall
            kind = "remuxed" if remuxed else "transcoded"
            say(
                f"  {case.label}: {speed:,.1f}x realtime ({wall:.2f} s wall, {cpu:.2f} s CPU for "
                f"{SECONDS:g} s of video; {kind})"
            )
            transcoding = case.label.startswith("transcode")
            results.append(
                Result(
                    NAME,
                    f"{case.label}: × realtime",
                    speed,
                    "x",
                    f">= {TARGET_REALTIME:g}x" if transcoding else "",
                    speed >= TARGET_REALTIME if transcoding else None,
                )
            )
    return results


if __name__ == "__main__":
    main()
