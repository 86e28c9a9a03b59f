"""A still from the middle of a scene, small enough for a panel row."""

from __future__ import annotations

import io

import av

from engine.errors import MediaError
from engine.media import probe_media


def thumbnail_png(path: str, start_s: float, end_s: float, height: int = 72) -> bytes:
    """PNG bytes of the frame on screen halfway through [start_s, end_s), `height` pixels tall."""
    info = probe_media(path)  # raises the specific MediaError for bad files
    target = min(max((start_s + end_s) / 2, 0.0), max(info.duration_s - 1e-3, 0.0))
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            container.seek(
                int(target / stream.time_base) if stream.time_base else 0, stream=stream, backward=True
            )
            image = None
            frames = container.decode(stream)
            for frame in frames:
                image = frame.to_image()
                if frame.time is not None and frame.time >= target:
                    break
            frames.close()
            # Stopping mid-stream leaves frames in the threaded decoder; freeing it like that
            # deadlocked with torchvision loaded (see engine.media). Flush before closing.
            stream.codec_context.flush_buffers()
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{path}: cannot decode a still at {target:.2f} s ({exc}); re-export the media"
        ) from exc
    if image is None:
        raise MediaError(f"{path}: no picture at {target:.2f} s; check the clip's source range")
    width = max(1, round(image.width * height / image.height))
    buffer = io.BytesIO()
    image.resize((width, height)).save(buffer, format="PNG")
    return buffer.getvalue()
