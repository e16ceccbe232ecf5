"""The bare-socket baseline: what one authenticated WS-Man Get costs with no client library at all.

A request is built once (:func:`amtkit.wsman.requests.build_get`) and signed ahead of time for
each ``nc`` with :mod:`amtkit.http.digest`, so the timed part is only: write the bytes on a
kept-alive connection, read the chunked reply until its last chunk. Whatever amtkit adds on top
(building the envelope, signing, ``requests``, parsing the answer into a typed instance) is the
difference between :meth:`amtkit.Client.get` and this.
"""

from __future__ import annotations

import socket

from amtkit.http.digest import Challenge, Credentials, authorization_header, parse_challenge
from amtkit.wsman import names
from amtkit.wsman.requests import build_get

LAST_CHUNK = b"\r\n0\r\n\r\n"
"""How a chunked reply ends (the CRLF closing the previous chunk, then the zero-size chunk)."""
NC_PER_NONCE = 4000
"""Requests signed per nonce: servers remember only so many ``nc`` values of one nonce (amtsim 4096)."""
PATH = "/wsman"
TIMEOUT_SECONDS = 10.0


class RawHTTPError(Exception):
    """The server answered something the baseline does not expect (a 401, a fault, a close)."""


def get_body(class_name: str = "AMT_GeneralSettings") -> bytes:
    return build_get(names.resource_uri(class_name))


def request_bytes(address: str, port: int, body: bytes, authorization: str | None) -> bytes:
    auth_line = f"Authorization: {authorization}\r\n" if authorization else ""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {address}:{port}\r\n"
        f"Content-Type: application/soap+xml;charset=UTF-8\r\n{auth_line}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def fetch_challenge(address: str, port: int, body: bytes) -> Challenge:
    """Send the request unsigned and read the digest challenge of the 401 (AMT closes after it)."""
    with socket.create_connection((address, port), timeout=TIMEOUT_SECONDS) as sock:
        sock.sendall(request_bytes(address, port, body, None))
        reply = bytearray()
        while chunk := sock.recv(65536):
            reply += chunk
    head = bytes(reply).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "www-authenticate":
            return parse_challenge(value.strip())
    raise RawHTTPError(f"no digest challenge in the answer: {head.splitlines()[0] if head else 'nothing'}")


def presigned(address: str, port: int, body: bytes, credentials: Credentials, challenge: Challenge,
              count: int) -> list[bytes]:
    """``count`` complete requests signed for nc = 1, 2, ..., count."""
    if count > NC_PER_NONCE:
        raise ValueError(f"sign at most {NC_PER_NONCE} requests per nonce")
    return [
        request_bytes(address, port, body,
                      authorization_header(credentials, challenge, method="POST", uri=PATH, nc=nc))
        for nc in range(1, count + 1)
    ]


class KeepAlive:
    """One kept-alive connection: write a request, read its whole chunked reply."""

    def __init__(self, address: str, port: int) -> None:
        self.sock = socket.create_connection((address, port), timeout=TIMEOUT_SECONDS)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()

    def exchange(self, request: bytes) -> bytes:
        self.sock.sendall(request)
        buffer = self._buffer
        buffer.clear()
        recv = self.sock.recv
        while not buffer.endswith(LAST_CHUNK):
            chunk = recv(65536)
            if not chunk:
                raise RawHTTPError("the server closed the connection mid-reply")
            buffer += chunk
        if not buffer.startswith(b"HTTP/1.1 200 "):
            raise RawHTTPError(f"unexpected answer: {bytes(buffer[:40])!r}")
        return bytes(buffer)

    def close(self) -> None:
        self.sock.close()


class BaselineGet:
    """Bare-socket Gets against one device: fetch a nonce, sign ``count`` requests, then send them."""

    def __init__(self, address: str, port: int, credentials: Credentials, count: int,
                 class_name: str = "AMT_GeneralSettings") -> None:
        body = get_body(class_name)
        challenge = fetch_challenge(address, port, body)
        self._requests = presigned(address, port, body, credentials, challenge, count)
        self._next = 0
        self.connection = KeepAlive(address, port)

    @property
    def remaining(self) -> int:
        return len(self._requests) - self._next

    def call(self) -> bytes:
        request = self._requests[self._next]
        self._next += 1
        return self.connection.exchange(request)

    def close(self) -> None:
        self.connection.close()
