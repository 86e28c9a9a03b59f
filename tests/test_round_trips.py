"""score → regenerate → regenerate → re-score, in every format we write back, read back right.

Each step runs the real CLI in-process with the tiny preset on 2 s of generated footage (three
clips: 20, 15 and 15 frames at 25 fps). After the four steps the file must hold exactly one score
track and one takes track whose clips are all disabled, every clip's recipe, and only the names
`cut.<ext>` (the user's, untouched) and `cut.scored.<ext>`.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.timeline_builders import clip, timeline_of, video_track
from vm_editor.timeline_io import read_timeline
from vm_editor.writeback import METADATA_KEY, score_track

FORMATS = [".otio", ".xml", ".fcpxml", ".kdenlive"]


def vm_editor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args], capture_output=True, text=True, timeout=900
    )


def _fcpxml(media: Path) -> str:
    """A Final Cut 1.10 project starting at 01:00:00:00 over the same three clips."""
    url = media.resolve().as_uri()
    clips = "".join(
        f'<asset-clip ref="r2" offset="{3600 * 25 + lo}/25s" name="{name}" start="{src}/25s" '
        f'duration="{n}/25s"/>'
        for name, lo, n, src in (("a", 0, 20, 0), ("b", 20, 15, 30), ("c", 35, 15, 55))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.10"><resources>'
        '<format id="r1" name="FFVideoFormat1080p25" frameDuration="100/2500s"/>'
        '<asset id="r2" name="shots" start="0s" duration="3s" hasVideo="1" format="r1">'
        f'<media-rep kind="original-media" src="{url}"/></asset></resources>'
        '<library><event name="e"><project name="cut">'
        '<sequence format="r1" duration="50/25s" tcStart="3600s" tcFormat="NDF">'
        f"<spine>{clips}</spine></sequence></project></event></library></fcpxml>\n"
    )


def _input(folder: Path, suffix: str, media: Path) -> Path:
    path = folder / f"cut{suffix}"
    if suffix == ".fcpxml":
        path.write_text(_fcpxml(media))
        return path
    tl = timeline_of(
        video_track(
            clip("a", media, 0, 20, 25, 75),  # three shots, not one continuous run of the media
            clip("b", media, 30, 15, 25, 75),
            clip("c", media, 55, 15, 25, 75),
        )
    )
    otio.adapters.write_to_file(tl, str(path))
    return path


def _tracks(path: Path):
    tl = read_timeline(path)
    ours = [t for t in tl.tracks if METADATA_KEY in t.metadata]
    return tl, ours


@pytest.mark.slow
@pytest.mark.parametrize("suffix", FORMATS)
def test_score_regenerate_regenerate_rescore(suffix, tmp_path, shots_video):
    source = _input(tmp_path, suffix, shots_video)
    original = hashlib.sha256(source.read_bytes()).hexdigest()
    scored = tmp_path / f"cut.scored{suffix}"
    common = ("--in-process", "--crossfade", "0.2", "--cues", "per-clip")

    steps = [
        ("score", str(source), *common),
        ("regenerate", str(scored), "--cue", "1", "--in-process"),
        ("regenerate", str(scored), "--cue", "1", "--in-process"),
        ("score", str(scored), *common, "--seed", "11", "--force", "--fresh"),  # all cues anew
    ]
    for step in steps:
        result = vm_editor(*step)
        assert result.returncode == 0, (step, result.stderr)
        assert f"wrote {scored}" in result.stdout, result.stdout

    assert hashlib.sha256(source.read_bytes()).hexdigest() == original  # the user's file: untouched
    timelines = sorted(p.name for p in tmp_path.iterdir() if p.suffix == suffix)
    assert timelines == sorted([f"cut{suffix}", f"cut.scored{suffix}"])  # no growing names

    tl, ours = _tracks(scored)
    score = [t for t in ours if t.metadata[METADATA_KEY].get("score")]
    takes = [t for t in ours if t.metadata[METADATA_KEY].get("takes")]
    # cue 1's three earlier takes overlap: three takes tracks, every take a clip on one of them
    assert len(score) == 1 and len(takes) == 3, [t.name for t in tl.tracks]
    assert score_track(tl, scored) is score[0]
    cues = list(score[0].find_clips(shallow_search=True))
    assert [c.metadata[METADATA_KEY]["cue_index"] for c in cues] == [0, 1, 2]
    assert all(c.enabled for c in cues)
    old = [c for t in takes for c in t.find_clips(shallow_search=True)]
    assert old and not any(c.enabled for c in old)  # earlier takes never play
    assert all("cue_index" in c.metadata[METADATA_KEY] for c in old)
    # every earlier take of every cue, at its record range; cue 1's history also rides in metadata
    got = sorted((c.metadata[METADATA_KEY]["cue_index"], c.metadata[METADATA_KEY]["take"]) for c in old)
    assert got == [(0, 1), (1, 1), (1, 2), (1, 3), (2, 1)]
    cue1 = next(
        c for c in old if c.metadata[METADATA_KEY]["cue_index"] == 1 and c.metadata[METADATA_KEY]["take"] == 3
    )
    assert [p["take"] for p in cue1.metadata[METADATA_KEY]["previous_takes"]] == [1, 2]
    first = next(c for c in old if c.metadata[METADATA_KEY]["cue_index"] == 0)
    assert first.metadata[METADATA_KEY]["seed"] != cues[0].metadata[METADATA_KEY]["seed"]  # --seed 11
    sidecar = scored.with_name(scored.name + ".vidmusician.json")
    assert sidecar.is_file() == (suffix == ".kdenlive")  # the last resort only
