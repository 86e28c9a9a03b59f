"""OTIO hook script "vidmusician_post_read": records which file a timeline was read from.

Declared in the manifest but attached to no hook point: an installed plugin must not change
every timeline that any OTIO tool reads. To use it, attach it in your own manifest
(`"hooks": {"post_adapter_read": ["vidmusician_post_read"]}`); it then adds
`timeline.metadata["vidmusician"]["read_from"]` and never changes timing.
"""

from __future__ import annotations


def hook_function(in_timeline, argument_map=None):
    argument_map = argument_map or {}
    meta = in_timeline.metadata.setdefault("vidmusician", {}) if hasattr(in_timeline, "metadata") else None
    if meta is not None and argument_map.get("_filepath"):
        meta["read_from"] = str(argument_map["_filepath"])
    return in_timeline
