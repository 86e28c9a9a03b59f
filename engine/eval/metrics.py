"""The numbers `vm-eval` reports, each with its exact definition (implementations differ in the field).

Events and edit points: on a held-out synthetic clip the *visual events* are its hard cuts, its
dissolves' middles and its visual events (flashes, motion accents), from the v2 truth; its *edit
points* (the hit points the engine takes from a timeline) are its hard cuts: a dissolve is no hit
point. On real footage both are the hard cuts the feature engine detects.

Rhythm (music against the video):
- Music onsets: `librosa.onset.onset_detect` on the mono music at its own sample rate with
  `hop_length=ONSET_HOP` (256 samples: 5.3 ms at 48 kHz), librosa's default peak picking, and
  `backtrack=False` (the onset is the peak of the onset-strength envelope, i.e. the attack, not the
  energy minimum before it, which would bias every onset early).
- LORIS beat scores (Yu et al. 2023, as in their released code): time is cut into 1 s bins
  (bin k = [k, k+1) s, over ceil(duration) bins); a bin is a *visual beat* when at least one visual
  event falls in it and a *music beat* when at least one music onset does.
  beat hit score = (#bins that are both) / (#visual-beat bins);
  beat coverage score = (#music-beat bins) / (#visual-beat bins) (can exceed 1).
- Onset F-measure: `mir_eval.onset.f_measure(reference=visual event times, estimated=music onset
  times, window=0.07)` (±70 ms, one-to-one matching).
- Cut accent rate: the fraction of edit points with a music onset within ±50 ms (ACCENT_WINDOW_S;
  several cuts may share one onset). Its chance rate: the fraction of CHANCE_DRAWS = 2,000 times
  drawn uniformly in [0, duration) (numpy seed 0) with an onset within ±50 ms, i.e. what cuts placed
  without regard to the music would score against the same onsets. "At least 2x chance" compares
  the mean accent rate over clips with the mean chance rate.
- Tempo agreement: the music's tempo is `librosa.feature.tempo` of its onset-strength envelope (same
  hop); agreement when |music − visual| <= 4 % of the visual tempo, and "octave" agreement when that
  holds for the visual tempo ×1, ×2 or ×½; the raw difference in BPM is reported too.
- Tempo stability within a cue: does the cue keep one pulse? The onset-strength envelope (hop
  ONSET_HOP) is cut into 4 s windows every 2 s (TEMPO_WINDOW_S, TEMPO_HOP_S; a cue under 4 s is one
  window). Each stretch's periodicity peaks are the local maxima of its envelope's spectrum (Hann,
  zero-padded 16x) over 50-500 bpm: the rates really played, beats to sixteenths, and not their
  common multiples as an autocorrelation's. The cue's pulse is, of its whole spectrum's 8 strongest
  peaks whose autocorrelation at 1, 2 or 4 periods is >= 0.15 (PULSE_SALIENCE; onsets at random
  times reach 0.08, rendered music 0.29 or more; with none: "no steady pulse"), the one whose worst window deviates least. A window's deviation is
  |rate/pulse - 1| of its peak within ±6 % of the pulse when that peak has >= half the window's
  strongest, else its strongest peak against the pulse ×½, ×1 or ×2. Stable when the worst window
  deviates <= 4 % (TEMPO_TOLERANCE); the report gives the fraction of stable cues. Controls
  (tests/test_eval_metrics.py): a steady groove whose second half plays dotted eighths is stable;
  a second half at 1.2x, 4/3, 3/4 or 3/2 the tempo, or a 12 % accelerando, is not. A switch from
  straight eighths to triplets reads as a change (the played rate changes).

Does it sound like music (`music_measures`, the owner's tool's definitions, thresholds there):
flatness (150 Hz–8 kHz, median over loud frames), bandwidth (highest frequency within 60 dB of the
average spectrum's peak), chroma movement (mean 1 − cosine of chroma vectors 1 s apart), rhythmicity
(peak normalised autocorrelation of the onset envelope over lags 0.25–1.5 s); plus:
- Stereo 48 kHz: the cue has 2 channels at 48,000 Hz.
- Frame-rate comb: the average power spectrum of the mono cue (Welch, Hann, 1 s segments, 50 %
  overlap: 1 Hz bins); for every harmonic f = k·50 Hz (COMB_RATE_HZ) up to 8 kHz, the largest bin
  within ±1 Hz over the median of the bins with 5 < |bin − f| <= 20 Hz, in dB; the comb is the
  median of these over k. A buzz at the 50 Hz token rate shows >= 6 dB (COMB_LIMIT_DB; a decaying
  50 Hz pulse train in light noise: 21 dB), white noise and rendered music 0–3 dB.
- Key clarity (Krumhansl–Schmuckler): the mean chroma (librosa chroma_stft at 22.05 kHz, n_fft 2048,
  hop 512) correlated (Pearson) with the 24 rotations of the Krumhansl–Kessler major and minor
  profiles; clarity = the largest correlation (and its key). Measured: corpus renders 0.24 (drums
  alone) to 0.78, white noise 0.29.
Older numbers kept: `rhythmicity` / `spectral_flatness` below (16 kHz, mean) are what `make demo`'s
score check prints.

Style: semantic accuracy = the style judge's (`style_classifier`) style for the music equals the
clip's style, the style that plays longest in the clip (or, for a prompted cue, the prompted style);
token style accuracy = the most frequent id of the generated style stream names that style.

Codec reconstruction (neural-codec models only): SI-SNR (scale-invariant SNR, both signals made
zero-mean) in dB, and the mel distance = mean |log(M_ref + 1e-5) − log(M_est + 1e-5)| over a
64-band magnitude mel spectrogram (n_fft 1024, hop 256) at the audio's sample rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.timebase import TOKEN_RATE

ONSET_HOP = 256
BIN_S = 1.0
ONSET_WINDOW_S = 0.07
TEMPO_TOLERANCE = 0.04
MEL_BANDS = 64
MEL_FFT = 1024
MEL_HOP = 256
MEL_EPS = 1e-5
ACCENT_WINDOW_S = 0.05
CHANCE_DRAWS = 2000
COMB_RATE_HZ = TOKEN_RATE  # the token frame rate
COMB_MAX_HZ = 8000.0
COMB_PEAK_HZ = 1.0  # a harmonic's power: the largest bin within ±1 Hz of k·50 Hz
COMB_GAP_HZ = 5.0  # its neighbourhood: 5 < |f − k·50| <= 20 Hz (median)
COMB_NEIGHBOUR_HZ = 20.0
COMB_LIMIT_DB = 6.0  # a comb at or above this is a frame-rate buzz
TEMPO_WINDOW_S = 4.0
TEMPO_HOP_S = 2.0
PULSE_BPM = (50.0, 500.0)  # the rates looked for: from slow beats to fast sixteenths
PULSE_PAD = 16  # zero-padding of each window's spectrum (peaks read to ~1 bpm)
PULSE_STEP_BPM = 0.25  # the rates the spectrum and the autocorrelation are read at
PULSE_REFINE = 0.01  # a peak's rate is the spectrum's maximum within about 1 % of it
PULSE_SEARCH = 0.06  # a window keeps the cue's pulse when it peaks within 6 % of it
PULSE_PRESENT = 0.5  # ... with at least half the height of the window's strongest peak
PULSE_CANDIDATES = 8  # the cue's pulse is one of its whole spectrum's strongest peaks
PULSE_SALIENCE = 0.15  # ... repeating: autocorrelation >= 0.15 there (random onsets <= 0.08, music >= 0.29)


def music_onsets(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times in seconds (librosa, hop ONSET_HOP, no backtracking); empty for silence."""
    import librosa

    y = np.asarray(audio, dtype=np.float32)
    if y.size < 2 * ONSET_HOP or not np.any(np.abs(y) > 1e-6):
        return np.zeros(0)
    return np.asarray(
        librosa.onset.onset_detect(y=y, sr=sample_rate, hop_length=ONSET_HOP, backtrack=False, units="time"),
        dtype=np.float64,
    )


