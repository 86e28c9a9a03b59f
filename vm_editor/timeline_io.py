"""Reading timelines from every editor's format and writing results atomically next to them.

I/O lives here and only here: scene extraction and write-back are pure functions over OTIO
objects. The user's file is only ever read. Known adapter faults are corrected or refused in
`vm_editor.format_fixups`; FCPXML is read and written by this package's own exact code.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from engine.file_modes import publish_mode
from engine.temp_files import remove_stale, temp_prefix
from vm_editor import bundle_media, format_fixups, input_guard
from vm_editor.errors import EditorInputError, OutputExistsError, TimelineReadError
from vm_editor.media_links import rebased_url
from vm_editor.score_track import (
    fit_crossfades_to_handles,
    fit_for_fcp7,
    plain_json,
    restore_after_read,
    scored_output_path,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormatInfo:
    """What a format can carry when the score is written back (docs/formats.md has the table)."""

    adapter: str
    audio_track: bool  # can hold a new audio track with our clips
    crossfades: bool  # keeps transitions on that audio track
    metadata: bool  # keeps clip metadata (else a sidecar JSON carries it)
    why_not: str = ""  # why the score cannot be written back in this format (then .otio)


FORMATS: dict[str, FormatInfo] = {
    ".otio": FormatInfo("otio_json", True, True, True),
    ".otioz": FormatInfo("otioz", True, True, True),
    ".xml": FormatInfo("fcp_xml", True, True, True),  # recipe in <comments> (score_track.fit_for_fcp7)
    ".fcpxml": FormatInfo("fcpx_xml", True, True, True),
    ".edl": FormatInfo(
        "cmx_3600",
        False,
        False,
        False,
        "a CMX 3600 EDL holds one video track; the adapter drops an added audio track",
    ),
    ".aaf": FormatInfo(
        "AAF",
        False,
        False,
        False,
        "the AAF writer rebuilds the composition: it renames tracks, drops ScopeReference "
        "tracks and mis-times nested stacks (and fails on some transitions)",
    ),
    ".kdenlive": FormatInfo("kdenlive", True, False, False),
}


@dataclass(frozen=True)
class ReadResult:
    timeline: otio.schema.Timeline
    path: Path
    adapter: str
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what was chosen for the user (e.g. which FCPXML project)


def adapter_for(path: Path) -> str | None:
    """The OTIO adapter that reads `path` by its suffix, or None when no installed one does."""
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix].adapter
    try:
        return otio.adapters.from_filepath(str(path)).name
    except Exception:  # OTIO raises several unrelated types for "no adapter"
        return None


def read_timeline_report(
    path: str | os.PathLike[str], rate: float | None = None, project: str | None = None
) -> ReadResult:
    """Read any supported format, with the corrections applied and what was assumed.

    `project` picks one project (name or 1-based number) of an FCPXML file that holds several.
    `input_guard` runs first (FIFOs, size, nesting: nothing hangs or crashes a parser) and on what
    was read (rates, durations, depth), so every reader is held to the same error contract.
    """
    input_guard.check_timeline_file(Path(path), rate)
    report = _read_report(Path(path), rate, project)
    input_guard.check_timeline(report.timeline, report.path)
    return report


def _read_report(path: Path, rate: float | None, project: str | None) -> ReadResult:
    if not path.exists():
        raise TimelineReadError(f"{path}: timeline file not found; check the path")
    adapter = adapter_for(path)
    if adapter is None:
        raise TimelineReadError(
            f"{path}: no installed OpenTimelineIO adapter reads '{path.suffix}' files; "
            "export the timeline as .otio, FCP7 XML, FCPXML, EDL, AAF or Kdenlive"
        )
    warnings: list[str] = []
    if adapter == "fcpx_xml":
        from vm_editor.fcpxml_reader import read_fcpxml_report

        timeline, notes = read_fcpxml_report(path, project)
        input_guard.check_tracks(timeline, path)
        restore_after_read(timeline, path, adapter)
        return ReadResult(timeline, path, adapter, (), tuple(notes))
    try:
        if adapter == "cmx_3600":
            edl_rate, warnings = format_fixups.edl_rate(path, rate)
            text, fixed = format_fixups.edl_record_durations(
                path.read_text(errors="replace"), edl_rate, path.name
            )
            warnings += fixed
            with adapter_output_quiet():
                result = otio.adapters.read_from_string(text, adapter_name=adapter, rate=edl_rate)
        else:
            with adapter_output_quiet():
                result = otio.adapters.read_from_file(str(path), adapter_name=adapter)
    except EditorInputError:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TimelineReadError(
            f"{path}: cannot read it as {adapter} ({reason}); re-export the timeline from the editor"
        ) from exc
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = list(result.find_children(descended_from_type=otio.schema.Timeline))
        if not timelines:
            raise TimelineReadError(f"{path}: the file holds no timeline; export a sequence")
        result = timelines[0]
    if not isinstance(result, otio.schema.Timeline):
        raise TimelineReadError(f"{path}: the file holds a {type(result).__name__}, not a timeline")
    input_guard.check_tracks(result, path)
    bundle_media.localize_bundle_media(result, path)  # a bundle's own media: online, not offline
    format_fixups.fix_edl_record_start(result)  # also in .otio files converted from EDLs
    warnings += format_fixups.check_rates(result, path)
    restore_after_read(result, path, adapter)
    for w in warnings:
        log.warning(w)
    return ReadResult(result, path, adapter, tuple(warnings))


def read_timeline(
    path: str | os.PathLike[str], rate: float | None = None, project: str | None = None
) -> otio.schema.Timeline:
    """Read any format the installed OTIO adapters know; `rate` is for formats without one (EDL)."""
    return read_timeline_report(path, rate, project).timeline


def default_output_path(timeline_path: Path) -> Path:
    """`<stem>.scored.<same extension>` next to the input; where the format can't hold the score
    (EDL, AAF, formats without a writer here) `<name>.scored.otio`, the input's extension kept in
    the name so `cut.edl`, `cut.aaf` and `cut.otio` never share an output. A file we wrote
    (`cut.scored.xml`, `cut.scored.cue2-take3.xml`) gives `cut.scored.xml` again."""
    timeline_path = Path(timeline_path)
    info = FORMATS.get(timeline_path.suffix.lower())
    if info is not None and info.audio_track:
        return scored_output_path(timeline_path)
    return scored_output_path(timeline_path.with_name(timeline_path.name + ".otio"))


def output_format_note(timeline_path: Path) -> str | None:
    """The message to show when the output cannot be in the input's format, else None."""
    info = FORMATS.get(Path(timeline_path).suffix.lower())
    if info is not None and not info.audio_track:
        return (
            f"{Path(timeline_path).name}: the score cannot be written back as {info.adapter} "
            f"({info.why_not}); it is written as .otio instead (import it with OTIO's tools)"
        )
    return None


