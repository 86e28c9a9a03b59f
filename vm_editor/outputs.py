"""Where a score is written, and every check on it made before any scoring starts.

Why: scoring takes seconds to minutes; an output problem found after it (a file that would be
replaced, a writer that cannot carry the score, a cue folder that takes no files) wastes that
work or, worse, loses an earlier score. Every output a command would write is checked here
first, by the same writers that will write it (`timeline_io.check_writer`).

Names: the scored timeline is `<stem>.scored.<ext>` next to its input, or
`<name>.scored.otio` when the input's format cannot carry the score (`cut.edl` ->
`cut.edl.scored.otio`), so `cut.edl`, `cut.aaf` and `cut.otio` never share an output; each
output has its own cue folder named from its whole file name (`cut.scored.otio` ->
`cut_scored_otio_cues/`).
"""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path
from types import SimpleNamespace

import opentimelineio as otio

from engine.api import CUE_SAMPLE_RATE, CueResult
from vm_editor.errors import EditorInputError, OutputExistsError
from vm_editor.input_guard import check_output, check_path_length, shown

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def cue_folder_for(out_path: Path) -> Path:
    """The default cue folder: beside the scored timeline, named from its whole file name."""
    out_path = Path(out_path)
    return out_path.with_name(f"{out_path.name.replace('.', '_')}_cues")


def check_score_outputs(
    input_path: Path,
    out_path: Path,
    *,
    explicit: bool,
    force: bool,
    cue_folder: Path,
    option: str = "--cue-dir",
) -> None:
    """Refuse, before any work, an output that would replace work or cannot be written.

    `explicit`: the user named the output (-o). The input is never the output of an explicit
    -o, even with --force. A scored timeline's default output is itself: replaced only with
    --force (its score then moves to the takes track). Any other existing file needs --force.
    """
    name = shown(out_path)
    check_path_length(out_path, "-o")  # before any stat: a too-long name raises there
    check_path_length(Path(cue_folder), option)
    if out_path.is_dir():
        raise EditorInputError(
            f"{name}: is a folder; give -o a file name such as {shown(out_path / 'cut.scored.otio')}"
        )
    same = out_path.exists() and _same_file(out_path, input_path)
    if same and explicit:
        raise OutputExistsError(f"{name}: is the input timeline, which is never modified; choose another -o")
    if same and not force:
        raise OutputExistsError(
            f"{name}: is this command's input and its default output; pass --force to replace it "
            "(its score moves to the takes track) or choose another -o"
        )
    if out_path.exists() and not force:
        raise OutputExistsError(f"{name}: already exists; pass --force to replace it or choose -o")
    if out_path.suffix.lower() == ".otiod":
        raise EditorInputError(
            f"{name}: an .otiod bundle is a folder that cannot be replaced in one step; "
            f"write .otioz or .otio instead (-o {out_path.with_suffix('.otio').name})"
        )
    check_output(out_path, None)
    check_folder_takes_files(cue_folder, option)


def check_folder_takes_files(folder: Path, option: str) -> None:
    """The folder (or the existing folder it would be made in) takes new files."""
    folder = Path(folder)
    check_path_length(folder.resolve(), option)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise EditorInputError(
            f"{option} {shown(folder)}: {shown(existing)} is a file, not a folder; "
            "choose another folder with --cue-dir"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".vidmusician-probe-", dir=existing)
    except OSError as exc:
        raise EditorInputError(
            f"{option} {shown(folder)}: cannot write in {shown(existing)} ({exc.strerror}); "
            "choose another folder with --cue-dir"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_writer_carries_score(timeline: otio.schema.Timeline, out_path: Path, input_path: Path) -> None:
    """Write `timeline` with a stand-in score (one silent cue under the whole program) through
    the output format's real writer, into a temporary folder: what that writer refuses (an
    FCP7 clip without media range, an FCPXML output from another format, a bundle whose media
    is not on disk) is refused now, before scoring."""
    from vm_editor.score_track import add_or_replace_score
    from vm_editor.timeline_io import adapter_for, check_writer

    if adapter_for(out_path) == "fcp_xml":  # its writer needs every clip's media length
        for clip in timeline.find_clips():
            ref = clip.media_reference
            if ref is not None and not ref.is_missing_reference and ref.available_range is None:
                raise EditorInputError(
                    f"{shown(out_path)}: FCP7 XML needs each clip's media length and clip "
                    f"{clip.name!r} has none (no available range); write .otio instead "
                    f"(-o {out_path.with_suffix('.otio').name})"
                )
    duration = timeline.duration()
    rate = duration.rate if duration.rate > 0 else 24.0
    frames = max(1, round(duration.value))
    record = TimeRange(RationalTime(0, rate), RationalTime(frames, rate))
    with tempfile.TemporaryDirectory(prefix="vidmusician-probe-") as tmp:
        wav = Path(tmp) / "stand-in.wav"
        with wave.open(str(wav), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(CUE_SAMPLE_RATE)
            out.writeframes(b"\0\0\0\0" * 8)
        seconds = frames / rate
        cue = CueResult(
            index=0,
            name="stand-in",
            wav_path=str(wav),
            duration_s=seconds,
            num_samples=round(seconds * CUE_SAMPLE_RATE),
            sample_rate=CUE_SAMPLE_RATE,
            preset="tiny",
            seed=0,
            prompt=None,
            take=1,
            source_hash="",
            engine_version="",
            model_trained=True,
        )
        scene = SimpleNamespace(index=0, name="stand-in", record_range=record)
        probe = add_or_replace_score(timeline, [scene], [cue])
        check_writer(probe, out_path, input_path=input_path, folder=Path(tmp))


def _same_file(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()
