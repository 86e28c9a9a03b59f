"""Errors the engine raises for bad input: each message names the file or scene and the fix.

The command line (`run_command`, used by every console script) and the service turn an
`EngineInputError` into one `error:` line (exit 2 / HTTP 400); anything else is a bug and keeps
its traceback.
"""


class EngineInputError(Exception):
    """Bad input the user can fix (a file, a range, a preset); the message says how."""


class MediaError(EngineInputError):
    """A media file cannot be used: missing, unreadable, no video stream, range outside it."""


class ModelNotFoundError(EngineInputError):
    """A preset's weights are not on this machine; the message names what to fetch and where."""


class PresetError(EngineInputError):
    """Unknown preset name or a preset file that does not parse."""


# Media problems, one class per thing the user has to do differently (all are MediaError).


class MediaNotFoundError(MediaError):
    """The media path does not exist (moved, renamed, or an offline drive)."""


class MediaEmptyError(MediaError):
    """The file exists but holds zero bytes (an interrupted copy or render)."""


class MediaTruncatedError(MediaError):
    """The file stops before its own index says it should (an unfinished copy or render)."""


class MediaUnreadableError(MediaError):
    """No demuxer recognises the file: it is not media, or it is damaged beyond its header."""


class NoVideoStreamError(MediaError):
    """The file has no picture (audio-only, subtitles, data)."""


class UnsupportedCodecError(MediaError):
    """The video stream's codec has no decoder in this build."""


class MediaRangeError(MediaError):
    """The requested source range lies (partly) outside the media, or is empty."""


class GeneratorInputError(EngineInputError):
    """Inputs to the music generator that cannot be used (duration, feature shapes, audio)."""


class AdapterMismatchError(EngineInputError):
    """An adapter checkpoint was trained for a different backbone or adapter shape."""


def run_command(
    args, user_errors: tuple[type[BaseException], ...] = (EngineInputError,), quiet: bool = False
) -> int:
    """Run a parsed CLI command (`args.func(args)`) the way every console script here does.

    Errors the user can fix become one `error:` line on stderr and exit status 2; `--debug`
    (`args.debug`) shows the traceback and debug logs instead. `quiet` keeps library warnings
    out of the terminal for commands that print their own.
    """
    import logging
    import sys

    level = logging.DEBUG if args.debug else (logging.ERROR if quiet else logging.WARNING)
    logging.basicConfig(level=level, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except user_errors as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
