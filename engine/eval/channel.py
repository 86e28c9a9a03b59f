"""Random channel degradations: the same music heard through a different "channel".

Why: the style judge must say which world a piece of music belongs to, not how clean it sounds.
Fitted on clean corpus audio only, it learnt the worlds' brightness and level so exactly that any
colouring pushed it to one class (0.37 on the tiny codec's reconstructions of real corpus audio,
where its clean accuracy is 1.0). Showing it each clip again through random, generic channels
(an EQ curve, sometimes a low-pass, coloured noise, a gain) teaches it the cues that survive a
channel: register, tempo, density, the shape of the spectrum rather than its exact level.
Nothing here is codec-specific, and codec output is never used to train the judge.
"""

from __future__ import annotations

import numpy as np

EQ_DB = 9.0  # each EQ control point is boosted or cut by up to this much
EQ_POINTS_HZ = (60.0, 120.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 7900.0)
LOWPASS_PROB = 0.5
LOWPASS_HZ = (1500.0, 7000.0)
NOISE_PROB = 0.7
NOISE_SNR_DB = (5.0, 30.0)
GAIN_DB = (-12.0, 6.0)


def degrade(audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """`audio` through one random channel: EQ, maybe a low-pass, maybe white/dark/bright noise, gain."""
    from scipy import signal

    y = np.asarray(audio, dtype=np.float64)
    nyquist = sample_rate / 2.0
    points = [0.0, *(min(f, nyquist * 0.99) / nyquist for f in EQ_POINTS_HZ), 1.0]
    gains = 10 ** (rng.uniform(-EQ_DB, EQ_DB, size=len(points)) / 20)
    y = signal.lfilter(signal.firwin2(255, points, gains), 1.0, y)
    if rng.random() < LOWPASS_PROB:
        b, a = signal.butter(4, min(rng.uniform(*LOWPASS_HZ), nyquist * 0.95) / nyquist)
        y = signal.lfilter(b, a, y)
    if rng.random() < NOISE_PROB and y.size:
        noise = rng.standard_normal(y.size)
        colour = rng.integers(3)
        if colour == 1:  # dark (rumble-like)
            noise = signal.lfilter([1.0], [1.0, -0.98], noise)
        elif colour == 2:  # bright (hiss-like)
            noise = signal.lfilter([1.0, -0.9], [1.0], noise)
        snr_db = rng.uniform(*NOISE_SNR_DB)
        power = np.mean(y**2)
        noise *= np.sqrt(power / (np.mean(noise**2) + 1e-12) / 10 ** (snr_db / 10))
        y = y + noise
    y *= 10 ** (rng.uniform(*GAIN_DB) / 20)
    return y.astype(np.float32)
