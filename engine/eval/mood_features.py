"""What a listener hears as mood, measured from audio: the mode, the harmony's colour, the register,
how busy, how loud-and-soft, how detached and how repetitive the music is.

Why these and not the style judge's spectrum statistics: the composer plays every style in every
mood (`engine.corpus.moods`: mode, melody register, density, dynamics, dissonance, ostinato,
staccato), so what separates moods is what a mood changes across styles, not which instruments
play. Each feature measures one of those changes in a way that does not depend on the key or the
level: the clip is brought to one RMS level first (cues reach the judge loudness-normalised to
-18 LUFS, corpus renders do not), the chroma is read relative to the key the clip fits best, and
onsets are counted per beat as well as per second (a mood's density is relative to its style's
tempo).

Features (at 16 kHz), in `FEATURE_NAMES` order: the best Krumhansl-Kessler major and minor key
fits and their difference; the mean chroma rotated to the best key's tonic (12, what the third,
the fourth and the sixth are); the share of frames whose chord is major, minor, diminished or
suspended; the chroma's interval dissonance; the spectral centroid and 85 % roll-off (log2 Hz,
mean and standard deviation), the log2 centroid of the 250-2500 Hz band and the median of its
highest strong bin (the melody's register) and a 12-band mel profile (the register); onsets per second and per
beat, the onset envelope's mean and spread (density); the frame level's spread and the accent
contrast (dynamics); the sustain, how much of its local peak the level keeps (legato vs staccato);
and the onset envelope's strongest repetition between 0.4 and 3 s (ostinato).
"""

from __future__ import annotations

import numpy as np

from engine.eval import metrics

SAMPLE_RATE = 16000
N_FFT = 2048
HOP = 512
RMS_TARGET = 0.1  # every clip is brought to this RMS before anything is measured
MEL_PROFILE_BANDS = 12
MIN_SECONDS = 0.5
MELODY_BAND_HZ = (250.0, 2500.0)  # where the melody's fundamentals and first partials sound

# Krumhansl-Kessler key profiles (tonic first)
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
# chord templates by interval above the root: what a frame's chroma is matched against
CHORDS = {
    "major": (0, 4, 7),
    "minor": (0, 3, 7),
    "diminished": (0, 3, 6),
    "suspended": (0, 5, 7),
}
# how rough each interval class (1..6 semitones) sounds: seconds and the tritone most
ROUGHNESS = np.array([1.0, 0.6, 0.15, 0.1, 0.05, 0.7])

FEATURE_NAMES = (
    "major_fit",
    "minor_fit",
    "major_minus_minor",
    *(f"chroma_{i}" for i in range(12)),
    *(f"chords_{name}" for name in CHORDS),
    "dissonance",
    "centroid_mean",
    "centroid_std",
    "rolloff_mean",
    "rolloff_std",
    "melody_band_centroid",
    "melody_band_top",
    *(f"mel_{i}" for i in range(MEL_PROFILE_BANDS)),
    "onsets_per_s",
    "onsets_per_beat",
    "onset_env_mean",
    "onset_env_std",
    "level_spread_db",
    "accent_contrast",
    "sustain",
    "repetition",
)


def key_fits(chroma_mean: np.ndarray) -> tuple[float, float, int]:
    """(best major fit, best minor fit, tonic pitch class of the better one): the correlation of
    the mean chroma with each key profile over the 12 rotations."""
    rotations = [np.roll(chroma_mean, -k) for k in range(12)]
    with np.errstate(invalid="ignore", divide="ignore"):  # a flat chroma (silence) fits nothing: 0
        major = [np.corrcoef(r, MAJOR_PROFILE)[0, 1] for r in rotations]
        minor = [np.corrcoef(r, MINOR_PROFILE)[0, 1] for r in rotations]
    major, minor = np.nan_to_num(major), np.nan_to_num(minor)
    tonic = int(np.argmax(major)) if major.max() >= minor.max() else int(np.argmax(minor))
    return float(major.max()), float(minor.max()), tonic


def chord_shares(chroma: np.ndarray) -> np.ndarray:
    """Share of frames whose best-matching triad (over 12 roots) is each of CHORDS's qualities."""
    templates = []
    for intervals in CHORDS.values():
        for root in range(12):
            t = np.zeros(12)
            t[[(root + i) % 12 for i in intervals]] = 1.0
            templates.append(t / np.linalg.norm(t))
    norm = chroma / np.maximum(np.linalg.norm(chroma, axis=0, keepdims=True), 1e-9)
    best = np.argmax(np.stack(templates) @ norm, axis=0) // 12
    return np.bincount(best, minlength=len(CHORDS)) / max(best.size, 1)


