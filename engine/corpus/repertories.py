"""Which works of the `music21` corpus the backbone may learn from, and the licence that says so.

Why a table: the music21 package ships ~3,000 encoded works, but it does not own most of them; its
`corpus/license.txt` says the encodings are "distributed with the permission of the encoders" and
that some "may not be used for commercial uses or have other restrictions: please see the licenses
embedded in individual compositions or directories". So every repertory considered is listed here
with the licence as the corpus states it (the file it is in, quoted), and only those whose licence
is clearly permissive (public domain, CC0, CC-BY) are `admitted`. A repertory that states nothing,
or states a non-commercial, share-alike or all-rights-reserved licence, stays out; changing that is
a reviewed edit of this table, never a run-time switch. docs/real-music.md is the readable form.

Paths are relative to the installed `music21/corpus/` folder. `styles` are the styles a work of
the repertory may be written as, in preference order (the tokenizer takes the first whose bar and
mode fit the work; engine/corpus/real_music.py).
"""

from __future__ import annotations

from dataclasses import dataclass

CORPUS_LICENCE = "license.txt"  # the corpus-wide statement every repertory falls back to


@dataclass(frozen=True)
class Licence:
    name: str  # "public domain", "CC0", "CC-BY", "non-commercial only", "none stated", ...
    stated_in: str  # the file (relative to music21/corpus/) and where in it the licence is stated
    quote: str  # the licence's words as that file has them
    permissive: bool  # public domain / CC0 / CC-BY: training and shipping the model are allowed


@dataclass(frozen=True)
class Repertory:
    name: str
    paths: tuple[str, ...]  # files or folders under music21/corpus/
    styles: tuple[str, ...]  # engine.symbolic.score.STYLES, preferred first
    licence: Licence
    melody_parts: tuple[int, ...] = (0,)  # the parts whose top note is the tune (0: the top part)

    @property
    def admitted(self) -> bool:
        return self.licence.permissive


def _none_stated(where: str) -> Licence:
    return Licence(
        "none stated",
        f"{where} (no licence in the folder or the files); {CORPUS_LICENCE}",
        "Some encodings included in the corpus may not be used for commercial uses or have other "
        "restrictions: please see the licenses embedded in individual compositions or directories",
        permissive=False,
    )


_SONG = ("piano_ballad", "cinematic_strings", "jazz_trio", "acoustic_folk")
_POLYPHONY = ("cinematic_strings", "piano_ballad", "jazz_trio", "acoustic_folk")
_FOLK = ("acoustic_folk", "piano_ballad", "cinematic_strings", "jazz_trio")

