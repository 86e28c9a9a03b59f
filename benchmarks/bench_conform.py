"""Conform vs scoring on one 60 s cut: what a recut costs when the music is kept or re-fit.

Footage is generated with PyAV (three 25 fps files, twelve 5 s shots cut from them); the cut is
scored in process as six 10 s cues (`--cues per-clip`, two shots each). Then, in the same warm
process, through `vm_editor.cli.main` as an editor runs it:
- score: the cut scored again from scratch (warm: the models loaded by a first score);
- conform, every cue kept: `vm-editor conform OLD NEW` with NEW the same cut (median of 3);
- conform, one cue re-fit: NEW with one shot trimmed by 4 frames (median of 3);
- regenerate: one 10 s cue of the scored cut, a new seed each time (median of 3).
Each is a real-time factor (program seconds per wall second). Targets (issue 27): a 60 s cut
scored warm in at most 10 s, a conform that keeps every cue in at most 1 s, one cue regenerated in
at most 2 s; each ratio is the target over the measured time (larger is better, 1 = on target).
"""

from __future__ import annotations

import contextlib
import io
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

RATE = 25
SHOT_S = 5
SHOTS = 12
REPS = 3
TRIM_FRAMES = 4  # 0.16 s of a 5 s shot: a 3.2 % tempo change (6 frames would be 4.8 %: regenerated)


def _write_file(path: Path, seed: int, seconds: int) -> Path:
    """An H.264 file whose 5 s shots differ in colour and texture, with a bar moving over them."""
    import av

    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(RATE))
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "25"}
        for shot in range(seconds // SHOT_S):
            base = rng.integers(0, 256, size=3)
            texture = rng.integers(0, 60, size=(96, 160, 1))
            for i in range(SHOT_S * RATE):
                img = np.clip(base[None, None, :] + texture, 0, 255).astype(np.uint8)
                x = (i * 4 + shot * 17) % 152
                img[:, x : x + 8] = 255 - base
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = shot * SHOT_S * RATE + i
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _cut(files: list[Path], trim_frames: int = 0):
    """Twelve 5 s shots taken in turn from three files (4 shots each); shot 2 `trim_frames` shorter."""
    import opentimelineio as otio

    rt, tr = otio.opentime.RationalTime, otio.opentime.TimeRange
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for shot in range(SHOTS):
        media = files[shot % 3]
        length = SHOT_S * RATE - (trim_frames if shot == 2 else 0)
        start = (shot // 3) * SHOT_S * RATE
        track.append(
            otio.schema.Clip(
                name=f"shot{shot}",
                media_reference=otio.schema.ExternalReference(
                    target_url=media.resolve().as_uri(),
                    available_range=tr(rt(0, RATE), rt(4 * SHOT_S * RATE, RATE)),
                ),
                source_range=tr(rt(start, RATE), rt(length, RATE)),
            )
        )
    timeline = otio.schema.Timeline(name="bench", global_start_time=rt(0, RATE))
    timeline.tracks.append(track)
    return timeline


def _timed(argv: list[str], says: str | None = None) -> float:
    """Seconds `vm-editor ARGV --in-process` takes; its report must say `says` (what was kept)."""
    from vm_editor.cli import main

    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        code = main([*argv, "--in-process"])
    took = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"vm-editor {' '.join(argv[:1])} failed: {err.getvalue()[-500:]}")
    if says is not None and says not in err.getvalue():
        raise RuntimeError(f"vm-editor {argv[0]} did not say {says!r}: {err.getvalue()[-500:]}")
    return took


def run() -> dict:
    import opentimelineio as otio

    merges = [arg for k in range(0, SHOTS, 2) for arg in ("--merge", f"{k}-{k + 1}")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "media").mkdir()
        cut, trimmed = root / "cut.otio", root / "trimmed.otio"
        files = [_write_file(root / "media" / f"file{k}.mp4", k, 4 * SHOT_S) for k in range(3)]
        otio.adapters.write_to_file(_cut(files), str(cut))
        otio.adapters.write_to_file(_cut(files, trim_frames=TRIM_FRAMES), str(trimmed))
        program_s = SHOTS * SHOT_S
        _timed(["score", str(cut), "-o", str(root / "warmup.otio"), "--cues", "per-clip", *merges])
        score_s = _timed(["score", str(cut), "-o", str(root / "old.otio"), "--cues", "per-clip", *merges])
        old = str(root / "old.otio")
        keep = [_timed(["conform", old, str(cut), "-o", str(root / f"keep{k}.otio")]) for k in range(REPS)]
        refit = [
            _timed(["conform", old, str(trimmed), "-o", str(root / f"fit{k}.otio")]) for k in range(REPS)
        ]
        regen = [
            _timed(["regenerate", old, "--cue", "2", "--seed", str(100 + k), "-o", str(root / f"re{k}.otio")])
            for k in range(REPS)
        ]
    keep_s, refit_s, regen_s = statistics.median(keep), statistics.median(refit), statistics.median(regen)
    return {
        "name": "conform",
        "ratios": {
            "score_60s_target_10s_over_measured": round(10.0 / score_s, 2),
            "conform_keep_all_target_1s_over_measured": round(1.0 / keep_s, 2),
            "regenerate_one_target_2s_over_measured": round(2.0 / regen_s, 2),
            "conform_keep_all_over_score_time": round(score_s / keep_s, 1),
            "conform_refit_one_over_score_time": round(score_s / refit_s, 1),
        },
        "figures": {
            "program_s": program_s,
            "cues": SHOTS // 2,
            "score_warm_s": round(score_s, 3),
            "score_warm_x_real_time": round(program_s / score_s, 2),
            "conform_keep_all_s": round(keep_s, 3),
            "conform_keep_all_x_real_time": round(program_s / keep_s, 1),
            "conform_refit_one_s": round(refit_s, 3),
            "conform_refit_one_x_real_time": round(program_s / refit_s, 1),
            "regenerate_one_10s_cue_s": round(regen_s, 3),
            "repeats": REPS,
        },
    }
