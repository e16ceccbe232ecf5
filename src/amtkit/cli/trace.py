"""``--trace`` on every command and ``AMTKIT_TRACE``: show each WS-Man exchange on stderr (:mod:`amtkit.wire`).

The option is added to every command of the tree when the command is looked up
(:func:`with_trace_option`, called by the ``amtkit`` group), so a command written later gets it
too; ``amtkit --trace COMMAND`` works as well. ``AMTKIT_TRACE=1`` (or ``wire``) traces every command
of a shell session; ``AMTKIT_TRACE=calls`` shows only the one line per call.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["trace_from_environment", "trace_option", "with_trace_option"]

F = TypeVar("F", bound=Callable[..., Any])
_HELP = "Show each WS-Man request and reply on stderr (secrets redacted) and a line per call; or AMTKIT_TRACE=1."
_started = False


def start_trace(envelopes: bool = True) -> None:
    """Turn the trace on once for this process (a second call, from env and option, changes nothing)."""
    global _started
    if _started:
        return
    _started = True
    from ..wire import enable

    enable(envelopes=envelopes)


def _on_trace(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        start_trace()


def _option() -> click.Option:
    return click.Option(["--trace"], is_flag=True, expose_value=False, is_eager=True, callback=_on_trace,
                        help=_HELP)


def trace_option(command: F) -> F:
    """Decorator form, for the ``amtkit`` group itself."""
    return click.option("--trace", is_flag=True, expose_value=False, is_eager=True, callback=_on_trace,
                        help=_HELP)(command)


def with_trace_option(command: click.Command, path: str = "") -> click.Command:
    """Give ``command`` (and every command under it, for a group) a ``--trace`` option and its help
    example (:mod:`amtkit.cli.examples`), once; ``path`` is its name below ``amtkit``."""
    from .examples import with_example

    path = path or command.name or ""
    if not any(param.name == "trace" for param in command.params):
        command.params.append(_option())
    with_example(command, path)
    if isinstance(command, click.Group):
        for name, child in command.commands.items():
            with_trace_option(child, f"{path} {name}")
    return command


def trace_from_environment() -> None:
    value = os.environ.get("AMTKIT_TRACE", "").strip().lower()
    if value in ("", "0", "no", "off", "false"):
        return
    start_trace(envelopes=value != "calls")
