"""Media decoding with PyAV: probe a file, and decode a source range once into frame grids.

One pass per scene: seek to the keyframe at or before `start_s`, decode forward once, and pick,
for every grid time t (`start_s + k / fps` for each requested fps), the frame on screen at t —
the last frame whose presentation time is <= t. Selection is by timestamp, so variable frame
rate needs nothing special. Every decoded frame of the range can also go, downscaled, to a
callback (the cut detector). Frames picked by several grids are resized once.

Media seconds count from the first frame of the video stream (stream start time subtracted).
Image sequences are paths with a printf frame pattern (`shot.%04d.png`) read at `sequence_rate`.
"""

from __future__ import annotations

import glob
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from engine.api import SceneRequest
from engine.errors import (
    MediaEmptyError,
    MediaNotFoundError,
    MediaRangeError,
    MediaTruncatedError,
    MediaUnreadableError,
    NoVideoStreamError,
    UnsupportedCodecError,
)
from engine.preprocess import PreprocessConfig, ResizePlan

log = logging.getLogger(__name__)

DEFAULT_SEQUENCE_RATE = 24.0
_SEQ_PATTERN = re.compile(r"%0?(\d*)d")
NativeSink = Callable[[float, np.ndarray], None]


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    fps: float
    width: int  # display width (after rotation and pixel aspect)
    height: int
    codec: str = ""
    pix_fmt: str = ""
    rotation: int = 0


@dataclass(frozen=True)
class DecodedGrids:
    """Tower-ready crops of the distinct frames the grids picked, and each grid's rows into them."""

    crops: np.ndarray  # uint8 [U, S, S, 3]
    grids: dict[float, np.ndarray]  # fps -> int64 [M] indices into `crops`
    frames_decoded: int
    interlaced: bool


def is_image_sequence(path: str) -> bool:
    return bool(_SEQ_PATTERN.search(os.path.basename(path)))


def sequence_files(path: str, numbered: bool = False) -> list:
    """The files an image-sequence pattern names, in frame order."""
    base = os.path.basename(path)
    m = _SEQ_PATTERN.search(base)
    assert m is not None
    width = int(m.group(1) or 0)
    digits = f"[0-9]{{{width},}}" if width else "[0-9]+"
    rx = re.compile(re.escape(base[: m.start()]) + f"({digits})" + re.escape(base[m.end() :]) + "$")
    folder = os.path.dirname(path) or "."
    hits = []
    for f in glob.glob(os.path.join(glob.escape(folder), "*")):
        mm = rx.match(os.path.basename(f))
        if mm:
            hits.append((int(mm.group(1)), f))
    hits.sort()
    return hits if numbered else [f for _, f in hits]


def _open(path: str, sequence_rate: float | None) -> av.container.InputContainer:
    """Open a container, turning every way this can fail into a specific MediaError."""
    if is_image_sequence(path):
        files = sequence_files(path)
        if not files:
            raise MediaNotFoundError(f"{path}: no files match this image-sequence pattern; relink the clip")
        start = sequence_files(path, numbered=True)[0][0]
        rate = sequence_rate or DEFAULT_SEQUENCE_RATE
        try:
            return av.open(
                path, format="image2", options={"framerate": f"{rate}", "start_number": str(start)}
            )
        except av.error.FFmpegError as exc:
            raise MediaUnreadableError(
                f"{path}: cannot read the image sequence ({exc}); re-export it"
            ) from exc
    if not os.path.exists(path):
        raise MediaNotFoundError(f"{path}: file not found; relink the clip to the media's current location")
    if os.path.isdir(path):
        raise MediaUnreadableError(f"{path}: is a folder, not a media file; relink the clip to a file")
    if os.path.getsize(path) == 0:
        raise MediaEmptyError(f"{path}: file is empty (0 bytes), an interrupted copy or render; re-copy it")
    try:
        return av.open(path)
    except av.error.FFmpegError as exc:
        with open(path, "rb") as fh:
            head = fh.read(12)
        if head[4:8] == b"ftyp":  # an ISO/QuickTime file whose index (moov) never got written
            raise MediaTruncatedError(
                f"{path}: file is truncated (its index is missing: {exc}); re-copy or re-render it"
            ) from exc
        raise MediaUnreadableError(
            f"{path}: not a readable media file ({exc}); convert it to a common format (H.264/ProRes)"
        ) from exc


def _video_stream(container: av.container.InputContainer, path: str) -> av.video.stream.VideoStream:
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
        raise NoVideoStreamError(f"{path}: no video stream (contains {kinds}); use a clip with pictures")
    stream = container.streams.video[0]
    name = stream.codec_context.name if stream.codec_context is not None else "none"
    if name in ("none", "") or name not in av.codecs_available:
        tag = getattr(stream.codec_context, "codec_tag", "") if stream.codec_context else ""
        raise UnsupportedCodecError(
            f"{path}: video codec {tag or name!r} has no decoder here; transcode it (e.g. to H.264 or ProRes)"
        )
    return stream


