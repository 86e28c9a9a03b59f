"""`--guidance` (the panel's "Guidance") is classifier-free guidance: it reaches the sampler and is checked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.api import SceneRequest, scene_from_dict
from engine.errors import GeneratorInputError
from engine.generator.music_generator import MusicGenerator
from tests._generator_small import small_config


@pytest.fixture(scope="module")
def gen():
    torch.set_num_threads(1)
    return MusicGenerator.from_config(small_config())


def test_guidance_changes_the_music_and_default_equals_the_preset(gen):
    cls = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    run = lambda g: gen.generate(cls_1fps=cls, rhythm_50hz=None, duration_s=0.5, seed=3, guidance=g)  # noqa: E731
    default, preset_value, strong = run(None), run(gen.sampling.cfg_coef), run(8.0)
    assert np.array_equal(default, preset_value)
    assert not np.array_equal(default, strong)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), 50.0])
def test_bad_guidance_is_a_clear_error(gen, bad):
    with pytest.raises(GeneratorInputError, match="guidance"):
        gen.generate(cls_1fps=None, rhythm_50hz=None, duration_s=0.2, seed=0, guidance=bad)


def test_guidance_travels_in_the_api():
    scene = SceneRequest(index=0, name="a", duration_s=1.0, guidance=4.5)
    assert scene_from_dict({"index": 0, "name": "a", "duration_s": 1.0, "guidance": 4.5}) == scene
