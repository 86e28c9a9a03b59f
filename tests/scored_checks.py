"""What every scored timeline must satisfy, checked on real files read back with OTIO."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio
import soundfile

from vm_editor.scenes import extract_scenes
from vm_editor.writeback import METADATA_KEY, score_track


def check_scored(original_path: Path, scored_path: Path) -> list[dict]:
    """Music clips line up with the scenes to the frame; WAVs exist, are 48 kHz and long enough."""
    original = otio.adapters.read_from_file(str(original_path))
    scored = otio.adapters.read_from_file(str(scored_path))
    scenes = extract_scenes(original, timeline_path=original_path).scenes
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
