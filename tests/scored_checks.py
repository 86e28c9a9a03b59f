"""What every scored timeline must satisfy, checked on real files read back with OTIO."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import opentimelineio as otio
import soundfile

from engine.in_process import InProcessEngine
from vm_editor.scoring import plan_cues
from vm_editor.writeback import METADATA_KEY, score_track


def check_scored(original_path: Path, scored_path: Path, cues: str = "auto") -> list[dict]:
    """Music clips line up with the planned cues to the frame (`cues` as given to `score`); WAVs
    exist, are 48 kHz and as long as the cue plus its handle."""
    original = otio.adapters.read_from_file(str(original_path))
    scored = otio.adapters.read_from_file(str(scored_path))
    engine = InProcessEngine() if cues == "auto" else None
    scenes = plan_cues(original, mode=cues, timeline_path=original_path, engine=engine).scenes
    assert len(scored.tracks) == len(original.tracks) + 1
    for before, after in zip(original.tracks, scored.tracks, strict=False):
        assert before.name == after.name and before.kind == after.kind
        assert [c.name for c in before] == [c.name for c in after]
        ranges = [[t.range_of_child_at_index(i) for i in range(len(t))] for t in (before, after)]
        assert ranges[0] == ranges[1]
    music = score_track(scored)
    assert music is not None and music.kind == otio.schema.TrackKind.Audio
    clips = list(music.find_clips(shallow_search=True))
    assert len(clips) == len(scenes)
    infos = []
    for scene, music_clip in zip(scenes, clips, strict=True):
        record = music.range_of_child(music_clip)
        rate = scene.record_range.duration.rate
        assert record.start_time.rescaled_to(rate).value == scene.record_range.start_time.value
        assert record.duration.rescaled_to(rate).value == scene.record_range.duration.value
        meta = music_clip.metadata[METADATA_KEY]
        assert {"preset", "seed", "prompt", "take", "source_hash", "engine_version"} <= set(meta)
        wav = Path(unquote(urlparse(music_clip.media_reference.target_url).path))
        assert wav.is_file(), wav
        info = soundfile.info(str(wav))
        assert info.samplerate == 48000
        handle = float(meta.get("handle_s", 0.0))  # music rendered past the end, for crossfades
        assert abs(info.frames / 48000 - handle - record.duration.to_seconds()) <= 1 / rate
        infos.append({"wav": wav, "frames": info.frames, "meta": dict(meta)})
    return infos


def mix_score_track(scored_path: Path, rate: int = 48000) -> tuple[np.ndarray, list[int], list[int]]:
    """The score track as an NLE plays it (mono): clips at their record times, each dissolve a
    linear crossfade from the cut into the outgoing clip's handle. Returns the mix, the sample of
    every cut between touching cues, and the sample where each crossfade ends."""
    scored = otio.adapters.read_from_file(str(scored_path))
    track = score_track(scored, scored_path)
    length = int(round(track.duration().to_seconds() * rate)) + rate * 4
    mix = np.zeros(length, np.float64)
    children = list(track)
    cuts, fade_ends = [], []
    for i, child in enumerate(children):
        if not isinstance(child, otio.schema.Clip):
            continue
        record = track.range_of_child_at_index(i)
        start = int(round(record.start_time.to_seconds() * rate))
        n = int(round(record.duration.to_seconds() * rate))
        audio, sr = soundfile.read(_wav(child), dtype="float64", always_2d=True)
        assert sr == rate
        audio = audio.mean(axis=1)
        before = children[i - 1] if i > 0 else None
        after = children[i + 1] if i + 1 < len(children) else None
        gain = np.ones(n)
        if isinstance(before, otio.schema.Transition):
            h = int(round(before.out_offset.to_seconds() * rate))
            gain[:h] = np.linspace(0.0, 1.0, h, endpoint=False)
            cuts.append(start)
            fade_ends.append(start + h)
        if isinstance(after, otio.schema.Transition):
            h = int(round(after.out_offset.to_seconds() * rate))
            assert after.in_offset.value == 0 and len(audio) >= n + h, "the dissolve needs a tail handle"
            gain = np.concatenate([gain, 1.0 - np.linspace(0.0, 1.0, h, endpoint=False)])
        take = audio[: len(gain)]
        mix[start : start + len(take)] += take * gain[: len(take)]
    return mix[: int(round(track.duration().to_seconds() * rate))], cuts, fade_ends


def _wav(clip: otio.schema.Clip) -> str:
    return unquote(urlparse(clip.media_reference.target_url).path)


def seam_report(mix: np.ndarray, cuts: list[int], window: int = 48) -> dict:
    """Click check at every cut between touching cues: the largest sample step into or out of the
    cut's sample, against the 99.9th percentile of steps inside the cues (1 ms off every cut). Not
    the 99th: the cut is a hit point, so a drum's attack may start on that very sample, and a
    drum attack is among the steepest thousandth of a cue's steps, not a click."""
    steps = np.abs(np.diff(mix))
    inside = np.ones(len(steps), bool)
    for c in cuts:
        inside[max(0, c - window) : c + window] = False
    p999 = float(np.percentile(steps[inside], 99.9))
    return {"p999_inside": p999, "max_step_at_seams": [float(steps[c - 1 : c + 1].max()) for c in cuts]}


def handle_loudness_steps(scored_path: Path, rate: int = 48000, window_s: float = 0.5) -> list[float]:
    """Per cue with a handle: loudness (dB RMS) of its handle minus its last `window_s` before the
    end: a real handle is music going on, not silence or a fade the crossfade would dip into."""
    track = score_track(otio.adapters.read_from_file(str(scored_path)), scored_path)
    out = []
    for clip in track.find_clips(shallow_search=True):
        audio, _ = soundfile.read(_wav(clip), dtype="float64", always_2d=True)
        audio = audio.mean(axis=1)
        n, w = int(round(clip.source_range.duration.to_seconds() * rate)), int(window_s * rate)
        if len(audio) - n >= w:
            rms = [np.sqrt(np.mean(x**2)) + 1e-9 for x in (audio[n - w : n], audio[n : n + w])]
            out.append(float(20 * np.log10(rms[1] / rms[0])))
    return out
