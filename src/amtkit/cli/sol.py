"""``amtkit sol HOST``: the host's serial console over Serial-over-LAN.

On a terminal it is interactive: the terminal goes raw (every key reaches the host, Ctrl-C included),
the escape key (Ctrl-] unless ``--escape`` says otherwise) leaves, and the terminal is restored
however the command ends (escape, the session ending, an error, SIGTERM or SIGHUP).  From a pipe it
is a filter for scripts: stdin goes to the host, the host's output to stdout; after stdin ends it
keeps reading until the host has been quiet for ``--idle-exit`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click

from .common import connection_options, handle_errors, make_connection
from .fleet import one_host_argument

__all__ = ["parse_escape", "sol_command"]

_DEFAULT_ESCAPE = "^]"


def parse_escape(text: str) -> int | None:
    """``^]`` / ``^x`` style or one character -> its byte; ``none`` -> no escape key."""
    value = text.strip()
    if value.lower() == "none":
        return None
    if len(value) == 2 and value[0] == "^":
        code = ord(value[1].upper()) ^ 0x40
        if 0 <= code < 0x20 or code == 0x7F:
            return code
    if len(value) == 1 and ord(value) < 0x80:
        return ord(value)
    raise click.BadParameter(f"{text!r}: give one character, ^X for a control key, or none", param_hint="--escape")


class _Hangup(Exception):
    """SIGTERM or SIGHUP arrived: unwind so the terminal is restored."""


@contextlib.contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    """The terminal on ``fd`` in raw mode; restored on any exit, signals included."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)

    def hang_up(signum: int, frame: FrameType | None) -> None:
        raise _Hangup(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, hang_up) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _pump_output(session: Any, out_fd: int, stop: threading.Event) -> None:
    """Host output -> ``out_fd`` until the session ends (its own thread)."""
    while not stop.is_set():
        data = session.read(timeout=0.2)
        if data:
            os.write(out_fd, data)
        elif not session.running:
            return


def interactive(session: Any, escape: int | None, in_fd: int, out_fd: int) -> str:
    """Keys -> host, host -> terminal, until the escape key or the end of the session; why it ended."""
    stop = threading.Event()
    printer = threading.Thread(target=_pump_output, args=(session, out_fd, stop), daemon=True)
    printer.start()
    try:
        while session.running:
            ready, _, _ = select.select([in_fd], [], [], 0.2)
            if not ready:
                continue
            keys = os.read(in_fd, 1024)
            if not keys:
                return "end of input"
            if escape is not None and escape in keys:
                before = keys[: keys.index(escape)]
                if before:
                    session.write(before)
                return "escape"
            session.write(keys)
        return "the session ended"
    finally:
        stop.set()
        printer.join(2.0)


def piped(session: Any, in_fd: int, out_fd: int, idle_exit: float) -> None:
    """stdin -> host until it ends, host -> stdout until ``idle_exit`` seconds of quiet after that."""
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            data = os.read(in_fd, 4096)
            if not data:
                return
            session.write(data)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    while True:
        data = session.read(timeout=idle_exit)
        if data:
            os.write(out_fd, data)
        elif not session.running or not feeder.is_alive():
            break
    stop.set()


@click.command("sol")
@one_host_argument("an interactive console")
@click.option("--redirection-port", type=click.IntRange(1, 65535), default=None,
              help="Redirection port [16994, or 16995 with --tls].")
@click.option("--escape", "escape_text", default=_DEFAULT_ESCAPE, show_default=True,
              help="Key that leaves the interactive console (^X, one character, or none).")
@click.option("--idle-exit", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help="From a pipe: after stdin ends, leave once the host has been quiet this many seconds.")
@connection_options
@handle_errors
def sol_command(host: str, redirection_port: int | None, escape_text: str, idle_exit: float, as_json: bool,
                **options: Any) -> None:
    """The serial console of HOST over Serial-over-LAN (interactive on a terminal, a filter from a pipe)."""
    escape = parse_escape(escape_text)
    conn = make_connection(as_json=as_json, **options)
    in_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout.flush()
    with conn.client(host) as client, client.sol.session(port=redirection_port) as session:
        if not os.isatty(in_fd):
            piped(session, in_fd, out_fd, idle_exit)
            if session.error is not None:
                raise session.error
            return
        key = "nothing (no escape key)" if escape is None else escape_text
        with _raw_terminal(in_fd):
            try:  # the greeting inside: a SIGTERM right after it must still end cleanly
                click.echo(f"Connected to the serial console of {host}; {key} leaves.\r", err=True)
                why = interactive(session, escape, in_fd, out_fd)
            except _Hangup as signal_name:
                why = f"signal {signal_name}"
        if session.error is not None:
            raise session.error
    click.echo(f"\r\nDisconnected from {host} ({why}).", err=True)