def _rate(stream: av.video.stream.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 25.0


def _stream_start(stream: av.video.stream.VideoStream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if stream.frames:
        return stream.frames / _rate(stream)
    if container.duration is not None:
        return container.duration / 1e6
    return 0.0


def probe_media(path: str, *, sequence_rate: float | None = None) -> MediaInfo:
    """Duration, rate and display size of a media file; raises a MediaError subclass if unusable."""
    with _open(path, sequence_rate) as container:
        stream = _video_stream(container, path)
        cc = stream.codec_context
        duration = _duration(container, stream)
        if is_image_sequence(path):
            duration = len(sequence_files(path)) / _rate(stream)
        rotation = 0
        try:
            first = next(container.decode(stream))
            rotation = int(round(first.rotation or 0))
            del first
            stream.codec_context.flush_buffers()
        except (StopIteration, av.error.FFmpegError) as exc:
            raise MediaTruncatedError(
                f"{path}: no frame can be decoded ({exc}); re-copy or re-render it"
            ) from exc
        sar = float(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else 1.0
        w, h = round(cc.width * sar), cc.height
        if (rotation // 90) % 2:
            w, h = h, w
        return MediaInfo(duration, _rate(stream), w, h, cc.name, cc.pix_fmt or "", rotation)


def is_still(info: MediaInfo) -> bool:
    """A still image (a PNG, a JPEG): one frame and no length; a timeline holds it as long as
    the clip lasts, so any source range shows that frame."""
    return info.duration_s <= 0


def playable_s(info: MediaInfo) -> float:
    """How far into the media frames can be decoded: its length, or a still's one frame."""
    return info.duration_s if not is_still(info) else 1.0 / info.fps


def check_range(path: str, info: MediaInfo, start_s: float, end_s: float) -> None:
    slack = 0.5 / info.fps
    if is_still(info) and end_s > playable_s(info) + slack:
        raise MediaRangeError(
            f"{path}: is a still image (one frame, no motion of its own), not {end_s - start_s:.3f} s "
            "of video; place it on a timeline, where it is scored as a frame held for the clip's length"
        )
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or start_s < -slack or end_s <= start_s:
        raise MediaRangeError(
            f"{path}: source range {start_s:.3f}–{end_s:.3f} s is empty or negative; fix the clip's in/out"
        )
    if end_s > playable_s(info) + slack or start_s >= playable_s(info):
        raise MediaRangeError(
            f"{path}: source range {start_s:.3f}–{end_s:.3f} s runs past the end of the media "
            f"({info.duration_s:.3f} s); trim the clip or relink it to the full-length media"
        )


def check_program_media(scenes: Sequence[SceneRequest]) -> None:
    """Every shot's media span lies inside its media: checked for all cues before any scoring.

    Why: decoding holds the media's last frame past its end, so a clip lying past its media's end
    (or before its start) would be scored, silently, on a picture the viewer never sees.
    """
    infos: dict[str, MediaInfo] = {}
    for scene in scenes:
        for seg in scene.cue_program().segments:
            if seg.path is None:
                continue
            if seg.path not in infos:
                infos[seg.path] = probe_media(seg.path)
            info = infos[seg.path]
            if is_still(info):
                continue  # a still image (or a file that states no length): every time shows it
            lo, hi = sorted((seg.source_start_s, seg.source_end_s))
            slack = 1.0 / info.fps  # rounding between the timeline's rate and the media's: one frame
            clip = f"clip {seg.name!r}" if seg.name else f"the shot at {seg.record_start_s:.3f} s"
            where = f"cue {scene.index} ({scene.name!r}): {clip} shows {seg.path} {lo:.3f}–{hi:.3f} s"
            if lo < -slack:
                raise MediaRangeError(
                    f"{where}, which starts {-lo:.3f} s before the media's first frame; "
                    "trim the clip's in point in the editor or relink it to the full-length media"
                )
            if hi > info.duration_s + slack or lo >= info.duration_s:
                raise MediaRangeError(
                    f"{where}, past the end of the media ({info.duration_s:.3f} s); "
                    "trim the clip's out point in the editor or relink it to the full-length media"
                )


def _deinterlacer(stream: av.video.stream.VideoStream) -> av.filter.Graph:
    graph = av.filter.Graph()
    src = graph.add_buffer(template=stream)
    bwdif = graph.add("bwdif", "mode=send_frame:parity=auto:deint=interlaced")
    sink = graph.add("buffersink")
    src.link_to(bwdif)
    bwdif.link_to(sink)
    graph.configure()
    return graph


def _frames(container, stream, deinterlace: list[bool]):
    """Decoded frames, passed through a bwdif deinterlacer once an interlaced frame shows up."""
    graph = None
    for frame in container.decode(stream):
        if graph is None and frame.interlaced_frame:
            graph = _deinterlacer(stream)
            deinterlace[0] = True
        if graph is None:
            yield frame
            continue
        graph.push(frame)
        yield from _drain(graph)
    if graph is not None:
        graph.push(None)
        yield from _drain(graph)


def _drain(graph):
    while True:
        try:
            yield graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return


def decode_grids(
    path: str,
    start_s: float,
    end_s: float,
    grid_fps: Sequence[float],
    preprocess: PreprocessConfig,
    *,
    native_sink: NativeSink | None = None,
    native_width: int = 256,
    sequence_rate: float | None = None,
) -> DecodedGrids:
    """Decode [start_s, end_s) once and return the frames on screen at each grid's times.

    `native_sink(t_rel, bgr)` receives every frame shown inside the range (the one on screen at
    `start_s` first), downscaled to `native_width` wide, BGR uint8, with its time relative to
    `start_s` (clamped at 0).
    """
    duration = end_s - start_s
    targets = {fps: start_s + np.arange(max(1, math.ceil(duration * fps - 1e-9))) / fps for fps in grid_fps}
    picks: dict[float, np.ndarray] = {fps: np.full(len(t), -1, dtype=np.int64) for fps, t in targets.items()}
    nxt = dict.fromkeys(targets, 0)
    crops: list[np.ndarray] = []
    interlaced = [False]
    n_decoded = 0
    with _open(path, sequence_rate) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        t0 = _stream_start(stream)
        info_duration = _duration(container, stream)
        if start_s > 0.5 and not is_image_sequence(path):
            container.seek(int((start_s + t0) / stream.time_base), stream=stream, backward=True)
        plan: ResizePlan | None = None
        # One reformatter per output keeps its swscale context across frames; `frame.to_ndarray(width=…)`
        # builds a new one per frame, which cost 7-8 ms of a 720p frame's ~1 ms of scaling.
        to_grid, to_native = VideoReformatter(), VideoReformatter()
        prev = None  # (frame, time) of the last frame at or before the cursor
        small_hw: tuple[int, int] | None = None

        def settle(frame, t_frame: float, t_next: float) -> None:
            """`frame` is on screen during [t_frame, t_next): give it to every grid time in there."""
            nonlocal plan, small_hw
            row = -1
            for fps, times in targets.items():
                i = nxt[fps]
                while i < len(times) and times[i] < t_next - 1e-6:
                    if row < 0:
                        if plan is None:
                            sar = float(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else 1.0
                            plan = ResizePlan.for_stream(
                                preprocess, frame.width, frame.height, sar, frame.rotation or 0
                            )
                        rgb = to_grid.reformat(
                            frame,
                            width=plan.scale_w,
                            height=plan.scale_h,
                            format="rgb24",
                            interpolation=plan.interpolation,
                        ).to_ndarray()
                        crops.append(plan.crop(rgb))
                        row = len(crops) - 1
                    picks[fps][i] = row
                    i += 1
                nxt[fps] = i
            if native_sink is not None and t_next > start_s + 1e-6:
                if small_hw is None:
                    rot = int(round((frame.rotation or 0) / 90.0)) % 4
                    h = max(2, round(native_width * frame.height / frame.width))
                    small_hw = (h, native_width, rot)
                h, w, rot = small_hw
                bgr = to_native.reformat(
                    frame, width=w, height=h, format="bgr24", interpolation="AREA"
                ).to_ndarray()
                native_sink(max(0.0, t_frame - start_s), np.rot90(bgr, rot) if rot else bgr)

        done = False
        frames = _frames(container, stream, interlaced)
        try:
            for frame in frames:
                n_decoded += 1
                if frame.time is None:
                    continue
                t = frame.time - t0
                if prev is not None:
                    if t <= prev[1]:  # duplicate / out-of-order timestamp: keep the newer picture
                        prev = (frame, prev[1])
                        continue
                    settle(prev[0], prev[1], t)
                elif t > start_s:
                    t = start_s  # nothing earlier was decodable: this frame covers the start
                if t >= end_s - 1e-6:
                    done = True
                    break
                prev = (frame, t)
        except av.error.FFmpegError as exc:
            at = prev[1] if prev is not None else start_s
            raise MediaTruncatedError(
                f"{path}: decoding failed at about {at:.2f} s ({exc}); the file is damaged or truncated, "
                "re-copy or re-render it"
            ) from exc
        finally:
            frames.close()  # finish the decode generator while its container is still open
            # Stopping mid-stream leaves frames inside the frame-threaded decoder; freeing it in
            # that state deadlocked once torchvision was loaded in the process. Flush first.
            stream.codec_context.flush_buffers()
        if not done and prev is not None:  # end of file: the last frame lasts one frame duration
            last = prev[0]
            dur = float(last.duration * last.time_base) if last.duration else 1.0 / _rate(stream)
            settle(last, prev[1], min(end_s, prev[1] + 1.5 * dur))
            del last
        got = prev[1] if prev is not None else 0.0
        prev = frame = None  # free decoded frames before their decoder closes
    if any((p < 0).any() for p in picks.values()) or got == 0.0 and n_decoded == 0:
        raise MediaTruncatedError(
            f"{path}: decoding stopped at {got:.2f} s, before the range end {end_s:.2f} s "
            f"(the file claims {info_duration:.2f} s); the file is truncated, re-copy or re-render it"
        )
    return DecodedGrids(np.stack(crops), picks, n_decoded, interlaced[0])
