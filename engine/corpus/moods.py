"""The moods temp music is bought for, a second axis beside the style: what each one changes.

Why data, like `styles.py`: an editor asks for "tense" or "sad" music in words, whatever the
picture shows, so the corpus draws a mood per span independently of the pictures, the composer
plays the span's style in that mood (`mood_styles.py`: mode, melody register, density, dynamics,
dissonance, ostinato) and the caption names the mood, so the text encoder learns the words with
the music they describe. "neutral" is the style as its table writes it (the corpus before moods,
note for note).
"""

from __future__ import annotations

from dataclasses import dataclass

NEUTRAL = "neutral"
NEUTRAL_SHARE = 0.4  # share of spans the corpus leaves in the style's own mood


@dataclass(frozen=True)
class Mood:
    name: str
    # what the caption adds to the style's words, in prompt_intent.WORDS's order (the decoder sends
    # a mood's known words in that order, so it hears the caption it was trained on)
    words: tuple[str, ...]
    mode: str | None  # a key of SCALES; None keeps the style's own mode
    register_shift: int  # semitones the melody's register moves (clamped into MELODY_RANGE)
    density: float  # < 0: chance a melody onset is dropped; > 0: chance a passing onset is added
    dynamics: float  # < 0: chance an accent is one level softer; > 0: one level stronger
    dissonant: bool  # chords lean to minor, diminished and suspended qualities
    ostinato: bool  # the melody repeats a one-bar figure on few pitches
    staccato: bool  # melody notes sound for half their span


MOOD_TABLE: dict[str, Mood] = {
    m.name: m
    for m in (
        Mood(NEUTRAL, (), None, 0, 0.0, 0.0, False, False, False),
        Mood("tension", ("tense", "suspense", "dark"), "minor", -3, 0.0, -0.3, True, True, False),
        Mood("action", ("action", "chase"), "minor", 0, 0.4, 0.5, False, True, False),
        Mood("sadness", ("sad", "melancholy"), "minor", -5, -0.4, -0.5, False, False, False),
        Mood("uplift", ("uplifting", "hopeful"), "major", 3, 0.1, 0.2, False, False, False),
        Mood("comedy", ("comedy", "quirky", "playful"), "major", 5, 0.3, 0.0, False, False, True),
        Mood("romance", ("romantic", "tender"), "major", 0, -0.3, -0.4, False, False, False),
        Mood("wonder", ("wonder", "dreamy", "magical"), "lydian", 7, -0.3, -0.2, False, False, False),
    )
}
MOODS = tuple(name for name in MOOD_TABLE if name != NEUTRAL)  # = prompt_intent.MOODS's keys


def mood(name: str) -> Mood:
    """The mood called `name`; KeyError lists the known ones."""
    try:
        return MOOD_TABLE[name]
    except KeyError:
        raise KeyError(f"unknown mood {name!r}; known: {', '.join(MOOD_TABLE)}") from None


def mood_words(name: str) -> tuple[str, ...]:
    """The single words a mood adds to a caption (none for neutral)."""
    return tuple(dict.fromkeys(w for phrase in mood(name).words for w in phrase.split()))


def decoder_play(name: str) -> dict:
    """What the decoder plays of mood `name` beyond its mode (`form.MoodPlay`'s fields; the model
    folder's vocabulary carries it): its register, density, dynamics, harmony and figure, so a cue
    asked for the mood is written as the corpus wrote it. Staccato stays the LM's to play."""
    m = mood(name)
    return {
        "register_shift": m.register_shift,
        "density": m.density,
        "dynamics": m.dynamics,
        "dissonant": m.dissonant,
        "ostinato": m.ostinato,
    }


def check_mood(name: str) -> None:
    """Raise ValueError naming the known moods if `name` is not one."""
    if name not in MOOD_TABLE:
        raise ValueError(f"unknown mood {name!r}; known: {', '.join(MOOD_TABLE)}")