def _bins(times: Sequence[float], n_bins: int, bin_s: float) -> np.ndarray:
    occupied = np.zeros(n_bins, dtype=bool)
    for t in times:
        k = int(math.floor(float(t) / bin_s))
        if 0 <= k < n_bins:
            occupied[k] = True
    return occupied


def beat_hit_coverage(
    visual_s: Sequence[float], music_s: Sequence[float], duration_s: float, bin_s: float = BIN_S
) -> dict[str, float]:
    """LORIS beat hit and beat coverage scores over `bin_s` bins (see the module docstring).

    Returns {"hit", "coverage", "visual_bins", "music_bins", "hit_bins"}; hit and coverage are NaN
    when no visual event falls inside the clip (the scores are undefined, not zero).
    """
    n_bins = max(1, int(math.ceil(duration_s / bin_s - 1e-9)))
    v = _bins(visual_s, n_bins, bin_s)
    m = _bins(music_s, n_bins, bin_s)
    nv, nm, nh = int(v.sum()), int(m.sum()), int((v & m).sum())
    return {
        "hit": nh / nv if nv else float("nan"),
        "coverage": nm / nv if nv else float("nan"),
        "visual_bins": nv,
        "music_bins": nm,
        "hit_bins": nh,
    }


def onset_f_measure(
    visual_s: Sequence[float], music_s: Sequence[float], window_s: float = ONSET_WINDOW_S
) -> dict[str, float]:
    """mir_eval.onset.f_measure(reference=visual events, estimated=music onsets, window=±window_s)."""
    import mir_eval

    ref = np.sort(np.asarray(visual_s, dtype=np.float64))
    est = np.sort(np.asarray(music_s, dtype=np.float64))
    if ref.size == 0 or est.size == 0:
        return {"f": 0.0, "precision": 0.0, "recall": 0.0}
    f, p, r = mir_eval.onset.f_measure(ref, est, window=window_s)
    return {"f": float(f), "precision": float(p), "recall": float(r)}


