"""One RMCP presence ping, blocking: what a single host's pong says, for code outside the asyncio probe.

The fleet engine asks it why a login was refused. A device that is not provisioned has no account
yet, so it refuses every login exactly as it refuses a wrong password (the same 401 challenge); its
presence pong says which it is (state byte: 0 pre, 1 in, 2 post provisioning) without credentials,
so asking costs no login and nothing toward AMT's anti-hammering counter: one 12-byte datagram out,
one 28-byte datagram back (sent once more halfway through the wait, as UDP may drop it).
"""

from __future__ import annotations

import random
import socket
import time

from amtkit import exceptions as exc
from amtkit.discovery.rmcp import RMCP_PORT, PongInfo, ProvisioningState, RmcpError, decode_pong, encode_ping

__all__ = ["PONG_WAIT", "explain_refusal", "ping"]

PONG_WAIT = 1.0
"""Seconds to wait for a presence pong asked why a device refused (AMT answers in milliseconds)."""

_READ_SIZE = 512
"""More than a pong's 28 bytes: a longer datagram is read whole and refused by the decoder."""


def ping(host: str, port: int = RMCP_PORT, *, timeout: float = 1.0) -> PongInfo | None:
    """The pong ``host`` answers a presence ping with, or ``None`` when none comes within ``timeout`` seconds
    (RMCP answers switched off, filtered, nothing there, the name does not resolve). Never raises for the
    network: a missing answer is an answer here."""
    tag = random.randrange(256)
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except (OSError, UnicodeError):
        return None
    deadline = time.monotonic() + timeout
    resend_at = time.monotonic() + timeout / 2
    with socket.socket(family, kind, proto) as sock:
        try:
            sock.connect(address)  # a connected socket takes datagrams from that address only
            sock.send(encode_ping(tag))
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return None
                if resend_at and now >= resend_at:
                    sock.send(encode_ping(tag))
                    resend_at = 0.0
                sock.settimeout(max(0.001, (resend_at or deadline) - now))
                try:
                    data = sock.recv(_READ_SIZE)
                except TimeoutError:
                    continue
                try:
                    answered, info = decode_pong(data)
                except RmcpError:
                    continue  # not a pong: keep waiting for one
                if answered == tag:
                    return info
        except OSError:  # ICMP port unreachable (nothing listens), no route ...
            return None


def explain_refusal(host: str, error: exc.AMTError, port: int = RMCP_PORT, *,
                    timeout: float = PONG_WAIT) -> exc.NotProvisionedError | None:
    """``NotProvisionedError`` when ``host`` refused the login or the connection (``error``) because it is not
    (yet) provisioned, as its presence pong says; ``None`` for any other error, a pong saying provisioned, or
    no pong (RMCP answers off, filtered, nothing there).

    Such a device has no account, so it refuses every login with the same 401 as a wrong password, or (AMT 6.1
    and later) keeps its web ports closed like a machine without AMT. The pong tells them apart without
    credentials: no further login is spent (anti-hammering).
    """
    if not isinstance(error, (exc.AuthenticationError, exc.UnreachableError)) or timeout <= 0:
        return None
    pong = ping(host, port, timeout=timeout)
    if pong is None or not pong.is_intel or pong.provisioning_state is ProvisioningState.POST:
        return None
    from amtkit.codes import PTStatus

    what = "not provisioned" if pong.provisioning_state is ProvisioningState.PRE else "still being provisioned"
    refused = ("it refused the connection" if isinstance(error, exc.UnreachableError)
               else "it refused the login because no account exists yet")
    return exc.NotProvisionedError(
        f"AMT is {what}: its RMCP presence pong says so, and {refused}",
        return_value=int(PTStatus.INVALID_PROVISIONING_STATE), host=host,
        hint="provision it (admin or client control mode) before managing it: until then it has no account "
             "to log in with")
