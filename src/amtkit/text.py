"""Text from a device, made safe to show: one helper for messages, CLI output and logs.

Anything a device sends (fault reasons and details, ``Server`` headers, host and policy names,
Identify strings) is untrusted. Printed as it came, it could move the cursor or rewrite the screen
(escape sequences), forge a line of output or a log record (line breaks), reorder what a reader
sees (bidirectional overrides) or flood the terminal. :func:`printable` escapes all of that and
caps the length; the data itself (``to_dict``, JSON output, the API's values) stays as received.
JSON output needs no help: it is written ASCII-only, so these characters arrive as ``\\u`` escapes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_LIMIT", "printable", "printable_data", "terminal_safe"]

DEFAULT_LIMIT = 300
"""Characters of one piece of device text shown at most (the rest is counted, not shown)."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 controls, DEL, C1 controls (U+009B is a one-byte CSI on some terminals), the bidirectional
# marks, embeddings, overrides and isolates, and the line/paragraph separators.
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
# The same without the line break, for whole texts amtkit composed itself (their lines are ours).
_UNSAFE_IN_OUTPUT = "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"


@functools.cache
def _pattern(characters: str) -> re.Pattern[str]:
    """The two classes above compiled on first use: compiling them cost 0.6 ms of every CLI call, and
    printable ASCII (nearly all device text) never needs them (:func:`_plain`)."""
    return re.compile(characters)


def _plain(text: str) -> bool:
    """Printable ASCII: none of the characters above (in ASCII they are the C0 controls and DEL, exactly
    what ``str.isprintable`` refuses there)."""
    return text.isascii() and text.isprintable()


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """``text`` (any value, shown with ``str``) on one line, escaped, at most ``limit`` characters.

    Control characters and line breaks become ``\\n``, ``\\x1b``, ``\\x9b``...; bidirectional
    controls become ``\\u202e``...; what is longer than ``limit`` is cut and ends with
    ``...(+N chars)``. ``limit=None`` keeps the whole text. Safe to apply twice.
    """
    shown = str(text)
    if not _plain(shown):
        shown = _pattern(_UNSAFE).sub(_escape, shown)
    if limit is not None and len(shown) > limit:
        return f"{shown[:limit]}...(+{len(shown) - limit} chars)"
    return shown


def printable_data(value: Any, limit: int | None = DEFAULT_LIMIT) -> Any:
    """``value`` with :func:`printable` applied to every string in it (dicts, lists, tuples), for
    formatting data received from devices as text."""
    if isinstance(value, str):
        return printable(value, limit)
    if isinstance(value, Mapping):
        return {key: printable_data(item, limit) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable_data(item, limit) for item in value)
    return value


def terminal_safe(text: str) -> str:
    """A text amtkit composed (its own lines) with any control or bidirectional character that slipped
    in escaped; line breaks are kept. The last guard before the terminal."""
    if _plain(text.replace("\n", "")):
        return text
    return _pattern(_UNSAFE_IN_OUTPUT).sub(_escape, text)