def music_tempo(audio: np.ndarray, sample_rate: int) -> float:
    """Global tempo (BPM) of the music: librosa.feature.tempo on its onset envelope (hop ONSET_HOP)."""
    import librosa

    y = np.asarray(audio, dtype=np.float32)
    if y.size < 4 * ONSET_HOP:
        return float("nan")
    env = librosa.onset.onset_strength(y=y, sr=sample_rate, hop_length=ONSET_HOP)
    return float(librosa.feature.tempo(onset_envelope=env, sr=sample_rate, hop_length=ONSET_HOP)[0])


def rhythmicity(
    audio: np.ndarray, sample_rate: int, min_lag_s: float = 0.25, max_lag_s: float = 1.5
) -> float:
    """Peak normalised autocorrelation of the onset envelope at lags min_lag_s..max_lag_s (0: none)."""
    import librosa

    y = np.asarray(audio, dtype=np.float32)
    if y.size < 4 * ONSET_HOP or not np.any(np.abs(y) > 1e-6):
        return 0.0
    env = librosa.onset.onset_strength(y=y, sr=sample_rate, hop_length=ONSET_HOP).astype(np.float64)
    env -= env.mean()
    fps = sample_rate / ONSET_HOP
    lo, hi = int(round(min_lag_s * fps)), int(round(max_lag_s * fps))
    if env.size <= lo + 1 or not np.any(env):
        return 0.0
    ac = np.correlate(env, env, mode="full")[env.size - 1 :]
    ac /= ac[0]
    return float(ac[lo : min(hi, env.size - 1) + 1].max())


def spectral_flatness(audio: np.ndarray, sample_rate: int) -> float:
    """Mean spectral flatness at 16 kHz: near 0 for tones, about 0.56 for white noise."""
    import librosa
    import soxr

    y = np.asarray(audio, dtype=np.float32)
    if sample_rate != 16000:
        y = soxr.resample(y, sample_rate, 16000).astype(np.float32)
    if y.size < 2048 or not np.any(np.abs(y) > 1e-6):
        return 0.0
    return float(librosa.feature.spectral_flatness(y=y).mean())


