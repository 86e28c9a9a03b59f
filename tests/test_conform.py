"""Conform: re-scoring a recut keeps each cue whose pictures did not change (its WAV, take, seed,
prompt and takes), scores the rest continuing from kept neighbours, and says so."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.timeline_builders import clip, timeline_of, video_track
from tests.timeline_helpers import cues_for
from vm_editor import conform, scoring
from vm_editor.scenes import to_engine_scene
from vm_editor.score_track import add_or_replace_score, read_score
from vm_editor.writeback import METADATA_KEY, add_score_track, placed_clips, score_track, takes_tracks

RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange


def _cut(media: Path, lengths=(28, 24, 24, 20)) -> otio.schema.Timeline:
    starts = (0, 30, 50, 55)
    return timeline_of(
        video_track(*(clip(f"s{i}", media, starts[i], n, 25, 75) for i, n in enumerate(lengths)))
    )


def _plan(tl, path):
    return scoring.plan_cues(tl, mode="per-clip", timeline_path=path)


def test_match_keeps_unchanged_cues_wherever_they_moved(tmp_path, shots_video):
    path = tmp_path / "cut.otio"
    tl = _cut(shots_video)
    plan = _plan(tl, path)
    cues = [
        dataclasses.replace(c, source_hash=to_engine_scene(s).source_hash())
        for c, s in zip(cues_for(plan, tmp_path), plan.scenes, strict=True)
    ]
    cues[1] = dataclasses.replace(cues[1], take=2, prompt="brighter", seed=41)
    scored = add_score_track(tl, plan.scenes, cues)

    # the editor trims shot 1 by 6 frames (ripple) and deletes nothing else: cue 0 unchanged in
    # place, cue 1 changed, cues 2 and 3 unchanged but 6 frames earlier
    recut = scored.tracks[0][1]
    recut.source_range = TR(recut.source_range.start_time, RT(18, 25))
    new_plan = _plan(scored, path)
    matched, old_index = conform.match(
        new_plan.scenes, read_score(scored), preset="tiny", hits=True, stems=False
    )
    assert sorted(matched.kept) == [0, 2, 3] and old_index == {0: 0, 2: 2, 3: 3}
    assert matched.regenerated == (1,) and matched.new == () and matched.removed == ()
    assert matched.kept[0].wav_path == cues[0].wav_path and matched.kept[2].wav_path == cues[2].wav_path
    assert matched.moved[(52, 76)] == new_plan.scenes[2].record_range  # 46..70 now
    assert matched.report(old_index)[0] == "conform: 3 kept, 0 re-fit, 1 regenerated, 0 new, 0 removed"

    # another preset, or a missing WAV, is no match
    other, _ = conform.match(new_plan.scenes, read_score(scored), preset="base", hits=True, stems=False)
    assert not other.kept
    Path(cues[3].wav_path).unlink()
    gone, _ = conform.match(new_plan.scenes, read_score(scored), preset="tiny", hits=True, stems=False)
    assert sorted(gone.kept) == [0, 2]

    # write-back: the kept cues play on the score track (not also as takes), their takes move along
    fresh = cues_for(new_plan, tmp_path / "..")  # stand-ins for the engine's new cues 1 and 3
    new_cues = sorted([fresh[1], fresh[3], *gone.kept.values()], key=lambda c: c.index)
    out = add_or_replace_score(scored, new_plan.scenes, new_cues, moved=gone.moved)
    conform.keep_history(out, gone)
    playing = [c.media_reference.target_url for c in score_track(out).find_clips()]
    shelved = [c.media_reference.target_url for t in takes_tracks(out) for _, c in placed_clips(t)]
    assert Path(cues[0].wav_path).resolve().as_uri() in playing
    assert Path(cues[0].wav_path).resolve().as_uri() not in shelved
    assert Path(cues[1].wav_path).resolve().as_uri() in shelved  # the changed cue's take stays


@pytest.mark.slow
def test_rescoring_a_recut_keeps_the_unchanged_cues(tmp_path, shots_video):
    """score -> regenerate cue 1 with a prompt -> trim the last shot by 6 frames -> score again."""

    def cli(*args):
        result = subprocess.run(
            [sys.executable, "-m", "vm_editor.cli", *args, "--in-process"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
        return result

    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(_cut(shots_video, (28, 24, 24)), str(source))
    scored = tmp_path / "cut.scored.otio"
    cli("score", str(source), "--cues", "per-clip")
    cli("regenerate", str(scored), "--cue", "1", "--prompt", "brighter")
    before = {c.index: c.takes for c in read_score(otio.adapters.read_from_file(str(scored)))}
    wav = {i: Path(t[-1]["wav_url"].removeprefix("file://")) for i, t in before.items()}
    digests = {i: hashlib.sha256(w.read_bytes()).hexdigest() for i, w in wav.items()}

    recut = otio.adapters.read_from_file(str(scored))
    last = recut.tracks[0][2]
    last.source_range = TR(last.source_range.start_time, RT(18, 25))
    recut_path = tmp_path / "recut.otio"
    otio.adapters.write_to_file(recut, str(recut_path))
    result = cli("score", str(recut_path), "--cues", "per-clip")
    assert "conform: 2 kept, 0 re-fit, 1 regenerated, 0 new, 0 removed" in result.stderr
    assert "scoring 1 scene(s)" in result.stderr

    out = otio.adapters.read_from_file(str(tmp_path / "recut.scored.otio"))
    after = {c.index: c.takes for c in read_score(out)}
    for i in (0, 1):  # same file, same bytes, same take, seed and prompt, same earlier takes
        assert after[i][-1]["wav_url"] == before[i][-1]["wav_url"]
        assert hashlib.sha256(wav[i].read_bytes()).hexdigest() == digests[i]
        for key in ("take", "seed", "prompt"):
            assert after[i][-1][key] == before[i][-1][key]
    assert after[1][-1]["prompt"] == "brighter" and after[1][-1]["take"] == 2
    assert [t["take"] for t in after[1]] == [1, 2]
    assert after[2][-1]["wav_url"] != before[2][-1]["wav_url"]  # the trimmed cue is new music
    music = score_track(out)
    new_cue = next(c for c in music.find_clips() if c.metadata[METADATA_KEY]["cue_index"] == 2)
    assert new_cue.trimmed_range().duration.value == 18
    end = out.tracks[0].duration().value
    assert all(r.end_time_exclusive().value <= end for t in takes_tracks(out) for r, _ in placed_clips(t))
