"""Writing a synthetic clip's video: H.264 with PyAV.

Why its own module: the writer goes through a temporary name and `os.replace`, so an interrupted
run never leaves a file that looks complete (the corpus resumes by trusting complete files).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def write_video(frames: np.ndarray, fps: int, path: Path) -> None:
    """Encode (T, H, W, 3) uint8 frames as yuv420p H.264 (MPEG-4 part 2 if libx264 is missing)."""
    import av

    tmp = path.with_name(path.name + ".part")
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "18"}
        else:
            stream.bit_rate = 4_000_000
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, path)