def curve_tempo(curve: np.ndarray, rate_hz: float) -> float:
    """Global tempo (BPM) of a visual rhythm curve sampled at `rate_hz` (same estimator as the music)."""
    import librosa

    env = np.asarray(curve, dtype=np.float32).copy()
    if env.size < 8 or not np.any(env > 0):
        return float("nan")
    env[0] = 0.0  # d_0 = 1 by definition: a start, not a beat
    return float(librosa.feature.tempo(onset_envelope=env, sr=int(round(rate_hz)), hop_length=1)[0])


def tempo_agreement(music_bpm: float, visual_bpm: float, tolerance: float = TEMPO_TOLERANCE) -> dict:
    """{"exact": within tolerance, "octave": within tolerance of ×1/×2/×½, "diff_bpm": music − visual}."""
    if not (math.isfinite(music_bpm) and math.isfinite(visual_bpm)) or visual_bpm <= 0:
        return {"exact": False, "octave": False, "diff_bpm": float("nan")}
    exact = abs(music_bpm - visual_bpm) <= tolerance * visual_bpm
    octave = any(abs(music_bpm - f * visual_bpm) <= tolerance * f * visual_bpm for f in (1.0, 2.0, 0.5))
    return {"exact": bool(exact), "octave": bool(octave), "diff_bpm": float(music_bpm - visual_bpm)}


def si_snr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SNR in dB of `estimate` against `reference` (trimmed to the shorter one)."""
    n = min(len(reference), len(estimate))
    s = np.asarray(reference[:n], dtype=np.float64)
    e = np.asarray(estimate[:n], dtype=np.float64)
    s, e = s - s.mean(), e - e.mean()
    target = (np.dot(e, s) / max(np.dot(s, s), 1e-12)) * s
    noise = e - target
    return float(10.0 * np.log10(max(np.dot(target, target), 1e-12) / max(np.dot(noise, noise), 1e-12)))


def log_mel(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """log(magnitude mel + 1e-5), [MEL_BANDS, frames] (n_fft MEL_FFT, hop MEL_HOP)."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio, dtype=np.float32),
        sr=sample_rate,
        n_fft=MEL_FFT,
        hop_length=MEL_HOP,
        n_mels=MEL_BANDS,
        power=1.0,
    )
    return np.log(mel + MEL_EPS)


