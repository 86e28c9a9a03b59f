"""Hear and see a style: render a hand-written four bars (I–V–vi–IV) and draw its spectrogram.

usage: python -m tools.style_preview --style jazz_trio --out out/jazz.png [--wav out/jazz.wav]
(the command lives in tools/: it measures the render with engine.eval, which the engine never imports)

Why: the renderer's table is tuned by ear and eye; this is the quickest way to look at one style
(a linear 0–24 kHz spectrogram shows the bandwidth, a frame-rate comb and the pulse at a glance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.symbolic.score import FRAME_RATE, Chord, DrumHit, Note, SymbolicScore

# C major I–V–vi–IV: (root pitch class, quality, bass MIDI note, melody per bar as (beat, beats, MIDI))
_PROGRESSION = (
    (0, "maj", 36, ((0, 1, 72), (1, 0.5, 74), (1.5, 0.5, 76), (2, 1.5, 79), (3.5, 0.5, 76))),
    (7, "maj", 43, ((0, 1.5, 74), (1.5, 0.5, 71), (2, 1, 67), (3, 1, 71))),
    (9, "min", 45, ((0, 1, 72), (1, 1, 76), (2, 0.5, 81), (2.5, 0.5, 79), (3, 1, 76))),
    (5, "maj", 41, ((0, 2, 77), (2, 0.5, 76), (2.5, 0.5, 74), (3, 1, 72))),
)


def demo_score(style: str, bars: int = 4, bpm: float = 100.0) -> SymbolicScore:
    """`bars` bars of I–V–vi–IV in C at `bpm` (100: an eighth note is 15 frames, on the grid):
    kick on 1 and 3, snare on 2 and 4, eighth hats, a crash on bar 1, a root bass in quarters."""
    beat = FRAME_RATE * 60.0 / bpm
    frame = lambda b: int(round(b * beat))  # noqa: E731
    drums, bass, harmony, melody = [], [], [], []
    for bar in range(bars):
        root, quality, bass_note, line = _PROGRESSION[bar % len(_PROGRESSION)]
        b0 = bar * 4
        for eighth in range(8):
            t = b0 + eighth / 2
            pieces = ["hat_closed"]
            if eighth in (0, 4):
                pieces.insert(0, "kick")
            if eighth in (2, 6):
                pieces.insert(0, "snare")
            if eighth == 0 and bar % 4 == 0:
                pieces = ["kick", "crash"]
            accent = 2 if eighth == 0 else 1 if eighth % 2 == 0 else 0
            drums.append(DrumHit(frame(t), tuple(p for p in _ORDER if p in pieces), accent))
        for q in range(4):
            bass.append(
                Note(frame(b0 + q), frame(b0 + q + 0.9), bass_note + (7 if q == 2 else 0), 2 if q == 0 else 1)
            )
        harmony.append(Chord(frame(b0), frame(b0 + 2), root, quality, 2))
        harmony.append(Chord(frame(b0 + 2), frame(b0 + 4), root, quality, 1))
        for start, length, pitch in line:
            melody.append(Note(frame(b0 + start), frame(b0 + start + length), pitch, 2 if start == 0 else 1))
    return SymbolicScore(
        num_frames=frame(bars * 4),
        style_spans=((0, style),),
        drums=tuple(drums),
        bass=tuple(bass),
        harmony=tuple(harmony),
        melody=tuple(melody),
        tempo_bpm=bpm,
    )


_ORDER = ("kick", "snare", "hat_closed", "hat_open", "ride", "crash", "tom_low", "tom_high")


def spectrogram_png(audio: np.ndarray, sample_rate: int, path: Path, title: str) -> Path:
    """Linear-frequency spectrogram (0 to Nyquist, 80 dB range) of a [C, N] cue as a PNG."""
    from PIL import Image, ImageDraw

    mono = np.asarray(audio, dtype=np.float32).reshape(-1, audio.shape[-1]).mean(axis=0)
    n_fft, hop = 2048, 512
    frames = 1 + max(0, len(mono) - n_fft) // hop
    window = np.hanning(n_fft).astype(np.float32)
    stack = np.stack([mono[i * hop : i * hop + n_fft] * window for i in range(frames)])
    db = 10 * np.log10(np.abs(np.fft.rfft(stack, axis=1)) ** 2 + 1e-12)
    db = np.clip((db - db.max() + 80) / 80, 0, 1).T[::-1]
    rgb = np.stack([db * 255, db**2 * 230, 60 + db * 120], axis=-1).astype(np.uint8)
    width, height, top = 1000, 400, 20
    canvas = Image.new("RGB", (width + 50, height + top + 20), (255, 255, 255))
    canvas.paste(Image.fromarray(rgb).resize((width, height)), (50, top))
    draw = ImageDraw.Draw(canvas)
    draw.text((50, 3), title, fill=(0, 0, 0))
    nyquist = sample_rate / 2
    for khz in range(0, int(nyquist // 1000) + 1, 4):
        y = top + height - int(khz * 1000 / nyquist * height)
        draw.text((2, y - 6), f"{khz} kHz", fill=(0, 0, 0))
    seconds = len(mono) / sample_rate
    for s in range(int(seconds) + 1):
        x = 50 + int(s / seconds * width)
        draw.line([(x, top + height), (x, top + height + 5)], fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
