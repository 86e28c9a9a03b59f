"""Finishing: exact length at 48 kHz, fades at the edges, loudness, atomic WAV writes."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
import soundfile

from engine.finishing import TARGET_LUFS, finish_cue, num_samples_for, write_wav_atomic


@pytest.mark.parametrize("duration_s", [0.04, 0.5, 1001 / 24000 * 77, 7.3])
@pytest.mark.parametrize("model_rate", [16000, 32000])
def test_cue_has_exactly_the_requested_length(duration_s, model_rate):
    rng = np.random.default_rng(0)
    raw = rng.standard_normal(int(duration_s * model_rate) - 3).astype(np.float32) * 0.1
    cue = finish_cue(raw, model_rate, duration_s)
    assert cue.shape == (num_samples_for(duration_s), 2)
    assert cue.dtype == np.float32


def test_stereo_music_keeps_its_image():
    """A symbolic render is stereo: left and right stay different, only the length and level change."""
    sr = 48000
    t = np.arange(2 * sr) / sr
    raw = np.stack([np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], axis=1).astype(
        np.float32
    )
    cue = finish_cue(raw, sr, 1.5)
    assert cue.shape == (72000, 2)
    mid = cue[24000:48000]
    assert np.sqrt(np.mean(mid[:, 0] ** 2)) > 2 * np.sqrt(np.mean(mid[:, 1] ** 2))


def test_fades_silence_the_edges_and_loudness_hits_target():
    sr = 16000
    t = np.arange(3 * sr) / sr
    raw = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    cue = finish_cue(raw, sr, 3.0)
    assert np.abs(cue[0]).max() < 1e-3 and np.abs(cue[-1]).max() < 1e-3
    assert np.array_equal(cue[:, 0], cue[:, 1])  # a mono model's music is centred
    loudness = pyloudnorm.Meter(48000).integrated_loudness(cue.astype(np.float64))
    assert loudness == pytest.approx(TARGET_LUFS, abs=0.5)
    assert np.max(np.abs(cue)) <= 10 ** (-1 / 20) + 1e-6


def test_silence_stays_silent():
    cue = finish_cue(np.zeros(16000, np.float32), 16000, 1.0)
    assert not np.any(cue)


def test_write_wav_atomic_leaves_no_partial_files(tmp_path):
    audio = np.linspace(-0.5, 0.5, 4800, dtype=np.float32)
    path = write_wav_atomic(tmp_path / "cues" / "a.wav", audio)
    data, sr = soundfile.read(path, dtype="float32")
    assert sr == 48000 and data.shape == (4800,)
    assert np.allclose(data, audio, atol=1e-6)
    assert [p.name for p in path.parent.iterdir()] == ["a.wav"]
