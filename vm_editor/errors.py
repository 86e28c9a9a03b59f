"""Errors for bad timelines and bad options; each message names the file/clip and the fix."""


class EditorInputError(Exception):
    """Something the user can fix; the CLI prints it as one `error:` line and exits 2."""


class TimelineReadError(EditorInputError):
    """The timeline file is missing, in an unknown format, or does not parse."""


class NoVideoTrackError(EditorInputError):
    """The timeline has no (enabled) video track with clips to score."""


class OfflineMediaError(EditorInputError):
    """A clip's media file cannot be found; the message lists them and suggests --relink."""


class OutputExistsError(EditorInputError):
    """The output file already exists (or is the input); nothing is overwritten without --force."""
