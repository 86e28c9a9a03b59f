"""A cached judge is reused only while what it was fitted on still holds: its format version, its
sizes and, for a judge of audio, the renderer's sound (a new mix left the old judge in use)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from engine.eval import judge_cache
from engine.symbolic import orchestra
from engine.symbolic.renderer import sound_fingerprint


def test_a_judge_is_refitted_when_its_sizes_version_or_sound_change(tmp_path) -> None:
    fits = []

    def fit(n_train: int, n_heldout: int) -> SimpleNamespace:
        fits.append((n_train, n_heldout))
        return SimpleNamespace(train_items=n_train, heldout_items=n_heldout, fit=len(fits))

    path = tmp_path / "judges" / "judge.pkl"
    load = lambda version=1, made_with="mix-a", sizes=(10, 5): judge_cache.load_or_fit(  # noqa: E731
        path, version, "judge", *sizes, fit, made_with
    )
    assert load().fit == 1 and path.is_file()
    assert load().fit == 1  # the same: read back, not fitted again
    assert load(made_with="mix-b").fit == 2  # another sound: fitted on it
    assert load(made_with="mix-b").fit == 2
    assert load(version=2, made_with="mix-b").fit == 3
    assert load(version=2, made_with="mix-b", sizes=(20, 5)).fit == 4
    path.write_bytes(b"not a pickle")
    assert load(version=2, made_with="mix-b", sizes=(20, 5)).fit == 5  # unreadable: refitted
    assert len(fits) == 5


def test_the_sound_fingerprint_follows_the_mix(monkeypatch) -> None:
    before = sound_fingerprint()
    assert sound_fingerprint() == before  # the renderer is deterministic
    ambient = orchestra.ORCHESTRA["ambient"]
    louder = dataclasses.replace(ambient, kit=dataclasses.replace(ambient.kit, velocity=(60, 80, 112)))
    monkeypatch.setitem(orchestra.ORCHESTRA, "ambient", louder)
    assert sound_fingerprint() != before
