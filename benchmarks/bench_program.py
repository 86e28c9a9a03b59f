"""The feature step over a multi-shot cue vs the same footage as one file, side by side, cold cache.

Footage is generated with PyAV: three shots, each cut from the middle of its own H.264 file at its
own rate (24, 25 and 29.97 fps, 640x360, GOP 25), and the same pictures (same content, same
seconds) as one 25 fps file. The cue over the three files is a program of three segments with two
edit points; the one-file cue is a single segment. Each run uses a fresh feature-cache folder, so
every repetition decodes and encodes; the two cases alternate, and the median of each is kept.

Target (issue 15): the multi-shot cue costs at most 15 % more. The ratio is one file / multi-shot
(larger is better; 0.87 is the 15 % line).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

SIZE = (640, 360)
SHOT_S = 3.0  # seconds of each shot in the cue
FILE_S = 6.0  # each source file; shots start 1.5 s in (a seek past the first keyframe)
SHOT_IN_S = 1.5
RATES = (Fraction(24), Fraction(25), Fraction(30000, 1001))
REPS = 5


def _picture(shot: int, t: float) -> np.ndarray:
    """Shot `shot` at its own second `t`: a coloured texture with a bar moving over it."""
    width, height = SIZE
    rng = np.random.default_rng(shot)
    base = rng.integers(30, 220, size=3)
    texture = rng.integers(0, 50, size=(height // 8, width // 8, 1)).repeat(8, 0).repeat(8, 1)
    img = np.clip(base[None, None, :] + texture, 0, 255).astype(np.uint8)
    x = int(t * 120 + shot * 90) % (width - 24)
    img[:, x : x + 24] = 255 - base
    return img


def _write(path: Path, rate: Fraction, pictures) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "25"}
        for i, img in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _footage(folder: Path):
    """(multi-shot program, one-file program) over the same pictures."""
    from engine.api import CueProgram, EditPointSpec, ProgramSegmentSpec

    segments = []
    for shot, rate in enumerate(RATES):
        path = folder / f"shot{shot}_{float(rate):.3f}fps.mp4"
        frames = int(FILE_S * rate)
        _write(path, rate, (_picture(shot, i / float(rate)) for i in range(frames)))
        lo = shot * SHOT_S
        segments.append(ProgramSegmentSpec(str(path), SHOT_IN_S, SHOT_IN_S + SHOT_S, lo, lo + SHOT_S))
    total = SHOT_S * len(RATES)
    edits = tuple(EditPointSpec(shot * SHOT_S) for shot in range(1, len(RATES)))
    multi = CueProgram(total, tuple(segments), edits)

    one_path = folder / "one_file_25fps.mp4"
    n = int(total * 25)
    _write(
        one_path,
        Fraction(25),
        (_picture(int(i / 25 // SHOT_S), SHOT_IN_S + (i / 25) % SHOT_S) for i in range(n)),
    )
    one = CueProgram(total, (ProgramSegmentSpec(str(one_path), 0.0, total, 0.0, total),))
    return multi, one


def run() -> dict:
    from engine.program_features import program_features

    work = Path(tempfile.mkdtemp(prefix="bench-program-"))
    multi, one = _footage(work)

    def timed(program, rep: int, name: str) -> float:
        cache = work / f"cache-{name}-{rep}"  # cold: a new, empty cache folder every time
        t0 = time.perf_counter()
        features = program_features(program, preset="tiny", cache_dir=cache)
        elapsed = time.perf_counter() - t0
        assert features.cls_1fps.shape[0] == int(program.duration_s)
        return elapsed

    timed(one, -1, "warmup")  # loads the encoder once, outside the measurement
    times: dict[str, list[float]] = {"multi": [], "one": []}
    for rep in range(REPS):
        order = ("multi", "one") if rep % 2 == 0 else ("one", "multi")
        for name in order:
            times[name].append(timed(multi if name == "multi" else one, rep, name))
    t_multi, t_one = statistics.median(times["multi"]), statistics.median(times["one"])
    overhead = t_multi / t_one - 1.0
    return {
        "name": "program",
        "ratios": {"feature_step_one_file_vs_multi_shot": round(t_one / t_multi, 3)},
        "figures": {
            "footage": (
                f"3 shots x {SHOT_S:g} s cut from files at 24, 25, 29.97 fps ({SIZE[0]}x{SIZE[1]}, GOP 25, "
                f"{SHOT_IN_S:g} s in) vs the same pictures as one 25 fps file"
            ),
            "multi_shot_s": round(t_multi, 3),
            "one_file_s": round(t_one, 3),
            "multi_shot_overhead_pct": round(100 * overhead, 1),
            "target_overhead_pct": 15.0,
            "meets_target": overhead <= 0.15,
            "repetitions": REPS,
            "multi_shot_runs_s": [round(t, 3) for t in times["multi"]],
            "one_file_runs_s": [round(t, 3) for t in times["one"]],
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
