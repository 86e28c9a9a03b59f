"""OTIO media linker "vidmusician_relink": finds each clip's media on this machine.

Resolves relative paths (against the timeline's folder), file URLs with Windows drive letters
and UNC hosts, and searches user folders by file name. Arguments (media_linker_argument_map):
`relink` (list of folders), `base_dir` (the timeline's folder). Offline clips are left as they
are and listed in `clip.metadata["vidmusician"]["offline"] = True` so they can be reported.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from vm_editor.media_links import resolve_media


def link_media_reference(in_clip: otio.schema.Clip, media_linker_argument_map: dict | None = None):
    """OTIO's media-linker entry point: return the (possibly new) media reference of `in_clip`."""
    args = media_linker_argument_map or {}
    ref = in_clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        return ref
    base = args.get("base_dir")
    found = resolve_media(
        ref.target_url, base_dir=Path(base) if base else None, relink=tuple(args.get("relink", ()))
    )
    if found is None:
        in_clip.metadata.setdefault("vidmusician", {})["offline"] = True
        return ref
    linked = otio.schema.ExternalReference(
        target_url=found.resolve().as_uri(), available_range=ref.available_range, metadata=ref.metadata
    )
    linked.metadata["vidmusician_original_url"] = ref.target_url
    return linked