REPERTORIES: tuple[Repertory, ...] = (
    # --- admitted: a permissive licence embedded in the work itself (MusicXML <rights>) -----------
    Repertory(
        "foster_lead_sheet",
        ("leadSheet/fosterBrownHair.mxl",),
        _SONG,
        Licence("public domain", "leadSheet/fosterBrownHair.mxl <rights>", "Public Domain", True),
    ),
    Repertory(
        "johnson_lift_every_voice",
        ("johnson_j_r/lift_every_voice.mxl",),
        _SONG,
        Licence(
            "public domain; encoding CC0",
            "johnson_j_r/lift_every_voice.mxl <rights>",
            "Public Domain (Encoding by MSAC: CC0)",
            True,
        ),
    ),
    Repertory(
        "liliuokalani_aloha_oe",
        ("liliuokalani/aloha_oe.mxl",),
        _SONG,
        Licence(
            "public domain; encoding CC0",
            "liliuokalani/aloha_oe.mxl <rights>",
            "Copyright 1884 by LILIUOKALANI (Now, Public Domain; Encoding by MSAC, CC0)",
            True,
        ),
        melody_parts=(0, 4),  # the choir's soprano (refrain) and the solo voice (verses)
    ),
    Repertory(
        "lusitano_madrigal",
        ("lusitano/allor_che_ignuda.mxl",),
        _POLYPHONY,
        Licence(
            "CC0",
            "lusitano/allor_che_ignuda.mxl <rights>",
            "Copyright 2022 Michael Scott Asato Cuthbert: released as CC0/Public Domain",
            True,
        ),
    ),
    Repertory(
        "weber_concertino",
        ("weber/concertino_clarinet.mxl",),
        _POLYPHONY,
        Licence(
            "public domain",
            "weber/concertino_clarinet.mxl <rights>",
            "Released to Public Domain in 1998",
            True,
        ),
    ),
    Repertory(
        "corelli_grave",
        ("corelli/opus3no1/1grave.xml",),
        _POLYPHONY,
        Licence(
            "CC-BY", "corelli/opus3no1/1grave.xml <rights>", "© 2014, Creative Commons License (CC-BY)", True
        ),
    ),
    # --- excluded: a restrictive licence ------------------------------------------------------------
    Repertory(
        "essen_folksongs",
        ("essenFolksong",),
        _FOLK,
        Licence(
            "non-commercial only",
            "essenFolksong/license.txt",
            "The legal status of the Essen folksong database is unclear [...] has given permission "
            "for non-commercial distribution and use of these files in music21.",
            False,
        ),
    ),
    Repertory(
        "palestrina",
        ("palestrina",),
        _POLYPHONY,
        Licence(
            "all derivative rights reserved",
            "palestrina/*.krn header (!!!YEC, !!!YEM)",
            "Copyright 2000, John Miller / Rights to all derivative electronic formats reserved. / "
            "Refer to licensing agreement for further details.",
            False,
        ),
    ),
    Repertory(
        "bach_humdrum",
        ("bach/bwv277.krn", "bach/bwv281.krn", "bach/bwv366.krn"),
        _POLYPHONY,
        Licence(
            "licensing agreement (CCARH)",
            "bach/bwv277.krn, bwv281.krn, bwv366.krn header (!!!YEC, !!!YEM)",
            "Copyright 1994, Center for Computer Assisted Research in the Humanities / "
            "Refer to licensing agreement for further details.",
            False,
        ),
    ),
    Repertory(
        "josquin",
        ("josquin",),
        _POLYPHONY,
        Licence(
            "GPL-2.0-or-later (copyleft)",
            "josquin/*.abc header comment",
            "Copyright (C) 1999 Laura E. Conrad [...] under the terms of the GNU General Public License",
            False,
        ),
    ),
    Repertory(
        "cuthbert_share_alike",
        (
            "ciconia/quod_jactatur.xml",
            "luca/gloria.xml",
            "webern/webern_dormi_jesu_op_16_no_2.mxl",
            "beach/prayer_of_a_tired_child.musicxml",
        ),
        _POLYPHONY,
        Licence(
            "CC-BY-SA (share-alike, copyleft)",
            "each file's <rights>",
            "2010 Michael Scott Cuthbert -- freely distributed under a CC-BY-SA 3.0 license",
            False,
        ),
    ),
    # --- excluded: no licence stated (the corpus-wide statement only) ------------------------------
    Repertory("bach_chorales", ("bach",), _POLYPHONY, _none_stated("bach/*.mxl, *.xml")),
    Repertory("ryans_mammoth", ("ryansMammoth",), _FOLK, _none_stated("ryansMammoth/*.abc")),
    Repertory("oneills_1850", ("oneills1850",), _FOLK, _none_stated("oneills1850/*.abc")),
    Repertory("nottingham", ("nottingham-dataset",), _FOLK, _none_stated("nottingham-dataset/*.abc")),
    Repertory("airds_airs", ("airdsAirs",), _FOLK, _none_stated("airdsAirs/*.abc")),
    Repertory("misc_folk", ("miscFolk",), _FOLK, _none_stated("miscFolk/*.abc")),
    Repertory("monteverdi", ("monteverdi",), _POLYPHONY, _none_stated("monteverdi/*.mxl")),
    Repertory("trecento", ("trecento",), _POLYPHONY, _none_stated("trecento/*.xml")),
)


def admitted() -> tuple[Repertory, ...]:
    """The repertories whose licence allows training a shipped model on them."""
    return tuple(r for r in REPERTORIES if r.admitted)


def repertory(name: str) -> Repertory:
    for r in REPERTORIES:
        if r.name == name:
            return r
    raise KeyError(f"unknown repertory {name!r}; known: {', '.join(r.name for r in REPERTORIES)}")
