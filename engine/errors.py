"""Errors the engine raises for bad input: each message names the file or scene and the fix.

The command line and the service turn an `EngineInputError` into one `error:` line (exit 2 /
HTTP 400); anything else is a bug and keeps its traceback.
"""


class EngineInputError(Exception):
    """Bad input the user can fix (a file, a range, a preset); the message says how."""


class MediaError(EngineInputError):
    """A media file cannot be used: missing, unreadable, no video stream, range outside it."""


class ModelNotFoundError(EngineInputError):
    """A preset's weights are not on this machine; the message names what to fetch and where."""


class PresetError(EngineInputError):
    """Unknown preset name or a preset file that does not parse."""


class GeneratorInputError(EngineInputError):
    """Inputs to the music generator that cannot be used (duration, feature shapes, audio)."""


class AdapterMismatchError(EngineInputError):
    """An adapter checkpoint was trained for a different backbone or adapter shape."""
