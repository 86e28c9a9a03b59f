"""Shared helpers for the timeline tests: real WAV cues and the tiling check."""

from __future__ import annotations

import wave
from pathlib import Path

import opentimelineio as otio

from engine.api import CueResult
from vm_editor.scenes import SceneList

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "timelines"
if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/samples/timelines")
EDL_RATES = {"25fps.edl": 25.0}


def write_wav(path: Path, seconds: float, rate: int = 48_000) -> int:
    """A real 48 kHz mono 16-bit WAV of a quiet ramp; returns its sample count."""
    n = max(int(round(seconds * rate)), 1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes((i // 7) % 256 for i in range(2 * n)))
    return n


def cues_for(scene_list: SceneList, folder: Path, handle_s: float = 0.0) -> list[CueResult]:
    """A cue per scene, its WAV rendered `handle_s` past the scene's end like the engine's."""
    cues = []
    for s in scene_list.scenes:
        seconds = s.record_range.duration.to_seconds()
        wav = folder / f"cue_{s.index:03d}.wav"
        n = write_wav(wav, seconds + handle_s) - round(handle_s * 48_000)
        cues.append(
            CueResult(
                index=s.index,
                name=s.name,
                wav_path=str(wav),
                duration_s=seconds,
                num_samples=n,
                sample_rate=48_000,
                preset="tiny",
                seed=7 + s.index,
                prompt="strings",
                take=1,
                source_hash=f"h{s.index}",
                engine_version="test",
                model_trained=False,
                handle_s=handle_s,
            )
        )
    return cues


def assert_tiles(scene_list: SceneList) -> None:
    """Scenes are whole frames, in order, disjoint, inside the track; with the gaps they tile it."""
    cursor = 0
    covered = 0
    for s in scene_list.scenes:
        lo = s.record_range.start_time.value
        n = s.record_range.duration.value
        assert lo == int(lo) and n == int(n) and n > 0, s
        assert s.record_range.start_time.rate == scene_list.rate
        assert lo >= cursor, (s, cursor)
        cursor = lo + n
        covered += n
    assert cursor <= scene_list.duration.value
    gaps = sum(g.duration.value for g in scene_list.gaps())
    assert covered + gaps == scene_list.duration.value


def track_signature(track: otio.schema.Track) -> list:
    """What must survive a round trip: name, kind and each child's kind and record range (frames)."""
    out = [track.kind]
    for i, child in enumerate(track):
        if isinstance(child, otio.schema.Transition):
            continue
        r = track.range_of_child_at_index(i)
        rate = r.start_time.rate
        dur = round(r.duration.rescaled_to(rate).value)
        out.append((type(child).__name__, round(r.start_time.value), dur))
    return out