def mel_distance(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference of the two log-mel spectrograms (trimmed to the shorter signal)."""
    n = min(len(reference), len(estimate))
    a, b = log_mel(reference[:n], sample_rate), log_mel(estimate[:n], sample_rate)
    return float(np.mean(np.abs(a - b)))


def accent_rate(
    points_s: Sequence[float], onsets_s: Sequence[float], window_s: float = ACCENT_WINDOW_S
) -> float:
    """Fraction of `points_s` (cuts) with a music onset within ±window_s (NaN when there are none)."""
    points = np.asarray(points_s, dtype=np.float64)
    onsets = np.sort(np.asarray(onsets_s, dtype=np.float64))
    if points.size == 0:
        return float("nan")
    if onsets.size == 0:
        return 0.0
    i = (
        np.clip(np.searchsorted(onsets, points), 1, onsets.size)
        if onsets.size > 1
        else np.zeros(points.size, int)
    )
    nearest = np.minimum(
        np.abs(points - onsets[np.clip(i - 1, 0, onsets.size - 1)]),
        np.abs(points - onsets[np.clip(i, 0, onsets.size - 1)]),
    )
    return float(np.mean(nearest <= window_s + 1e-9))


def chance_accent_rate(
    onsets_s: Sequence[float],
    duration_s: float,
    window_s: float = ACCENT_WINDOW_S,
    draws: int = CHANCE_DRAWS,
    seed: int = 0,
) -> float:
    """Fraction of `draws` uniformly random times in [0, duration_s) (seeded) with an onset within
    ±window_s: the accent rate cuts placed without regard to the music would get."""
    if duration_s <= 0:
        return float("nan")
    times = np.random.default_rng(seed).uniform(0.0, duration_s, draws)
    return accent_rate(times, onsets_s, window_s)


def frame_rate_comb(
    audio: np.ndarray, sample_rate: int, rate_hz: float = COMB_RATE_HZ, max_hz: float = COMB_MAX_HZ
) -> float:
    """Comb at the token frame rate in dB (see the module docstring); NaN for under a second."""
    from scipy import signal

    y = mono(audio).astype(np.float64)
    if y.size < sample_rate or not np.any(np.abs(y) > 1e-9):
        return float("nan")
    freqs, power = signal.welch(y, sample_rate, nperseg=sample_rate, noverlap=sample_rate // 2)
    ratios = []
    for k in range(1, int(min(max_hz, sample_rate / 2 - COMB_NEIGHBOUR_HZ) // rate_hz) + 1):
        f = k * rate_hz
        off = np.abs(freqs - f)
        peak = power[off <= COMB_PEAK_HZ].max()
        around = power[(off > COMB_GAP_HZ) & (off <= COMB_NEIGHBOUR_HZ)]
        ratios.append(10 * np.log10((peak + 1e-30) / (np.median(around) + 1e-30)))
    return float(np.median(ratios))


def _periodicity_peaks(env: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tempi in BPM, strengths, saliences) of the rates an onset envelope really plays, over
    PULSE_BPM; a rate's salience is the autocorrelation at its period, twice or four times it
    (how strongly the envelope repeats at that rate: onsets at random times, at most 0.08).

    A rate's strength is the envelope's spectrum there (Hann, zero-padded PULSE_PAD times) times
    its autocorrelation at that rate's period (clipped at 0). A pulse train's spectrum also peaks
    at its harmonics, its autocorrelation also at its multiples: two tempi share both (120 and 90
    bpm share a 60 bpm period and a 360 bpm harmonic), but only the rates really played peak in both
    (Peeters' product of the two tempograms)."""
    x = env - env.mean()
    if x.size < 4 or not np.any(x):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    n = 2 ** int(math.ceil(math.log2(max(2, x.size * PULSE_PAD))))
    mag = np.abs(np.fft.rfft(x * np.hanning(x.size), n))
    ac = np.correlate(x, x, mode="full")[x.size - 1 :]
    ac = np.clip(ac / ac[0], 0.0, None)
    rates = np.arange(PULSE_BPM[0], PULSE_BPM[1], PULSE_STEP_BPM)
    lags = 60.0 * fps / rates
    keep = lags < x.size - 1
    rates, lags = rates[keep], lags[keep]
    strength = np.interp(rates / 60.0, np.fft.rfftfreq(n, 1.0 / fps), mag) * np.interp(
        lags, np.arange(ac.size), ac
    )
    i = np.arange(1, strength.size - 1)
    i = i[(strength[i] > strength[i - 1]) & (strength[i] >= strength[i + 1]) & (strength[i] > 0)]
    # where exactly: the spectrum's own peak near each (the autocorrelation is read at whole lags)
    spectrum = np.interp(rates / 60.0, np.fft.rfftfreq(n, 1.0 / fps), mag)
    reach = int(round(PULSE_REFINE * rates.mean() / PULSE_STEP_BPM))
    exact = np.asarray(
        [max(0, j - reach) + int(np.argmax(spectrum[max(0, j - reach) : j + reach + 1])) for j in i],
        dtype=np.int64,
    )
    lag = 60.0 * fps / rates[exact]
    salience = np.max([np.interp(m * lag, np.arange(ac.size), ac, right=0.0) for m in (1, 2, 4)], axis=0)
    return rates[exact], strength[i], salience


def _window_deviation(bpm: np.ndarray, mag: np.ndarray, pulse: float) -> float:
    """How far a window's pulse is from the cue's `pulse` (BPM), as a tempo ratio: its periodicity
    peak within ±PULSE_SEARCH of the pulse, when that peak has at least PULSE_PRESENT of the
    window's strongest; else (the pulse is lost) its strongest peak against the pulse, twice it or
    half it, whichever is nearest."""
    if bpm.size == 0:
        return 1.0
    off = np.abs(bpm / pulse - 1.0)
    near = np.flatnonzero(off <= PULSE_SEARCH)
    if near.size:
        best = near[np.argmax(mag[near])]
        if mag[best] >= PULSE_PRESENT * mag.max():
            return float(off[best])
    strongest = bpm[int(np.argmax(mag))]
    return float(min(abs(strongest * f / pulse - 1.0) for f in (0.5, 1.0, 2.0)))


def tempo_stability(audio: np.ndarray, sample_rate: int) -> dict:
    """Does the cue keep one pulse? See the module docstring: {"local_bpm", "cue_bpm",
    "max_deviation", "stable"}; a cue shorter than one window has one window.

    Why not each window's `librosa.feature.tempo`: that picks, per window, whichever metrical level
    its prior prefers, so a piano cue locked to 70 bpm read 142, 94 and 94 (a "24 % drift") where
    its left hand played dotted eighths. An autocorrelation is no better judge: it peaks at every
    common multiple of two periods, so 120 bpm then 90 share a 60 bpm "pulse". The spectrum of the
    onset envelope peaks at the rates that are really played (the sixteenths, the beat) and not at
    their common multiples, so each window is asked whether the cue's pulse is still played, and at
    exactly what rate."""
    import librosa

    y = mono(audio)
    if y.size < 4 * ONSET_HOP or not np.any(np.abs(y) > 1e-6):
        return {"local_bpm": [], "max_deviation": float("nan"), "stable": False}
    env = librosa.onset.onset_strength(y=y, sr=sample_rate, hop_length=ONSET_HOP).astype(np.float64)
    fps = sample_rate / ONSET_HOP
    width, hop = int(round(TEMPO_WINDOW_S * fps)), int(round(TEMPO_HOP_S * fps))
    windows = [
        _periodicity_peaks(env[s : s + width], fps)[:2] for s in range(0, max(1, env.size - width + 1), hop)
    ]
    whole_bpm, whole_mag, salience = _periodicity_peaks(env, fps)
    whole_bpm, whole_mag = whole_bpm[salience >= PULSE_SALIENCE], whole_mag[salience >= PULSE_SALIENCE]
    candidates = whole_bpm[np.argsort(whole_mag)[::-1][:PULSE_CANDIDATES]]
    if candidates.size == 0:  # no rate stands out of the cue's spectrum: it has no steady pulse
        return {"local_bpm": [], "cue_bpm": float("nan"), "max_deviation": float("nan"), "stable": False}
    worst = [max(_window_deviation(bpm, mag, c) for bpm, mag in windows) for c in candidates]
    pulse = float(candidates[int(np.argmin(worst))])
    local = [  # each window's rate nearest the cue's pulse, for the report
        float(bpm[np.argmin(np.abs(bpm / pulse - 1.0))]) if bpm.size else float("nan") for bpm, _ in windows
    ]
    deviation = float(min(worst))
    return {
        "local_bpm": local,
        "cue_bpm": pulse,
        "max_deviation": deviation,
        "stable": bool(deviation <= TEMPO_TOLERANCE),
    }


# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def key_clarity(audio: np.ndarray, sample_rate: int) -> dict:
    """Krumhansl–Schmuckler: Pearson correlation of the mean chroma with the 24 rotated K–K key
    profiles; {"clarity": the largest, "key": its key}. Tonal music ~0.7–0.9, noise far lower."""
    import librosa

    y = mono(audio)
    if sample_rate != 22050:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=22050)
    if y.size < 2048 or not np.any(np.abs(y) > 1e-6):
        return {"clarity": float("nan"), "key": None}
    chroma = librosa.feature.chroma_stft(y=y, sr=22050, n_fft=2048, hop_length=512).mean(axis=1)
    best, key = -2.0, None
    for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1])
            if r > best:
                best, key = r, f"{PITCH_CLASSES[tonic]} {mode}"
    return {"clarity": best, "key": key}


def mono(audio: np.ndarray) -> np.ndarray:
    """Mono float32 of [N], [N, C] (C <= 2) or [C, N] audio."""
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1) if y.shape[1] <= 2 and y.shape[0] > 2 else y.mean(axis=0)
    return np.ascontiguousarray(y)
