"""Reading timelines through OTIO's adapters and writing results atomically next to them.

I/O lives here and only here: scene extraction and write-back are pure functions over OTIO
objects. The user's file is only ever read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import opentimelineio as otio

from vm_editor.errors import OutputExistsError, TimelineReadError


def adapter_for(path: Path) -> str | None:
    """The OTIO adapter that reads `path` by its suffix, or None when no installed one does."""
    try:
        return otio.adapters.from_filepath(str(path)).name
    except Exception:  # OTIO raises several unrelated types for "no adapter"
        return None


def read_timeline(path: str | os.PathLike[str], rate: float | None = None) -> otio.schema.Timeline:
    """Read any format the installed OTIO adapters know; `rate` is for formats without one (EDL)."""
    path = Path(path)
    if not path.is_file():
        raise TimelineReadError(f"{path}: timeline file not found; check the path")
    adapter = adapter_for(path)
    if adapter is None:
        raise TimelineReadError(
            f"{path}: no installed OpenTimelineIO adapter reads '{path.suffix}' files; "
            "export the timeline as .otio, FCP7 XML, FCPXML, EDL or AAF"
        )
    kwargs = {}
    if adapter == "cmx_3600" and rate is not None:
        kwargs["rate"] = rate
    try:
        result = otio.adapters.read_from_file(str(path), adapter_name=adapter, **kwargs)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TimelineReadError(
            f"{path}: cannot read it as {adapter} ({reason}); re-export the timeline from the editor"
        ) from exc
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = [t for t in result.find_children(descended_from_type=otio.schema.Timeline)]
        if not timelines:
            raise TimelineReadError(f"{path}: the file holds no timeline; export a sequence")
        result = timelines[0]
    if not isinstance(result, otio.schema.Timeline):
        raise TimelineReadError(f"{path}: the file holds a {type(result).__name__}, not a timeline")
    return result


def default_output_path(timeline_path: Path) -> Path:
    """`<stem>.scored.<same extension>` next to the input."""
    return timeline_path.with_name(f"{timeline_path.stem}.scored{timeline_path.suffix}")


def write_timeline_atomic(
    timeline: otio.schema.Timeline,
    out_path: Path,
    *,
    input_path: Path | None = None,
    force: bool = False,
) -> Path:
    """Write through a temporary file in the same folder and rename, so no reader sees half a file."""
    out_path = Path(out_path)
    if input_path is not None and out_path.resolve() == Path(input_path).resolve():
        raise OutputExistsError(f"{out_path}: is the input timeline; choose another output with -o")
    if out_path.exists() and not force:
        raise OutputExistsError(f"{out_path}: already exists; pass --force to replace it or choose -o")
    adapter = adapter_for(out_path)
    if adapter is None:
        raise TimelineReadError(f"{out_path}: no OpenTimelineIO adapter writes '{out_path.suffix}'")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=out_path.suffix, dir=out_path.parent)
    os.close(fd)
    try:
        otio.adapters.write_to_file(timeline, tmp, adapter_name=adapter)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path
