"""Zero-shot scoring: stock MusicGen with a text prompt read off the pictures and their rhythm.

No adapters: CLIP's zero-shot similarity between the scene's image embeddings and a short list
of scene descriptions picks music descriptors, and the rhythm curve's autocorrelation gives a
tempo. Both go into a plain text prompt for the backbone's own text conditioner.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.errors import GeneratorInputError
from engine.timebase import TOKEN_RATE

# scene description (what CLIP sees) -> music descriptors (what MusicGen was trained to read)
SCENE_TAGS: dict[str, str] = {
    "a city street at night": "dark synthwave, pulsing bass",
    "a sunny beach": "tropical house, bright marimba",
    "a forest or nature trail": "ambient folk, acoustic guitar",
    "people dancing at a party": "upbeat dance pop, four on the floor",
    "a sports or action scene": "energetic rock, driving drums",
    "a calm lake at sunset": "calm piano, warm pads",
    "snowy mountains": "cinematic orchestral, epic strings",
    "a car chase": "intense action score, fast percussion",
    "a wedding": "romantic strings, gentle piano",
    "children playing": "playful ukulele, whistling",
    "an office or a meeting": "light corporate, plucked synths",
    "people cooking food": "jazzy, light swing",
    "a rainy day": "melancholic lo-fi, soft keys",
    "a concert crowd": "live rock anthem",
    "outer space and stars": "spacey ambient, synth drones",
    "people riding bikes": "indie rock, upbeat guitars",
}


def tempo_from_rhythm(curve_50hz: np.ndarray, fps: float = TOKEN_RATE, min_confidence: float = 0.2) -> float | None:
    """Beats per minute from the peak autocorrelation of the rhythm curve at 0.25–1.5 s lags.

    Returns None when the curve is too short or has no clear period (a tempo guessed from noise
    would only mislead the prompt).
    """
    x = np.asarray(curve_50hz, dtype=np.float64)
    x = x.sum(axis=1) if x.ndim == 2 else x
    lo, hi = int(round(0.25 * fps)), int(round(1.5 * fps))
    if x.shape[0] < 2 * hi or not np.isfinite(x).all():
        return None
    x = x - x.mean()
    energy = float(np.dot(x, x))
    if energy <= 1e-12:
        return None
    ac = np.array([np.dot(x[:-lag], x[lag:]) for lag in range(lo, hi + 1)]) / energy
    best = int(np.argmax(ac))
    if ac[best] < min_confidence:
        return None
    bpm = 60.0 * fps / (lo + best)
    while bpm < 70.0:
        bpm *= 2.0
    while bpm > 180.0:
        bpm /= 2.0
    return round(bpm)


class ZeroShotPrompter:
    """Turns image embeddings (CLIP's joint space) into music descriptors by text similarity."""

    def __init__(
        self, encode_text: Callable[[list[str]], np.ndarray], scene_tags: dict[str, str] | None = None
    ):
        self.scene_tags = dict(scene_tags or SCENE_TAGS)
        self.scenes = list(self.scene_tags)
        emb = np.asarray(encode_text(self.scenes), dtype=np.float32)
        self.text = emb / np.linalg.norm(emb, axis=1, keepdims=True).clip(1e-8)

    def tags(self, cls_1fps: np.ndarray, k: int = 2) -> list[str]:
        cls = np.asarray(cls_1fps, dtype=np.float32).reshape(-1, np.shape(cls_1fps)[-1])
        if cls.shape[1] != self.text.shape[1]:
            raise GeneratorInputError(
                f"image embeddings have width {cls.shape[1]} but the text encoder gives "
                f"{self.text.shape[1]}; use the same CLIP model for both"
            )
        img = cls / np.linalg.norm(cls, axis=1, keepdims=True).clip(1e-8)
        sims = (img @ self.text.T).mean(axis=0)
        return [self.scene_tags[self.scenes[i]] for i in np.argsort(-sims)[:k]]


def build_prompt(tags: list[str], bpm: float | None, user_prompt: str | None) -> str:
    parts = [user_prompt.strip()] if user_prompt and user_prompt.strip() else []
    parts += tags
    if bpm is not None:
        parts.append(f"{int(bpm)} bpm")
    return ", ".join(parts) if parts else "instrumental music"
