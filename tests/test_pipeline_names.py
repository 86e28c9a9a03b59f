"""Cue file names: a different recipe never reuses (and so never overwrites) an older cue's file."""

from __future__ import annotations

import dataclasses

from engine.api import MediaRange, SceneRequest
from engine.pipeline import cue_filename, cue_seed


def test_every_recipe_change_gives_a_new_file_name():
    scene = SceneRequest(index=2, name="a", duration_s=2.0, media=MediaRange("/m.mov", 1.0, 3.0))
    base = cue_filename("cut", scene, 7, "tiny", None)
    variants = {
        cue_filename("cut", scene, 8, "tiny", None),
        cue_filename("cut", scene, 7, "musicgen-small", None),
        cue_filename("cut", scene, 7, "tiny", "warm piano"),
        cue_filename("cut", dataclasses.replace(scene, guidance=5.0), 7, "tiny", None),
        cue_filename("cut", dataclasses.replace(scene, take=2), 7, "tiny", None),
        cue_filename(
            "cut", dataclasses.replace(scene, media=MediaRange("/m.mov", 1.5, 3.5)), 7, "tiny", None
        ),
    }
    assert base not in variants and len(variants) == 6
    assert base == cue_filename("cut", scene, 7, "tiny", None)  # and the same recipe, the same name
    assert base.startswith("cut_cue002_take1_s7_") and base.endswith(".wav")


def test_derived_seeds_differ_per_scene_and_explicit_seeds_win():
    a, b = SceneRequest(0, "a", 1.0), SceneRequest(1, "b", 1.0)
    assert cue_seed(0, a) != cue_seed(0, b)
    assert cue_seed(0, dataclasses.replace(a, seed=42)) == 42