def check_writer(
    timeline: otio.schema.Timeline, out_path: Path, *, input_path: Path | None, folder: Path
) -> None:
    """Write `timeline` as `out_path`'s format would be written, into `folder` (a scratch folder):
    the writer's refusal is raised naming `out_path`. Bundles (.otioz) only check their media."""
    out_path = Path(out_path)
    adapter = adapter_for(out_path)
    if adapter is None:
        raise TimelineReadError(f"{out_path}: no OpenTimelineIO adapter writes '{out_path.suffix}'")
    probe = Path(folder) / f"probe{out_path.suffix}"
    _write_or_explain(_fit_to_format(timeline, out_path), probe, adapter, input_path, out_path, dry_run=True)


def write_timeline_atomic(
    timeline: otio.schema.Timeline,
    out_path: Path,
    *,
    input_path: Path | None = None,
    force: bool = False,
    replace_input: bool = False,
) -> Path:
    """Write through a temporary file in the same folder and rename, so no reader sees half a file.

    `replace_input`: the input is a file we wrote (it holds our score track) and may be replaced;
    the user's own timeline never is.
    """
    out_path = Path(out_path)
    same = input_path is not None and out_path.resolve() == Path(input_path).resolve()
    if same and not replace_input:
        raise OutputExistsError(f"{out_path}: is the input timeline; choose another output with -o")
    if out_path.exists() and not force and not same:
        raise OutputExistsError(f"{out_path}: already exists; pass --force to replace it or choose -o")
    adapter = adapter_for(out_path)
    if adapter is None:
        raise TimelineReadError(f"{out_path}: no OpenTimelineIO adapter writes '{out_path.suffix}'")
    info = FORMATS.get(out_path.suffix.lower())
    if (
        info is not None
        and not info.audio_track
        and any(t.kind == otio.schema.TrackKind.Audio for t in timeline.tracks)
    ):
        raise TimelineReadError(
            f"{out_path}: {adapter} cannot carry the score's audio track; write .otio instead (-o X.otio)"
        )
    timeline = _fit_to_format(timeline, out_path)
    if input_path is not None:
        timeline = _media_linked_from(timeline, Path(input_path).parent, out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(out_path, lambda tmp: _write_or_explain(timeline, tmp, adapter, input_path, out_path))
    if info is not None and not info.metadata:
        from vm_editor.writeback import sidecar_document, sidecar_path

        doc = sidecar_document(timeline)
        if doc is not None:
            text = json.dumps(plain_json(doc), indent=1, sort_keys=True, default=str)
            _atomic(sidecar_path(out_path), lambda tmp: tmp.write_text(text))
    return out_path


def _media_linked_from(
    timeline: otio.schema.Timeline, input_dir: Path, out_path: Path
) -> otio.schema.Timeline:
    """Relative media URLs (relative to the input's folder) still find their files from the
    output's: rewritten relative to its folder, or absolute for a bundle, whose writer copies
    the files it names into the bundle. The timeline is copied only when a URL changes."""
    bundle = out_path.suffix.lower() in (".otioz", ".otiod")
    same_folder = Path(input_dir).resolve() == out_path.parent.resolve()
    if same_folder and not bundle:
        return timeline
    changes = []
    for clip in timeline.find_clips():
        for key, ref in clip.media_references().items():
            if isinstance(ref, otio.schema.ExternalReference):
                url = rebased_url(ref.target_url, input_dir, out_path.parent, absolute=bundle)
                if url is not None and url != ref.target_url:
                    changes.append((clip, key, url))
    if not changes:
        return timeline
    rebased = copy.deepcopy(timeline)
    clips = {id(c): c for c in timeline.find_clips()}
    copies = dict(zip(clips, rebased.find_clips(), strict=True))
    for clip, key, url in changes:
        copies[id(clip)].media_references()[key].target_url = url
    return rebased


def _fit_to_format(timeline: otio.schema.Timeline, out_path: Path) -> otio.schema.Timeline:
    """Say in the output format what its writer would drop; fit or drop the score's crossfades."""
    info = FORMATS.get(out_path.suffix.lower())
    if info is not None and info.adapter in ("fcp_xml", "fcpx_xml"):  # editors that enforce handles
        timeline = fit_crossfades_to_handles(timeline)
    if info is not None and info.adapter == "fcp_xml":
        timeline = fit_for_fcp7(timeline)
    if info is None or info.crossfades:
        return timeline
    from vm_editor.writeback import METADATA_KEY

    fitted = copy.deepcopy(timeline)
    for track in fitted.tracks:
        if METADATA_KEY in track.metadata:
            for i in reversed(range(len(track))):
                if isinstance(track[i], otio.schema.Transition):
                    del track[i]
                    log.info(
                        "%s: crossfades dropped (%s keeps none on audio tracks)", out_path.name, info.adapter
                    )
    return fitted


def _atomic(out_path: Path, write) -> None:
    remove_stale(out_path.parent)  # what a killed run left beside its output
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=temp_prefix(out_path.name), suffix=out_path.suffix, dir=out_path.parent
        )
    except OSError as exc:
        raise TimelineWriteError(
            f"{out_path}: cannot write in its folder ({exc.strerror}); choose -o"
        ) from None
    os.close(fd)
    try:
        write(Path(tmp))
        publish_mode(tmp)  # as the user's umask says, not mkstemp's 0600
        os.replace(tmp, out_path)
    except OSError as exc:  # disk full, quota, a folder that went read-only
        Path(tmp).unlink(missing_ok=True)
        raise TimelineWriteError(
            f"{out_path}: writing failed ({exc.strerror or exc}); free space or choose another -o"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TimelineWriteError(EditorInputError):
    """The output format's writer refused this timeline; the message says which format to use."""


def _write_or_explain(
    timeline, tmp: Path, adapter: str, input_path: Path | None, out_path: Path, dry_run: bool = False
) -> None:
    try:
        _write(timeline, tmp, adapter, input_path, dry_run)
    except EditorInputError as exc:
        if dry_run and str(tmp) in str(exc):  # the probe's name is no use to the user
            raise type(exc)(str(exc).replace(str(tmp), str(out_path))) from None
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if type(exc).__name__ == "NotAFileOnDisk":  # otioz: every media file is copied into the bundle
            reason = f"the media {reason} is not a file on disk, and a bundle carries every media file"
        raise TimelineWriteError(
            f"{out_path}: the {adapter} writer failed ({reason}); write .otio instead (-o X.otio)"
        ) from exc


def _write(
    timeline: otio.schema.Timeline, tmp: Path, adapter: str, input_path: Path | None, dry_run: bool = False
) -> None:
    if adapter in ("otioz", "otiod"):  # bundles refuse an existing path and copy every media file in
        tmp.unlink(missing_ok=True)
        otio.adapters.write_to_file(timeline, str(tmp), adapter_name=adapter, dryrun=dry_run)
        return
    if adapter == "fcpx_xml":
        from vm_editor.fcpxml_writer import write_fcpxml

        write_fcpxml(timeline, tmp, source=input_path)
        return
    if adapter == "otio_json":  # OTIO's C++ file writer ignores write errors: a full disk left half a file
        tmp.write_text(otio.adapters.write_to_string(timeline, adapter_name=adapter), encoding="utf-8")
        return
    kwargs = {"use_empty_mob_ids": True} if adapter == "AAF" else {}
    if adapter == "AAF":
        tmp.unlink()  # pyaaf2 refuses to open an existing file for writing
    with adapter_output_quiet():
        otio.adapters.write_to_file(timeline, str(tmp), adapter_name=adapter, **kwargs)


@contextlib.contextmanager
def adapter_output_quiet():
    """Keep whatever an adapter prints (Python `print` or C code writing to fd 1 or 2) off the
    terminal; it goes to this module's debug log (`--debug` shows it).

    Why: stdout is the CLI's data channel (`scenes --json`) and stderr carries exactly one
    `error:` line on bad input; the Kdenlive adapter prints a deprecation banner on every read,
    and others print debugging text.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(out):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace") + out.getvalue()
            for line in text.splitlines():
                if line.strip():
                    log.debug("adapter: %s", line)
