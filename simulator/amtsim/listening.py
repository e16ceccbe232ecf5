"""Opening the simulator's sockets with errors that say which one: protocol, address, port and purpose.

``[Errno 98] Address already in use`` alone does not tell a user whether the WS-Man port, the TLS port,
the RMCP presence port or the redirection port is taken. Every listener the simulator opens goes
through :func:`listening`, whose :class:`ListenError` names all four, and ``amtkit-sim run`` prints it
as one line with a hint instead of a traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["ListenError", "listening"]

T = TypeVar("T")

_REASONS = {
    errno.EADDRINUSE: "the port is in use (another simulator or service holds it)",
    errno.EACCES: "not permitted (ports below 1024 need root or net.ipv4.ip_unprivileged_port_start)",
    errno.EADDRNOTAVAIL: "the address is not on this machine",
}


class ListenError(OSError):
    """A listener could not be opened; ``str()`` names protocol, address, port and what it was for."""

    def __init__(self, protocol: str, address: str, port: int, purpose: str, reason: str,
                 errno_: int | None = None) -> None:
        super().__init__(errno_ or 0, reason)
        self.protocol = protocol
        self.address = address
        self.port = port
        self.purpose = purpose
        self.reason = reason

    def __str__(self) -> str:
        where = f"[{self.address}]" if ":" in self.address else self.address
        return f"cannot listen on {self.protocol} {where}:{self.port} ({self.purpose}): {self.reason}"


def reason_of(error: BaseException) -> str:
    """Words for why a bind failed (the errno's meaning, not Python's exception text)."""
    if isinstance(error, OSError) and error.errno in _REASONS:
        return _REASONS[error.errno]
    if isinstance(error, OverflowError):
        return "not a port number (0-65535)"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    return str(error) or type(error).__name__


async def listening(protocol: str, address: str, port: int, purpose: str, opening: Awaitable[T]) -> T:
    """Await ``opening`` (``loop.create_server(...)``, a datagram endpoint, ...); a failure to bind
    becomes a :class:`ListenError` naming ``protocol`` (TCP/UDP), ``address``, ``port`` and ``purpose``."""
    try:
        return await opening
    except ListenError:
        raise
    except (OSError, OverflowError) as error:
        raise ListenError(protocol, address, port, purpose, reason_of(error),
                          error.errno if isinstance(error, OSError) else None) from error