def dissonance(chroma: np.ndarray) -> float:
    """Mean over frames of the pairwise roughness of the sounding pitch classes (0..1)."""
    p = chroma / np.maximum(chroma.sum(axis=0, keepdims=True), 1e-9)
    total = np.zeros(p.shape[1])
    for interval, weight in enumerate(ROUGHNESS, start=1):
        total += weight * (p * np.roll(p, -interval, axis=0)).sum(axis=0)
    return float(total.mean())


def repetition(envelope: np.ndarray, frame_rate: float) -> float:
    """The onset envelope's largest normalised autocorrelation at lags 0.4-3 s (a repeated figure)."""
    x = envelope - envelope.mean()
    lo, hi = int(0.4 * frame_rate), min(int(3.0 * frame_rate), x.size - 1)
    if hi <= lo or not np.any(x):
        return 0.0
    ac = np.correlate(x, x, mode="full")[x.size - 1 :]
    return float(np.max(ac[lo : hi + 1]) / max(ac[0], 1e-9))


def mood_features(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One feature row (FEATURE_NAMES) for a clip: mono [N] or stereo (channels first or last),
    any rate (resampled to 16 kHz)."""
    import librosa
    from scipy.ndimage import maximum_filter1d

    y = metrics.mono(audio).astype(np.float32)
    if sample_rate != SAMPLE_RATE:
        import soxr

        y = soxr.resample(y, sample_rate, SAMPLE_RATE).astype(np.float32)
    if y.size < MIN_SECONDS * SAMPLE_RATE:
        y = np.pad(y, (0, int(MIN_SECONDS * SAMPLE_RATE) - y.size))
    rms = float(np.sqrt(np.mean(y**2)))
    y = y * np.float32(RMS_TARGET / rms) if rms > 1e-6 else y
    sr, frame_rate = SAMPLE_RATE, SAMPLE_RATE / HOP
    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2

    chroma = librosa.feature.chroma_stft(S=power, sr=sr) + 1e-9
    chroma_mean = chroma.mean(axis=1)
    major, minor, tonic = key_fits(chroma_mean)
    relative = np.roll(chroma_mean / chroma_mean.sum(), -tonic)

    centroid = np.log2(librosa.feature.spectral_centroid(S=np.sqrt(power), sr=sr)[0] + 1.0)
    rolloff = np.log2(librosa.feature.spectral_rolloff(S=np.sqrt(power), sr=sr, roll_percent=0.85)[0] + 1.0)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    band = (freqs >= MELODY_BAND_HZ[0]) & (freqs <= MELODY_BAND_HZ[1])
    band_power = power[band]
    band_energy = band_power.sum(axis=0)
    loud = band_energy > 0.05 * max(float(band_energy.max()), 1e-12)
    pitch = np.log2(freqs[band])
    band_centroid = (pitch[:, None] * band_power).sum(axis=0) / np.maximum(band_energy, 1e-12)
    strong = band_power >= 0.1 * band_power.max(axis=0, keepdims=True)
    top = np.where(strong, pitch[:, None], 0.0).max(axis=0)
    melody = [float(np.mean(band_centroid[loud])), float(np.median(top[loud]))] if loud.any() else [0.0, 0.0]
    mel = np.log(librosa.feature.melspectrogram(S=power, sr=sr, n_mels=MEL_PROFILE_BANDS).mean(axis=1) + 1e-9)
    mel = mel - mel.mean()

    seconds = y.size / sr
    env = librosa.onset.onset_strength(S=librosa.power_to_db(power), sr=sr)
    onsets = metrics.music_onsets(y, sr)
    tempo = metrics.music_tempo(y, sr)
    beats = seconds * tempo / 60.0 if np.isfinite(tempo) and tempo > 0 else seconds * 2.0
    peaks = librosa.util.peak_pick(env, pre_max=3, post_max=3, pre_avg=3, post_avg=5, delta=0.1, wait=3)
    accent = float(np.mean(env[peaks]) / max(np.median(env), 1e-6)) if peaks.size else 1.0

    level = librosa.feature.rms(S=np.sqrt(power), frame_length=N_FFT)[0] + 1e-6
    level_db = 20 * np.log10(level)
    local_peak = maximum_filter1d(level, size=max(3, int(0.5 * frame_rate)))
    sustain = float(np.mean(level / local_peak))

    return np.concatenate(
        [
            [major, minor, major - minor],
            relative,
            chord_shares(chroma),
            [dissonance(chroma)],
            [centroid.mean(), centroid.std(), rolloff.mean(), rolloff.std()],
            melody,
            mel,
            [
                len(onsets) / seconds,
                len(onsets) / max(beats, 1e-3),
                float(env.mean()),
                float(env.std()),
                float(np.percentile(level_db, 90) - np.percentile(level_db, 10)),
                accent,
                sustain,
                repetition(env, frame_rate),
            ],
        ]
    ).astype(np.float64)
