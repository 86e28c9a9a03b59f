"""What the panel shows per cue before scoring: a still, the rhythm curve (peaks), the cuts.

One function for both engines (the service's `/media/preview` and `InProcessEngine.preview`).
"""

from __future__ import annotations

import base64
import math

from engine.api import TOKEN_RATE, Preview


def media_preview(path: str, start_s: float, end_s: float, points: int = 120) -> Preview:
    from engine.features import rhythm_for_media
    from engine.media import is_still, probe_media
    from engine.thumbnails import thumbnail_png

    if is_still(probe_media(path)):  # a still image held on screen: its frame, and no motion
        frames = max(1, math.ceil(max(end_s - start_s, 0.0) * TOKEN_RATE))
        doc = {"curve": [0.0] * frames, "cuts_s": []}
    else:
        doc = rhythm_for_media(path, start_s, end_s)
    curve = doc["curve"]
    step = max(1, math.ceil(len(curve) / max(points, 1)))
    peaks = tuple(float(max(curve[i : i + step])) for i in range(0, len(curve), step))
    png = thumbnail_png(path, start_s, end_s)
    return Preview(
        rhythm=peaks,
        cuts_s=tuple(float(t) for t in doc["cuts_s"]),
        thumbnail_png_base64=base64.b64encode(png).decode(),
    )
