"""`vm-editor regenerate`: one cue gets a new take that continues from the cue before it and
crossfades into the one after; the old take stays, disabled; no other cue file changes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import librosa
import numpy as np
import opentimelineio as otio

from tests.scored_checks import handle_loudness_steps, mix_score_track, seam_report
from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor import scoring
from vm_editor.timeline_io import read_timeline
from vm_editor.writeback import METADATA_KEY, cue_metadata, score_track

RATE = 48000


def vm_editor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args], capture_output=True, text=True, timeout=600
    )


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _continuity(a: np.ndarray, b: np.ndarray) -> dict:
    """How alike the music is on both sides of a boundary: chroma cosine and loudness step (dB)."""
    chroma = [librosa.feature.chroma_stft(y=x.astype(np.float32), sr=RATE).mean(axis=1) for x in (a, b)]
    cosine = float(chroma[0] @ chroma[1] / max(np.linalg.norm(chroma[0]) * np.linalg.norm(chroma[1]), 1e-12))
    db = [20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-9) for x in (a, b)]
    return {"chroma_cosine": round(cosine, 3), "loudness_step_db": round(abs(db[0] - db[1]), 2)}


def test_regenerate_one_cue(tmp_path, shots_video):
    source = tmp_path / "cut.otio"
    tl = timeline_of(
        video_track(
            clip("a", shots_video, 0, 28, 25, 75),  # three shots (not one continuous run)
            clip("b", shots_video, 30, 24, 25, 75),
            clip("c", shots_video, 50, 24, 25, 75),
        )
    )
    otio.adapters.write_to_file(tl, str(source))
    scored = tmp_path / "cut.scored.otio"
    first = vm_editor("score", str(source), "-o", str(scored), "--in-process", "--cues", "per-clip")
    assert first.returncode == 0, first.stderr
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    cue_dir = tmp_path / "cut_scored_otio_cues"
    files_before = _digests(cue_dir)

    # the request: cue 1 continues from cue 0's saved tokens, at cue 0's length, with its handle
    cues = cue_metadata(read_timeline(scored), scored)
    regen = scoring.regenerate_request(
        read_timeline(scored), cues, 1, cue_dir=str(cue_dir), timeline_path=scored
    )
    (scene,) = regen.request.scenes
    assert scene.continue_from is not None and scene.continue_from.tokens_path == cues[0]["tokens_path"]
    assert abs(scene.continue_from.at_s - 28 / 25) < 1e-9 and scene.handle_s == cues[1]["handle_s"] > 0
    assert not regen.pictures_changed and regen.take == 2

    old_music = score_track(otio.adapters.read_from_file(str(scored)))
    result = vm_editor("regenerate", str(scored), "--cue", "1", "--in-process", "--prompt", "brighter")
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # the user's input is never touched
    files_after = _digests(cue_dir)
    assert {k: files_after[k] for k in files_before} == files_before  # every other cue file untouched
    assert len(files_after) == len(files_before) + 2  # the new take: its WAV and its tokens

    out = scored  # our own output is replaced in place: the name never grows
    new_tl = otio.adapters.read_from_file(str(out))
    new_music = score_track(new_tl)
    old_clips = list(old_music.find_clips(shallow_search=True))
    new_clips = list(new_music.find_clips(shallow_search=True))
    for k in (0, 2):
        assert new_clips[k].media_reference.target_url == old_clips[k].media_reference.target_url
    assert new_clips[1].media_reference.target_url != old_clips[1].media_reference.target_url
    meta = new_clips[1].metadata[METADATA_KEY]
    assert meta["take"] == 2 and meta["prompt"] == "brighter"
    assert meta["seed"] == old_clips[1].metadata[METADATA_KEY]["seed"] + 1
    assert new_music.range_of_child(new_clips[1]) == old_music.range_of_child(old_clips[1])
    takes = score_track(new_tl, takes=True)
    (old_take,) = list(takes.find_clips(shallow_search=True))
    assert (
        not old_take.enabled
        and old_take.media_reference.target_url == old_clips[1].media_reference.target_url
    )

    # the seams K-1/K and K/K+1 as the editor hears them: crossfades into real handles, no click
    mix, cuts, fade_ends = mix_score_track(out)
    assert cuts == [round(28 / 25 * RATE), round(52 / 25 * RATE)]
    seams = seam_report(mix, cuts)
    assert max(seams["max_step_at_seams"]) <= seams["p999_inside"], seams
    handles_db = handle_loudness_steps(out)
    # the cues that run into the next play on in their handles (the cut's accent at its start may
    # make one louder, never a dip); the last ends into silence: a cadence, its notes released
    assert len(handles_db) == 3 and all(-6.0 <= d <= 10.0 for d in handles_db[:2]), handles_db
    assert handles_db[2] < -6.0, handles_db
    half = RATE // 2
    figure = {
        "seams": seams,
        "handle_vs_tail_db": handles_db,
        "crossfade_ends_s": [e / RATE for e in fade_ends],
        "across_seam_0_1": _continuity(mix[cuts[0] - half : cuts[0]], mix[cuts[0] : cuts[0] + half]),
        "across_seam_1_2": _continuity(mix[cuts[1] - half : cuts[1]], mix[cuts[1] : cuts[1] + half]),
        "unrelated_boundary_2_0": _continuity(mix[-half:], mix[:half]),
    }
    print("continuity:", json.dumps(figure))
    (tmp_path / "continuity.json").write_text(json.dumps(figure, indent=2))

    again = vm_editor("regenerate", str(scored), "--cue", "7", "--in-process")
    assert again.returncode == 2 and again.stderr.startswith("error:") and "no cue 7" in again.stderr
