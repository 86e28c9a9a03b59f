"""Finishing: turn raw model audio into a cue an editor can drop on a timeline.

48 kHz (every NLE's native audio rate), exactly the requested number of samples (so the clip
and its media agree to the sample), short fades so cue edges never click, a consistent loudness
so cues sit at the same level, and an atomic write so no reader ever sees half a WAV.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile
import soxr

from engine.api import CUE_SAMPLE_RATE

TARGET_LUFS = -18.0  # a music bed under dialogue; editors ride it from here
PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS
FADE_IN_S = 0.01
FADE_OUT_S = 0.05
_MIN_LOUDNESS_S = 0.5  # BS.1770 gating needs at least one 400 ms block


def num_samples_for(duration_s: float, sample_rate: int = CUE_SAMPLE_RATE) -> int:
    return max(0, int(round(duration_s * sample_rate)))


def resample(audio: np.ndarray, from_rate: int, to_rate: int = CUE_SAMPLE_RATE) -> np.ndarray:
    if from_rate == to_rate or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    return soxr.resample(audio.astype(np.float32), from_rate, to_rate, quality="HQ").astype(np.float32)


def fit_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    """Pad with silence or trim so the cue is exactly `num_samples` long (samples on axis 0)."""
    if audio.shape[0] >= num_samples:
        return audio[:num_samples]
    pad = np.zeros((num_samples - audio.shape[0], *audio.shape[1:]), dtype=audio.dtype)
    return np.concatenate([audio, pad])


def apply_fades(audio: np.ndarray, sample_rate: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    """Raised-cosine fades, each at most a quarter of the cue so short cues keep a body."""
    out = audio.copy()
    n = out.shape[0]
    for seconds, at_start in ((fade_in_s, True), (fade_out_s, False)):
        length = min(int(seconds * sample_rate), n // 4)
        if length <= 0:
            continue
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, length, dtype=np.float32))
        ramp = ramp.reshape(-1, *([1] * (out.ndim - 1)))
        if at_start:
            out[:length] *= ramp
        else:
            out[n - length :] *= ramp[::-1]
    return out


def loudness_gain(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS) -> float:
    """The gain that brings `audio` to `target_lufs` integrated loudness (peak-limited); peak-only
    for cues too short to gate; 1.0 for silence."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < 1e-6:
        return 1.0
    gain = 1.0
    if audio.shape[0] >= _MIN_LOUDNESS_S * sample_rate:
        loudness = pyloudnorm.Meter(sample_rate).integrated_loudness(audio.astype(np.float64))
        if np.isfinite(loudness):
            gain = 10 ** ((target_lufs - loudness) / 20)
    else:
        gain = PEAK_CEILING * 0.5 / peak
    return min(gain, PEAK_CEILING / peak)


def normalise_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS) -> np.ndarray:
    """Integrated loudness to `target_lufs` (peak-limited); peak-only for cues too short to gate."""
    return (audio * loudness_gain(audio, sample_rate, target_lufs)).astype(np.float32)


CUE_CHANNELS = 2  # every cue is stereo: a mono model's music is centred


def as_stereo(audio: np.ndarray) -> np.ndarray:
    """[samples] or [samples, channels] -> [samples, 2] float32."""
    a = np.nan_to_num(np.asarray(audio, dtype=np.float32))
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"audio must be [samples] or [samples, channels], got shape {a.shape}")
    if a.shape[1] == 1:
        return np.repeat(a, CUE_CHANNELS, axis=1)
    if a.shape[1] != CUE_CHANNELS:
        return np.repeat(a.mean(axis=1, keepdims=True), CUE_CHANNELS, axis=1)
    return np.ascontiguousarray(a)


def finish_cue(audio: np.ndarray, model_rate: int, duration_s: float) -> np.ndarray:
    """Model audio ([samples] or [samples, channels], any rate) -> a 48 kHz stereo cue
    [samples, 2] of exactly `duration_s`."""
    audio = as_stereo(audio)
    cue = fit_length(resample(audio, model_rate), num_samples_for(duration_s))
    cue = normalise_loudness(cue, CUE_SAMPLE_RATE)
    return apply_fades(cue, CUE_SAMPLE_RATE, FADE_IN_S, FADE_OUT_S)


def finish_stems(
    stems: dict[str, np.ndarray], mix: np.ndarray, model_rate: int, duration_s: float
) -> dict[str, np.ndarray]:
    """Each stem finished like its cue and with the cue's own gain, so the stems line up with the
    mix in an editor's mixer (their sum is the mix before the master bus)."""
    n = num_samples_for(duration_s)
    gain = loudness_gain(fit_length(resample(as_stereo(mix), model_rate), n), CUE_SAMPLE_RATE)
    out = {}
    for name, stem in stems.items():
        audio = fit_length(resample(as_stereo(stem), model_rate), n) * gain
        out[name] = apply_fades(audio.astype(np.float32), CUE_SAMPLE_RATE, FADE_IN_S, FADE_OUT_S)
    return out


def stem_path(wav_path: Path, stream: str) -> Path:
    """Where a cue's stem lives: beside its WAV (`<stem>.<stream>.wav`)."""
    wav_path = Path(wav_path)
    return wav_path.with_name(f"{wav_path.stem}.{stream}.wav")


def write_wav_atomic(path: Path, audio: np.ndarray, sample_rate: int = CUE_SAMPLE_RATE) -> Path:
    """24-bit WAV written to a temporary name in the same folder, then renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".wav.part", dir=path.parent)
    os.close(fd)
    try:
        soundfile.write(tmp, audio, sample_rate, subtype="PCM_24", format="WAV")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def tokens_path(wav_path: Path) -> Path:
    """Where a cue's tokens live: beside its WAV (`<stem>.tokens.npy`)."""
    wav_path = Path(wav_path)
    return wav_path.with_name(wav_path.stem + ".tokens.npy")


def write_tokens_atomic(path: Path, tokens: np.ndarray) -> Path:
    """A cue's tokens [K, frames] (what a later cue continues from), written like the WAV."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npy.part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.asarray(tokens, dtype=np.int16))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
