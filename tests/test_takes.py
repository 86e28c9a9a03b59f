"""Alternatives: take k of a cue opens in the pilot's k-th style for its pictures, or in a style
the prompt names, at the other end of that style's tempo range, so takes differ audibly."""

from __future__ import annotations

import numpy as np
import pytest

from engine.generator.cue_grid import alternative_styles, take_tempo_range
from engine.symbolic.score import STREAMS, STYLES

STYLE_ROW = STREAMS.index("style")


def test_take_k_rules_out_the_styles_of_the_takes_before_it():
    asked: list[list[int]] = []

    def surest(excluded: list[int]) -> int:  # a pilot whose preference is 5, 2, 7, then the rest
        asked.append(list(excluded))
        return next(s for s in [5, 2, 7, *range(len(STYLES))] if s not in excluded)

    assert alternative_styles(surest, 3) == [5, 2, 7]
    assert asked == [[], [5], [5, 2]]
    assert len(set(alternative_styles(surest, len(STYLES)))) == len(STYLES)
    assert len(alternative_styles(surest, len(STYLES) + 2)) == len(STYLES) + 2


@pytest.mark.parametrize("tempo", [(118.0, 132.0), (60.0, 76.0), (110.0, 168.0)])
def test_alternatives_in_one_style_sit_at_the_two_ends_of_its_tempo_range(tempo):
    assert take_tempo_range(tempo, 1) == tempo
    (lo2, hi2), (lo3, hi3) = take_tempo_range(tempo, 2), take_tempo_range(tempo, 3)
    assert tempo[0] <= lo3 < hi3 < lo2 < hi2 <= tempo[1]
    assert lo2 / hi3 >= 1.08


@pytest.fixture(scope="module")
def gen():
    from engine.generator.music_generator import MusicGenerator

    return MusicGenerator.load("tiny", device="cpu")


def _cue(gen, take, prompt=None):
    pictures = np.random.default_rng(11).standard_normal((6, 512)).astype(np.float32)[:, : gen.config.cls_dim]
    return gen.generate_cue(
        cls_1fps=pictures,
        rhythm_50hz=None,
        duration_s=6.0,
        seed=7 + take,
        prompt=prompt,
        hit_points_s=(1.5, 3.0, 4.5),
        style_changes_s=(),
        take=take,
    )


def _differ(a, b) -> bool:
    style = lambda c: int(np.bincount(c.tokens[STYLE_ROW]).argmax())  # noqa: E731
    return style(a) != style(b) or max(a.grid.bpm, b.grid.bpm) >= 1.08 * min(a.grid.bpm, b.grid.bpm)


def test_three_takes_differ_in_style_or_tempo(gen, one_torch_thread):
    takes = [_cue(gen, k) for k in (1, 2, 3)]
    styles = [STYLES[int(np.bincount(c.tokens[STYLE_ROW]).argmax())] for c in takes]
    assert len(set(styles)) == 3, styles
    named = [_cue(gen, k, prompt="jazz") for k in (1, 2, 3)]
    assert {int(v) for c in named for v in c.tokens[STYLE_ROW]} == {STYLES.index("jazz_trio")}
    pairs = [(0, 1), (0, 2), (1, 2)]
    assert sum(_differ(named[i], named[j]) for i, j in pairs) >= 2, [c.grid.bpm for c in named]


def test_score_takes_writes_three_alternatives_per_cue_that_differ_in_style(tmp_path, shots_video):
    import subprocess
    import sys

    import opentimelineio as otio

    from tests.timeline_builders import clip, timeline_of, video_track
    from vm_editor.score_track import read_score

    source = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline_of(video_track(clip("a", shots_video, 0, 75, 25, 75))), str(source))
    out = tmp_path / "cut.scored.otio"
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "vm_editor.cli", *a], capture_output=True, text=True, timeout=600
    )
    bad = run("score", str(source), "-o", str(out), "--in-process", "--takes", "0")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: --takes 0: give 1 to 8 takes per cue"
    ]
    done = run("score", str(source), "-o", str(out), "--in-process", "--takes", "3")
    assert done.returncode == 0, done.stderr
    (cue,) = read_score(otio.adapters.read_from_file(str(out)), out)
    assert [t["take"] for t in cue.takes] == [1, 2, 3]
    styles = [int(np.bincount(np.load(t["tokens_path"])[STYLE_ROW]).argmax()) for t in cue.takes]
    assert len(set(styles)) == 3, [STYLES[s] for s in styles]
