"""Which General MIDI soundfont the renderer plays: TimGM6mb unless the user names another.

Why this order: TimGM6mb (6 MB, inside the `pretty-midi` wheel, a project dependency) is always
there, the orchestra was voiced on it and the model is measured through it. Debian's FluidR3_GM
(141 MB; `make setup` installs it) sounds fuller note by note, but measured on the 40 held-out
cues it lost more of them to the music measures (the composed reference 72.5 % → 57.5 % passing,
the shipped model 90 % → 75 %; docs/evaluation.md), so it is the user's choice
(`VIDMUSICIAN_SOUNDFONT=/usr/share/sounds/sf2/FluidR3_GM.sf2`), not the default; a system
soundfont plays only where the bundled one is missing.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path

ENV_VAR = "VIDMUSICIAN_SOUNDFONT"
SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian fluid-soundfont-gm
    Path("/usr/share/sounds/sf2/MuseScore_General.sf2"),  # Debian musescore-general-soundfont
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"),  # Debian musescore-general-soundfont-small
)


class SoundfontMissing(FileNotFoundError):
    """No General MIDI soundfont could be found (the message names the fix)."""


def bundled_soundfont() -> Path | None:
    """TimGM6mb.sf2 from the installed `pretty_midi` package (found without importing it)."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "TimGM6mb.sf2"
        if candidate.is_file():
            return candidate
    return None


def find_soundfont() -> Path:
    """$VIDMUSICIAN_SOUNDFONT, else the bundled TimGM6mb, else a system GM soundfont."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise SoundfontMissing(
                f"{ENV_VAR}={chosen}: no such file; point it at a .sf2/.sf3 General MIDI soundfont or unset it"
            )
        return path
    bundled = bundled_soundfont()
    if bundled is not None:
        return bundled
    for path in SYSTEM_SOUNDFONTS:
        if path.is_file():
            return path
    raise SoundfontMissing(
        "no General MIDI soundfont found: run `make setup` (it installs pretty-midi, which ships "
        f"TimGM6mb.sf2), or `apt-get install fluid-soundfont-gm`, or set {ENV_VAR} to a .sf2 file"
    )


@lru_cache(maxsize=4)
def soundfont_bytes(path: Path) -> bytes:
    """The soundfont's bytes, read once per process (every render loads them into its synth)."""
    return Path(path).read_bytes()


_local = threading.local()


def loaded_synth(path: Path, sample_rate: int, drums: bool):
    """(tinysoundfont synth, soundfont id) with the font loaded, one per thread, font, rate and
    kind: loading costs more than playing a few seconds, and each copy of FluidR3 holds about
    300 MB, so the renderer's streams and `font_levels`' probe notes share these (never at once:
    probes run between streams). The caller resets it (`sounds_off`) before playing."""
    import tinysoundfont

    pool = _local.__dict__.setdefault("synths", {})
    key = (str(path), sample_rate, drums)
    if key not in pool:
        synth = tinysoundfont.Synth(samplerate=sample_rate)
        pool[key] = (synth, synth.sfload(soundfont_bytes(Path(path))))
    return pool[key]
