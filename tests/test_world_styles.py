"""A style holds within a world: the decoder lets the style stream change only at the world
changes (and markers) the editor side sends with each cue (`CueProgram.world_changes_s`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.api import CueProgram, EditPointSpec, ProgramSegmentSpec, SceneRequest, program_from_dict, to_json
from engine.generator.cue_grid import CHANGE_SLACK, style_change_frames
from engine.pipeline import style_changes
from engine.symbolic.score import STREAMS

STYLE_ROW = STREAMS.index("style")


def test_with_worlds_the_style_may_change_only_there_not_at_every_cut():
    cuts = frozenset({50, 125, 160})
    assert style_change_frames(None, cuts, 200) >= cuts
    assert style_change_frames(None, cuts, 200, worlds=frozenset()) == frozenset()
    assert style_change_frames(None, cuts, 200, worlds=frozenset({125})) == frozenset(
        range(125 - CHANGE_SLACK, 125 + CHANGE_SLACK + 1)
    )


def test_a_cue_sends_its_world_changes_and_markers_and_older_clients_none():
    program = CueProgram(
        8.0,
        (ProgramSegmentSpec("/a.mp4", 0, 4, 0, 4), ProgramSegmentSpec("/b.mp4", 0, 4, 4, 8)),
        (EditPointSpec(4.0),),
        markers_s=(6.5,),
        world_changes_s=(0.0, 4.0),
    )
    scene = SceneRequest(index=0, name="c", duration_s=8.0, program=program)
    assert style_changes(scene) == (0.0, 4.0, 6.5)
    assert program_from_dict(json.loads(to_json(program))) == program
    older = json.loads(to_json(program))
    del older["world_changes_s"]
    assert program_from_dict(older).world_changes_s is None
    assert (
        style_changes(SceneRequest(index=0, name="c", duration_s=8.0, program=program_from_dict(older)))
        is None
    )


@pytest.fixture(scope="module")
def gen():
    from engine.generator.music_generator import MusicGenerator

    return MusicGenerator.load("tiny", device="cpu")


def _style_flips(tokens: np.ndarray) -> list[int]:
    style = tokens[STYLE_ROW]
    return np.flatnonzero(style[1:] != style[:-1]).astype(int).tolist()


def test_the_decoder_holds_one_style_over_cuts_of_one_world(gen, one_torch_thread):
    # pictures that change every second and a cut every second: the LM alone drifts between styles
    pictures = np.random.default_rng(3).standard_normal((8, 512)).astype(np.float32)[:, : gen.config.cls_dim]
    cuts = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
    held, free = [], []
    for seed in (1, 2, 3):
        kw = dict(cls_1fps=pictures, rhythm_50hz=None, duration_s=8.0, seed=seed, hit_points_s=cuts)
        held.append(_style_flips(gen.generate_cue(**kw, style_changes_s=()).tokens))
        free.append(_style_flips(gen.generate_cue(**kw).tokens))
    assert held == [[], [], []], held
    assert all(free), free  # what it did before: flips at the cuts
    world = [
        _style_flips(gen.generate_cue(**kw, style_changes_s=(4.0,)).tokens)
        for kw in [
            dict(cls_1fps=pictures, rhythm_50hz=None, duration_s=8.0, seed=s, hit_points_s=cuts)
            for s in (1, 2, 3)
        ]
    ]
    frame = round(4.0 * gen.frame_rate)
    assert all(abs(f + 1 - frame) <= CHANGE_SLACK for flips in world for f in flips), world
