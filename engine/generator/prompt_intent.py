"""What an editor's prompt asks for, in the terms the model knows: a style, a tempo, an energy, a
mood (and its mode), and the words it could not place.

Why: the tiny model's text encoder learned only its training captions ("jazz trio, swing, walking
bass, ..."). Editors write "epic orchestral trailer", "dark tense", "lo-fi": words it never saw,
which it ignored while the pictures chose the style. A vocabulary table maps the words editors use
to the model's styles, moods and energy levels, so a prompt is an instruction the decoder keeps
(`cue_grid.StreamMasks.obeying`), not a hint. The table ships in the model folder
(`prompt_vocabulary.json`, written by the training recipe from `prompt_vocabulary()`), beside the
caption words the text encoder knows (`prompt_words.json`).

How words combine, predictably: a word that names a style (an instrument, a genre: "strings",
"jazz", "synth") beats one that leans to a style (an editor's word or a mood: "epic", "sad",
"corporate"); between equals the first in the prompt wins. An energy word beats the energy a mood
implies; a mode word ("minor") beats the mood's mode. "N bpm" names the tempo.

Explicit controls (a cue's `mood` and `energy`, from `--mood`/`--energy` or the panel's choosers,
`PromptIntent.with_controls`) beat the words: a chosen mood takes the place of the prompt's mood
(its style unless a word names one, its mode unless a mode word names one, its energy unless an
energy word names one, its words for the text encoder); a chosen energy beats every other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.errors import GeneratorInputError
from engine.generator.cue_grid import prompt_bpm
from engine.generator.form import MoodPlay
from engine.symbolic.score import STYLES

VOCABULARY_FILE = "prompt_vocabulary.json"
ENERGIES = ("low", "medium", "high")
MODES = ("major", "minor", "lydian", "mixolydian")
TEMPO_EXAMPLE = "'96 bpm'"

# The moods temp music is bought for: the style, mode and energy each is decoded as.
MOODS: dict[str, dict[str, str]] = {
    "tension": {"style": "cinematic_strings", "mode": "minor", "energy": "medium"},
    "action": {"style": "action_percussion", "mode": "minor", "energy": "high"},
    "sadness": {"style": "piano_ballad", "mode": "minor", "energy": "low"},
    "uplift": {"style": "indie_rock", "mode": "major", "energy": "high"},
    "comedy": {"style": "jazz_trio", "mode": "major", "energy": "medium"},
    "romance": {"style": "piano_ballad", "mode": "major", "energy": "low"},
    "wonder": {"style": "ambient", "mode": "lydian", "energy": "low"},
}


def _each(words: str, **entry: str) -> dict[str, dict[str, str]]:
    return {w: dict(entry) for w in words.split()}


# word -> what it asks for: "style" (names it), "leans" (a style it leans to), "mood", "energy",
# "mode". Words are single tokens as `tokenize` gives them ("lo-fi" -> "lofi").
WORDS: dict[str, dict[str, str]] = {
    **{name: {"style": name} for name in STYLES},
    # instruments and genres: they name a style
    **_each(
        "strings violin violins viola cello cellos orchestra orchestral symphonic cinematic",
        style="cinematic_strings",
    ),
    **_each("piano pianos keys ballad", style="piano_ballad"),
    **_each("rock indie electric band", style="indie_rock"),
    **_each(
        "electronic electronica synth synths synthesizer edm techno house dance electro pulse arpeggios",
        style="electronic_pulse",
    ),
    **_each("folk acoustic banjo ukulele mandolin country waltz strummed", style="acoustic_folk"),
    **_each("jazz jazzy swing sax saxophone trumpet bebop trio", style="jazz_trio"),
    **_each("ambient pads drone drones atmospheric atmosphere textures soundscape", style="ambient"),
    **_each("percussion taiko", style="action_percussion"),
    # words that lean to a style without naming one
    **_each("guitar guitars", leans="indie_rock"),
    **_each("drums", leans="action_percussion"),
    "epic": {"leans": "cinematic_strings", "energy": "high"},
    "trailer": {"leans": "action_percussion", "energy": "high"},
    "sweeping": {"leans": "cinematic_strings"},
    "warm": {"leans": "piano_ballad"},
    "corporate": {"leans": "indie_rock", "mood": "uplift", "energy": "medium"},
    "documentary": {"leans": "ambient", "energy": "low"},
    "lofi": {"leans": "jazz_trio", "energy": "low"},
    "chillhop": {"leans": "jazz_trio", "energy": "low"},
    "walking": {"leans": "jazz_trio"},
    "floating": {"leans": "ambient", "energy": "low"},
    "pounding": {"leans": "action_percussion", "energy": "high"},
    # moods
    **_each(
        "tense tension suspense suspenseful thriller ominous menacing dark horror creepy scary",
        mood="tension",
    ),
    **_each("action chase fight battle aggressive intense", mood="action"),
    **_each(
        "sad sadness melancholy melancholic somber sombre grief tragic emotional nostalgic", mood="sadness"
    ),
    **_each(
        "uplifting uplift inspiring inspirational hopeful triumphant positive motivational happy joyful cheerful bright",
        mood="uplift",
    ),
    **_each("comedy comedic funny quirky playful whimsical silly", mood="comedy"),
    **_each("romantic romance love tender intimate", mood="romance"),
    **_each("wonder dreamy magical ethereal awe mysterious fantasy", mood="wonder"),
    # energy
    **_each("low calm relaxed peaceful quiet mellow soft gentle slow chill sparse minimal", energy="low"),
    **_each("medium moderate steady", energy="medium"),
    **_each("high energetic upbeat driving fast powerful exciting pumping busy", energy="high"),
    # modes
    **{m: {"mode": m} for m in MODES},
}
# Words that carry no instruction ("music for a sad scene, with strings"): known, never warned about.
FILLERS = frozenset(
    "a an and the of for with in on to at by very some more less bit little music score cue track "
    "song tune feel feeling vibe vibes style mood energy tempo bpm scene sequence like kind sort "
    "please but or no not".split()
)


def prompt_vocabulary(captions: dict[str, str], plays: dict[str, dict] | None = None) -> dict:
    """The table `prompt_vocabulary.json` holds: words, moods, fillers and each style's training
    caption (`captions`, style -> "jazz trio, swing, ..."; the text the decoder conditions on when
    a prompt names that style). `plays`: mood -> how the composer plays it beyond its mode
    (`form.MoodPlay`'s fields), carried in each mood's entry for the decoder."""
    missing = sorted(set(STYLES) - set(captions))
    if missing:
        raise ValueError(f"no caption for styles {missing}")
    plays = plays or {}
    return {
        "words": WORDS,
        "moods": {
            name: {**entry, **({"play": plays[name]} if name in plays else {})}
            for name, entry in MOODS.items()
        },
        "fillers": sorted(FILLERS),
        "captions": {name: captions[name] for name in STYLES},
    }


def tokenize(prompt: str | None) -> list[str]:
    """The prompt's words, lower case; "lo-fi" and "lo fi" are "lofi", "120bpm" stays one token."""
    text = re.sub(r"\blo[\s-]?fi\b", "lofi", (prompt or "").lower())
    return [w.replace("-", "") for w in re.findall(r"[a-z0-9_]+(?:-[a-z0-9_]+)*", text)]


@dataclass(frozen=True)
class PromptIntent:
    """What one prompt asks for; None where it names nothing."""

    style: str | None = None  # one of score.STYLES
    tempo_bpm: float | None = None
    energy: str | None = None  # one of ENERGIES
    mood: str | None = None  # a key of MOODS
    mode: str | None = None  # one of MODES: the key the form decoder writes the cue in (`form.in_mode`)
    unknown: tuple[str, ...] = ()  # words neither the table nor the text encoder knows
    # which of style, energy and mode a word of the prompt named itself (not through its mood or a
    # word that only leans): what an explicit mood leaves as the prompt said (`with_controls`)
    named: frozenset[str] = frozenset()

    def with_controls(
        self,
        *,
        mood: str | None = None,
        energy: str | None = None,
        moods: dict[str, dict[str, str]] | None = None,
    ) -> PromptIntent:
        """This intent with a cue's explicit controls over its words: `mood` (a key of `moods`,
        the model's table, MOODS by default) replaces the prompt's mood, with its style, mode and
        energy where no word of the prompt named them; `energy` (one of ENERGIES) beats all.
        None leaves the prompt's say. An unknown value is an input error naming the known ones."""
        table = MOODS if moods is None else moods
        intent = self
        if mood is not None:
            if mood not in table:
                raise GeneratorInputError(
                    f"mood {mood!r} is unknown to this model; choose one of {', '.join(table)}"
                )
            of_mood = table[mood]
            intent = replace(
                intent,
                mood=mood,
                style=intent.style if "style" in intent.named else of_mood["style"],
                mode=intent.mode if "mode" in intent.named else of_mood.get("mode"),
                energy=intent.energy if "energy" in intent.named else of_mood["energy"],
            )
        if energy is not None:
            if energy not in ENERGIES:
                raise GeneratorInputError(
                    f"energy {energy!r} is unknown; choose one of {', '.join(ENERGIES)}"
                )
            intent = replace(intent, energy=energy)
        return intent


@dataclass(frozen=True)
class Vocabulary:
    """A model folder's prompt vocabulary (see the module docstring)."""

    words: dict[str, dict[str, str]] = field(default_factory=dict)
    moods: dict[str, dict[str, str]] = field(default_factory=dict)
    fillers: frozenset[str] = frozenset()
    captions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: dict) -> Vocabulary:
        words, moods = dict(doc["words"]), dict(doc["moods"])
        for word, entry in words.items():
            for key in ("style", "leans"):
                if key in entry and entry[key] not in STYLES:
                    raise ValueError(f"word {word!r}: unknown style {entry[key]!r}")
            if "mood" in entry and entry["mood"] not in moods:
                raise ValueError(f"word {word!r}: unknown mood {entry['mood']!r}")
            if "energy" in entry and entry["energy"] not in ENERGIES:
                raise ValueError(f"word {word!r}: energy must be one of {ENERGIES}")
        for mood, entry in moods.items():
            if entry.get("style") not in STYLES or entry.get("energy") not in ENERGIES:
                raise ValueError(f"mood {mood!r}: needs a style of {STYLES} and an energy of {ENERGIES}")
            if "play" in entry:
                try:
                    MoodPlay.from_dict(entry["play"])
                except (ValueError, TypeError, AttributeError) as exc:
                    raise ValueError(f"mood {mood!r}: its play is not one ({exc})") from exc
        return cls(words, moods, frozenset(doc.get("fillers", ())), dict(doc.get("captions", {})))

    @classmethod
    def read(cls, folder: Path) -> Vocabulary | None:
        """The folder's vocabulary, or None when it has none (a model from before the table)."""
        path = Path(folder) / VOCABULARY_FILE
        if not path.is_file():
            return None
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a prompt vocabulary ({exc}); rewrite it with `vm-train`") from exc

    def play(self, mood: str | None) -> MoodPlay | None:
        """How the decoder plays `mood` beyond its mode (`form.MoodPlay`), or None: no mood, or a
        table from before moods were played."""
        entry = self.moods.get(mood) if mood else None
        return None if entry is None or "play" not in entry else MoodPlay.from_dict(entry["play"])

    def parse(self, prompt: str | None, known: frozenset[str] = frozenset()) -> PromptIntent:
        """The intent of `prompt`; `known` are further words that are not unknown (the caption
        words the text encoder learned)."""
        tokens = tokenize(prompt)
        named: list[str] = []
        leaning: list[str] = []
        energies: list[str] = []
        moods: list[str] = []
        modes: list[str] = []
        unknown: list[str] = []
        for word in tokens:
            entry = self.words.get(word)
            if entry is None:
                if not (word in self.fillers or word in known or re.fullmatch(r"\d+(\.\d+)?(bpm)?", word)):
                    unknown.append(word)
                continue
            if "style" in entry:
                named.append(entry["style"])
            if "leans" in entry:
                leaning.append(entry["leans"])
            if "mood" in entry:
                moods.append(entry["mood"])
                leaning.append(self.moods[entry["mood"]]["style"])
            if "energy" in entry:
                energies.append(entry["energy"])
            if "mode" in entry:
                modes.append(entry["mode"])
        mood = moods[0] if moods else None
        of_mood = self.moods.get(mood, {}) if mood else {}
        return PromptIntent(
            style=(named or leaning or [None])[0],
            tempo_bpm=prompt_bpm(prompt),
            energy=(energies or [of_mood.get("energy")])[0],
            mood=mood,
            mode=(modes or [of_mood.get("mode")])[0],
            unknown=tuple(dict.fromkeys(unknown)),
            named=frozenset(
                name for name, said in (("style", named), ("energy", energies), ("mode", modes)) if said
            ),
        )

    def caption(self, intent: PromptIntent) -> str | None:
        """The training caption of the style `intent` names (with its tempo), the text the model
        learned that style from; None when it names no style or the table has no caption."""
        text = self.captions.get(intent.style) if intent.style else None
        if text is None:
            return None
        return text if intent.tempo_bpm is None else f"{text}, {intent.tempo_bpm:g} bpm"

    def encoder_text(self, prompt: str | None, intent: PromptIntent, known: frozenset[str]) -> str | None:
        """The text the model is conditioned on: the caption of the style `intent` names, with the
        words of its mood that the text encoder learned (`known`) after it, as the corpus's
        captions put them ("cinematic strings, minor, slow, sweeping, tense, suspense, dark, 80 bpm"
        for "scary"; a mood's mode replaces the style's, as there); else the prompt's words the encoder learned, with its tempo. Other
        words are noise to the encoder ("energy high" and "energy low" would pick different styles
        from the same pictures); None when nothing is left."""
        caption = self.caption(replace(intent, tempo_bpm=None))
        if caption is not None:
            phrases = caption.split(", ")
            moods = [
                w
                for w, entry in self.words.items()
                if intent.mood and entry.get("mood") == intent.mood and w in known and w not in phrases
            ]
            if moods and intent.mode is not None:
                phrases = [p for p in phrases if p not in MODES]
                phrases.insert(1, intent.mode)
            tempo = [] if intent.tempo_bpm is None else [f"{intent.tempo_bpm:g} bpm"]
            return ", ".join([*phrases, *moods, *tempo])
        words = [w for w in tokenize(prompt) if w in known and w != "bpm" and not w.isdigit()]
        tempo = [] if intent.tempo_bpm is None else [f"{intent.tempo_bpm:g} bpm"]
        return ", ".join(filter(None, [" ".join(words), *tempo])) or None

    def known_words(self, per_group: int = 2) -> str:
        """A short list of the words this table knows, per style, mood and energy (the warning's)."""
        groups: dict[str, list[str]] = {}
        for word, entry in self.words.items():
            if "_" in word:
                continue
            if "style" in entry or "mood" in entry:
                groups.setdefault(entry.get("style") or entry["mood"], []).append(word)
            elif set(entry) == {"energy"}:
                groups.setdefault("energy " + entry["energy"], []).append(word)
        styles = [w for s in STYLES for w in groups.get(s, [])[:per_group]]
        moods = [w for m in self.moods for w in groups.get(m, [])[:per_group]]
        energy = [w for e in ENERGIES for w in groups.get("energy " + e, [])[:per_group]]
        return (
            f"styles {', '.join(styles)}; moods {', '.join(moods)}; energy {', '.join(energy)}; "
            f"a tempo as {TEMPO_EXAMPLE}"
        )


def unknown_words_warning(intent: PromptIntent, preset: str, vocabulary: Vocabulary | None) -> str | None:
    """One line naming the words of a prompt the model cannot place, and the words it knows."""
    if not intent.unknown:
        return None
    named = ", ".join(repr(w) for w in intent.unknown)
    known = vocabulary.known_words() if vocabulary is not None and vocabulary.words else "its caption words"
    return f"prompt words {named} are unknown to preset {preset!r} and ignored; it knows {known}"
