"""Does a cue sound like music? The issue-14 measures, computed exactly as the owner's
`shared/tools/music_measures.py` does (a script, so it cannot be imported), on an array.

- flatness: median over loud frames of the spectral flatness in 150 Hz–8 kHz (22.05 kHz, n_fft
  2048, hop 512); tones are near 0, white noise 0.56, a 50 Hz codec buzz 0.27–0.41.
- bandwidth: the highest frequency whose average power (n_fft 4096 at the cue's rate) is within
  60 dB of the average spectrum's peak.
- rhythm: the peak normalised autocorrelation of librosa's onset envelope (hop 512 at 22.05 kHz)
  over lags 0.25–1.5 s.
- chroma_move: mean 1 − cosine between chroma vectors 1 s apart (a drone is 0).
Thresholds (DESIGN.md §3, issue 14): flatness < 0.05, bandwidth ≥ 10 kHz, rhythm ≥ 0.35,
chroma_move ≥ 0.05.
"""

from __future__ import annotations

import numpy as np

THRESHOLDS = {"flatness": 0.05, "bandwidth": 10000.0, "rhythm": 0.35, "chroma_move": 0.05}


def music_measures(audio: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Measures of a cue given channels first [C, N] (or mono [N])."""
    import librosa

    y = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    channels = y.shape[0]
    m = y.mean(axis=0).astype(np.float32)
    sr = sample_rate
    power = np.abs(librosa.stft(m, n_fft=4096, hop_length=2048)) ** 2
    avg = power.mean(axis=1)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=4096)
    above = np.nonzero(10 * np.log10(avg / max(avg.max(), 1e-20) + 1e-30) > -60)[0]
    bandwidth = float(freqs[above[-1]]) if above.size else 0.0
    m = librosa.resample(m, orig_sr=sr, target_sr=22050) if sr != 22050 else m
    sr = 22050
    S = np.abs(librosa.stft(m, n_fft=2048, hop_length=512)) ** 2
    f = librosa.fft_frequencies(sr=sr, n_fft=2048)
    band = (f >= 150) & (f <= 8000)
    loud = S.sum(axis=0) > 1e-8 * max(S.sum(axis=0).max(), 1e-20)
    Sb = S[band][:, loud] + 1e-12
    flat = float(np.median(np.exp(np.mean(np.log(Sb), axis=0)) / np.mean(Sb, axis=0))) if Sb.size else 1.0
    env = librosa.onset.onset_strength(y=m, sr=sr, hop_length=512)
    fps = sr / 512
    x = env - env.mean()
    energy = float(np.dot(x, x))
    lo, hi = int(0.25 * fps), int(1.5 * fps)
    rhythm = 0.0
    if energy > 1e-12 and len(x) > 2 * hi:
        rhythm = float(max(np.dot(x[:-k], x[k:]) / energy for k in range(lo, hi + 1)))
    C = librosa.feature.chroma_stft(S=S, sr=sr)
    step = max(1, int(round(fps)))
    a, b = C[:, :-step], C[:, step:]
    cos = (a * b).sum(0) / (np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0) + 1e-9)
    move = float(np.mean(1 - cos)) if cos.size else 0.0
    centroid = float((S.sum(axis=1) * f).sum() / max(S.sum(), 1e-20))
    return {
        "channels": channels,
        "flatness": flat,
        "bandwidth": bandwidth,
        "rhythm": rhythm,
        "chroma_move": move,
        "centroid": centroid,
        "seconds": len(m) / sr,
    }


def failures(measures: dict[str, float]) -> list[str]:
    """What keeps a cue from passing (empty when it passes), in the owner's tool's words."""
    why = []
    if measures["channels"] < 2:
        why.append("mono")
    if measures["flatness"] >= THRESHOLDS["flatness"]:
        why.append(f"flatness {measures['flatness']:.3f}")
    if measures["bandwidth"] < THRESHOLDS["bandwidth"]:
        why.append(f"bandwidth {measures['bandwidth'] / 1000:.1f} kHz")
    if measures["seconds"] >= 3 and measures["rhythm"] < THRESHOLDS["rhythm"]:
        why.append(f"rhythmicity {measures['rhythm']:.2f}")
    if measures["seconds"] >= 4 and measures["chroma_move"] < THRESHOLDS["chroma_move"]:
        why.append(f"static chroma {measures['chroma_move']:.3f}")
    return why
