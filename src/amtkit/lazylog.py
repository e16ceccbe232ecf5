"""Loggers that import :mod:`logging` only when there is something to log.

Importing ``logging`` (with ``traceback``, ``string`` and the rest it brings) cost about 4 ms of
every CLI call, although a call logs nothing unless something goes wrong or a trace is asked for.
The modules every call imports (the package, the client, the transport) log through a
:class:`LazyLogger` instead: the same named logger of :mod:`logging`, created on first use.

Nothing changes for whoever configures logging: a handler or level set on ``amtkit`` or any logger
below it applies as before, and the ``NullHandler`` a library attaches to its logger is attached
before amtkit's first record (:func:`logger_ready`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

__all__ = ["LazyLogger", "logger_ready"]

ROOT = "amtkit"
_ready = False


def logger_ready(name: str) -> logging.Logger:
    """The :mod:`logging` logger ``name``, with amtkit's ``NullHandler`` attached once (a library leaves
    output to the application: without a handler of its own, Python would print warnings to stderr)."""
    global _ready
    import logging

    if not _ready:
        _ready = True
        logging.getLogger(ROOT).addHandler(logging.NullHandler())
    return logging.getLogger(name)


class LazyLogger:
    """The logger ``name``, fetched from :mod:`logging` when first used."""

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        if self._logger is None:
            self._logger = logger_ready(self.name)
        return self._logger

    def debug_enabled(self) -> bool:
        """Whether DEBUG records would be handled. Without :mod:`logging` imported nobody can have asked for
        them, so this stays a dictionary lookup until someone configures logging."""
        logging = sys.modules.get("logging")
        return logging is not None and self.logger.isEnabledFor(logging.DEBUG)

    def debug(self, message: str, *args: Any) -> None:
        self.logger.debug(message, *args)

    def info(self, message: str, *args: Any) -> None:
        self.logger.info(message, *args)

    def warning(self, message: str, *args: Any) -> None:
        self.logger.warning(message, *args)
