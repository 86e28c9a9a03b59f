"""OTIO hook script "vidmusician_post_read": records the source file on every timeline read.

Runs as the `post_adapter_read` hook; it only adds `timeline.metadata["vidmusician"]["read_from"]`
(the adapter and path) so a scored timeline can say where it came from. Never changes timing.
"""

from __future__ import annotations


def hook_function(in_timeline, argument_map=None):
    argument_map = argument_map or {}
    meta = in_timeline.metadata.setdefault("vidmusician", {}) if hasattr(in_timeline, "metadata") else None
    if meta is not None and argument_map.get("_filepath"):
        meta["read_from"] = str(argument_map["_filepath"])
    return in_timeline
