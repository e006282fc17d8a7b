"""Error types. A `UserError` is something the user can fix (bad file, bad config,
bad data); the CLI prints its message as one line and exits with status 1."""
from typing import Optional


class UserError(Exception):
    """An error caused by user input. The message says what was wrong and how to fix it."""

    def __init__(self, message: str, *, path: Optional[str] = None, line: Optional[int] = None,
                 key: Optional[str] = None) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.bare_message = message
        super().__init__(self._compose(message))

    def _compose(self, message: str) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path) + (f":{self.line}" if self.line is not None else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.key is not None:
            where.append(f"[{self.key}]")
        return f"{' '.join(where)}: {message}" if where else message


class DataError(UserError):
    """Malformed input data: corpora, vectors files, raw text."""


class ConfigError(UserError):
    """A config that cannot be parsed, interpolated, resolved or validated."""


class PathError(UserError):
    """A path that does not exist, cannot be read, or cannot be written."""


class NotYetAvailable(UserError):
    """A command whose engine has not landed yet."""


class PipelineError(UserError):
    """A pipeline assembled in a way that cannot work (e.g. a listener without its upstream)."""


class DistributedError(UserError):
    """A data-parallel run that cannot start or lost one of its processes (torch.distributed)."""


class DataWarning(UserWarning):
    """Input that was read but partly unusable (e.g. entity offsets not on token boundaries)."""


class VersionWarning(DataWarning):
    """A pipeline saved by a transfer-cli of another major or minor version: it may load
    wrongly or predict differently (the CLI prints it as one line, as DataWarnings)."""
