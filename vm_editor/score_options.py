"""Every option a score takes, defined once: `ScoreOptions`, its flags, and what is refused
before any work.

Why: the CLI, the panel, `watch`, the demo and the host launchers each had their own option
lists, and their flags, defaults and checks drifted apart. Here each flag is written once
(`_FLAGS`), `add_score_options` puts them on any face's parser, and `ScoreOptions.from_args`
turns any face's parsed flags into the same options; vm_editor/session.py runs the operations
(score, conform, regenerate, export) on them.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from engine.api import CUE_ENERGIES, CUE_MOODS
from vm_editor import input_guard, scoring


@dataclasses.dataclass(frozen=True)
class ScoreOptions:
    """Every option a score takes, named as `vm-editor score`'s flags; the panel, `watch`, the
    demo and the hosts take the same ones. Raw as given: `seed`, `prompt`, `mood` and `energy`
    None mean "not given" (regenerate then keeps the cue's own; `auto` is the prompt deciding)."""

    # how to read the timeline
    track: int | None = None  # --track N (1 = lowest video track)
    rate: float | None = None  # --rate R for formats without one (EDL)
    project: str | None = None  # --project NAME|N of an FCPXML with several
    relink: tuple[str, ...] = ()  # --relink DIR...
    # the cue plan
    cues: str = "auto"  # --cues auto|per-clip|one
    merge: tuple[str, ...] = ()  # --merge A-B...
    merge_all: bool = False  # --merge-all
    split_at_markers: bool = False  # --split-at-markers
    record_in: str | None = None  # --in
    record_out: str | None = None  # --out
    # the music
    preset: str = "tiny"  # --preset P
    seed: int | None = None  # --seed N: cue K's first take gets scoring.cue_seed(N, K)
    prompt: str | None = None  # --prompt TEXT
    guidance: float | None = None  # --guidance G
    mood: str | None = None  # --mood M (engine.api.CUE_MOODS, or auto)
    energy: str | None = None  # --energy E (engine.api.CUE_ENERGIES, or auto)
    hits: bool = True  # --no-hits: cuts and markers get no forced accents
    stems: bool = False  # --stems: one WAV per stream beside each cue
    takes: int = 1  # --takes N alternatives per cue, the last one playing
    # the result
    crossfade: float = 0.5  # --crossfade S where cues touch
    allow_offline: bool = False  # --allow-offline: score clips without pictures
    cue_dir: Path | None = None  # --cue-dir DIR (default: beside the output, `cue_folder_for`)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ScoreOptions:
        """From any face's parsed flags, refused as `score` refuses them before any work."""
        options = options_from_args(args)
        check_options(options)
        return options

    @property
    def first_seed(self) -> int:
        """The score's --seed (0 when none is given)."""
        return self.seed or 0


FIELDS = tuple(f.name for f in dataclasses.fields(ScoreOptions))
READ = ("track", "rate", "project", "relink")
PLAN = ("cues", "merge", "merge_all", "split_at_markers", "record_in", "record_out")
RECIPE = ("seed", "prompt", "guidance", "mood", "energy")

# field -> (flags, argparse keywords): the one definition of every shared flag
_FLAGS: dict[str, tuple[tuple[str, ...], dict]] = {
    "track": (("--track",), dict(type=int, default=None, help="video track to score (1 = lowest)")),
    "rate": (("--rate",), dict(type=float, default=None, help="frame rate for formats without one (EDL)")),
    "project": (
        ("--project",),
        dict(default=None, metavar="NAME|N", help="FCPXML with several projects: which one (first)"),
    ),
    "relink": (
        ("--relink",),
        dict(type=Path, action="append", default=[], help="folder to search for media"),
    ),
    "cues": (
        ("--cues",),
        dict(
            choices=("auto", "per-clip", "one"),
            default="auto",
            help="cue plan over the program: auto (gaps, cue markers, changes of world: another "
            "source that looks different; changes of meaning), per-clip, one",
        ),
    ),
    "merge": (
        ("--merge",),
        dict(action="append", default=[], metavar="A-B", help="merge scenes A..B into one cue"),
    ),
    "merge_all": (("--merge-all",), dict(action="store_true", help="one cue under the whole track")),
    "split_at_markers": (("--split-at-markers",), dict(action="store_true", help="markers start new cues")),
    "record_in": (
        ("--in",),
        dict(dest="record_in", default=None, help="score from here (timecode, frames or 10.5s)"),
    ),
    "record_out": (("--out",), dict(dest="record_out", default=None, help="score up to here (exclusive)")),
    "preset": (
        ("--preset",),
        dict(default="tiny", help="the model preset (its encoder also spots --cues auto)"),
    ),
    "seed": (
        ("--seed",),
        dict(type=int, default=None, help="cue K's first take gets a seed derived from N and K"),
    ),
    "prompt": (("--prompt",), dict(default=None, help="text style prompt mixed with the pictures")),
    "guidance": (
        ("--guidance",),
        dict(type=float, default=None, help="how strongly pictures/prompt steer (CFG)"),
    ),
    "mood": (
        ("--mood",),
        dict(
            default=None,
            metavar="M",
            help=f"the cue's mood over the prompt's words: {', '.join(CUE_MOODS)}, or {scoring.AUTO} "
            "(the prompt decides); sets its style unless the prompt names one, and its mode and energy "
            "unless the prompt's words do (regenerate: as the cue was scored unless given)",
        ),
    ),
    "energy": (
        ("--energy",),
        dict(
            default=None,
            metavar="E",
            help=f"the cue's energy (note density), over the prompt and the mood: "
            f"{', '.join(CUE_ENERGIES)}, or {scoring.AUTO}",
        ),
    ),
    "hits": (
        ("--no-hits",),
        dict(
            action="store_true",
            help="no forced accents at cuts and markers: the model alone follows the pictures",
        ),
    ),
    "stems": (
        ("--stems",),
        dict(
            action="store_true",
            help="also one WAV per stream beside each cue: <cue>.drums/.bass/.harmony/.melody.wav",
        ),
    ),
    "takes": (
        ("--takes",),
        dict(
            type=int,
            default=1,
            metavar="N",
            help=f"N alternative takes of every cue (1-{scoring.MAX_TAKES}): take k opens in the k-th "
            "most likely style for its pictures (in a named style: the other end of its tempo range); "
            "the last is the one playing, the others wait, disabled, on the takes track",
        ),
    ),
    "crossfade": (
        ("--crossfade",),
        dict(type=float, default=0.5, help="seconds of dissolve where cues touch"),
    ),
    "allow_offline": (
        ("--allow-offline",),
        dict(action="store_true", help="score clips whose media is offline, without pictures"),
    ),
    "cue_dir": (("--cue-dir",), dict(type=Path, default=None, help="where cue WAVs go")),
}
_DEST = {"hits": "no_hits"}  # the flag says the opposite of the field


def add_score_options(parser: argparse.ArgumentParser, fields: Sequence[str] = FIELDS) -> None:
    """Put ScoreOptions' flags (all, or `fields`) on `parser`: score, watch and the panel take all
    of them; conform, regenerate, scenes and rhythm the ones that apply to them."""
    for name in fields:
        flags, keywords = _FLAGS[name]
        parser.add_argument(*flags, **keywords)


def _dest(name: str) -> str:
    return _DEST.get(name, name)


def options_from_args(args: argparse.Namespace) -> ScoreOptions:
    """ScoreOptions from any face's parsed flags (those a command lacks keep their defaults)."""
    given = {}
    for name in FIELDS:
        if not hasattr(args, _dest(name)):
            continue
        value = getattr(args, _dest(name))
        if name == "hits":
            value = not value
        elif name in ("relink", "merge"):
            value = tuple(str(v) for v in value)
        given[name] = value
    return ScoreOptions(**given)


def check_options(options: ScoreOptions) -> None:
    """What `score` refuses before reading anything: a crossfade past the handle, takes, controls."""
    input_guard.check_crossfade(options.crossfade)
    scoring.check_takes(options.takes)
    scoring.check_controls(options.mood, options.energy)


def check_text(options: ScoreOptions, out_path: Path | None = None, *, explicit_output: bool = False) -> None:
    """Undecodable bytes in what the score records: one error before any work, not a traceback."""
    if out_path is not None:
        input_guard.check_utf8(out_path, "-o" if explicit_output else "the output (named after the timeline)")
    input_guard.check_utf8(options.cue_dir, "--cue-dir")
    input_guard.check_utf8(options.prompt, "--prompt")
