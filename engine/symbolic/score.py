"""What a symbolic cue is: note events per stream on the 50 Hz grid, before tokens or audio.

Why: the composer writes these, the tokenizer turns them into the LM's parallel streams and back,
and the renderer plays them through a General MIDI soundfont. Frames are the LM's 50 Hz frames
(MusicGen's codebook rate), so hit points, the rhythm curve and notes line up one to one.
Style (instruments, register, voicing, mix) is not in the notes: the renderer's per-style table
owns it, so the LM spends its capacity on time — what happens on which frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.timebase import TOKEN_RATE

FRAME_RATE = TOKEN_RATE  # frames per second of the token grid (MusicGen's codebook rate)
# One LM codebook each, in this order. "style" carries which of STYLES is playing on every frame:
# the LM decides the style (from the pictures, or a prompt) like any other token, and the renderer
# takes instruments and mix from it, switching where it changes (a section change on a world change).
STREAMS = ("drums", "bass", "harmony", "melody", "style")
ACCENTS = 3  # 0 soft, 1 medium, 2 strong

# Kit pieces a drum frame can hit (at most MAX_DRUM_PIECES at once); the renderer maps each
# to a GM percussion key per style (cinematic styles play toms/crash as timpani and cymbals).
DRUM_PIECES = ("kick", "snare", "hat_closed", "hat_open", "ride", "crash", "tom_low", "tom_high")
MAX_DRUM_PIECES = 3

# Chord qualities as semitone sets above the root; the renderer voices them per style.
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dom7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "dim": (0, 3, 6),
}

BASS_RANGE = (28, 55)  # MIDI E1..G3, inclusive
MELODY_RANGE = (48, 96)  # MIDI C3..C7, inclusive

# The styles an editor would name; the composer, the renderer and the style judge share them.
STYLES = (
    "cinematic_strings",
    "piano_ballad",
    "indie_rock",
    "electronic_pulse",
    "acoustic_folk",
    "jazz_trio",
    "ambient",
    "action_percussion",
)


@dataclass(frozen=True)
class DrumHit:
    frame: int
    pieces: tuple[str, ...]  # names from DRUM_PIECES, 1..MAX_DRUM_PIECES of them
    accent: int  # 0..ACCENTS-1


@dataclass(frozen=True)
class Note:
    """A bass or melody note: sounds from `start` to `end` (exclusive) frames."""

    start: int
    end: int
    pitch: int  # MIDI
    accent: int


@dataclass(frozen=True)
class Chord:
    start: int
    end: int
    root: int  # pitch class 0..11
    quality: str  # a key of CHORD_QUALITIES
    accent: int


@dataclass(frozen=True)
class SymbolicScore:
    """One cue's music as events. `style_spans` say which style plays from which frame on (the
    first span starts at frame 0); the renderer takes each span's instruments and mix."""

    num_frames: int
    style_spans: tuple[tuple[int, str], ...]
    drums: tuple[DrumHit, ...] = ()
    bass: tuple[Note, ...] = ()
    harmony: tuple[Chord, ...] = ()
    melody: tuple[Note, ...] = ()
    tempo_bpm: float | None = None  # what the composer used (truth; the tokens do not carry it)
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def duration_s(self) -> float:
        return self.num_frames / FRAME_RATE

    def style_at(self, frame: int) -> str:
        current = self.style_spans[0][1]
        for start, style in self.style_spans:
            if start > frame:
                break
            current = style
        return current

    def to_dict(self) -> dict:
        """Plain JSON data (a corpus item's sidecar, a cue's record)."""
        return {
            "num_frames": self.num_frames,
            "style_spans": [[f, s] for f, s in self.style_spans],
            "tempo_bpm": self.tempo_bpm,
            "drums": [[h.frame, list(h.pieces), h.accent] for h in self.drums],
            "bass": [[n.start, n.end, n.pitch, n.accent] for n in self.bass],
            "harmony": [[c.start, c.end, c.root, c.quality, c.accent] for c in self.harmony],
            "melody": [[n.start, n.end, n.pitch, n.accent] for n in self.melody],
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SymbolicScore:
        return cls(
            num_frames=int(data["num_frames"]),
            style_spans=tuple((int(f), str(s)) for f, s in data["style_spans"]),
            tempo_bpm=data.get("tempo_bpm"),
            drums=tuple(DrumHit(int(f), tuple(p), int(a)) for f, p, a in data.get("drums", ())),
            bass=tuple(Note(*map(int, n)) for n in data.get("bass", ())),
            harmony=tuple(
                Chord(int(a), int(b), int(r), str(q), int(x)) for a, b, r, q, x in data.get("harmony", ())
            ),
            melody=tuple(Note(*map(int, n)) for n in data.get("melody", ())),
            meta=dict(data.get("meta", {})),
        )
