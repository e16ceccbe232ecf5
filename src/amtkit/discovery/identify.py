"""WS-Man Identify over asyncio: the ``identify`` hook of :func:`~amtkit.discovery.probe.discover_async`.

Discovery probes hundreds of hosts from one event loop, so this Identify does not go through the
blocking :class:`~amtkit.client.Client`; it writes the very envelope the client writes
(:func:`amtkit.wsman.requests.build_identify`) and reads the answer with the client's parser
(:func:`amtkit.wsman.responses.parse_identify`). Only the HTTP exchange is its own: one
``POST /wsman`` on a fresh connection (``Connection: close``), the reply read by the project's one
strict HTTP/1.1 reader (:mod:`amtkit.http.reader`, the simulator's too): ``Content-Length``, chunked
coding (what AMT sends) or end of stream, bounded in size.

No credentials are sent. TLS is not verified, as for the banner probe: nothing secret travels and
AMT ships self-signed certificates; verification is the business of the authenticated client.

::

    records = await discover_async("10.0.0.0/24", identify=wsman_identify)
    records = await discover_async("10.0.0.0/24", identify=WsmanIdentify(read_timeout=2.0))
"""

from __future__ import annotations

import asyncio
import ssl

from amtkit.discovery.probe import IdentifyInfo, _tls_context
from amtkit.http.reader import FramingError, Limits, read_reply
from amtkit.wsman import names
from amtkit.wsman.requests import build_identify
from amtkit.wsman.responses import ResponseError, parse_identify
from amtkit.wsman.xmlsafe import XMLInputError

__all__ = ["IdentifyProtocolError", "WsmanIdentify", "wsman_identify"]

MAX_REPLY_BYTES = 64 * 1024
"""Largest Identify reply read (AMT's is under 1 KiB); more is refused as not AMT."""
_LIMITS = Limits(body_bytes=MAX_REPLY_BYTES)


class IdentifyProtocolError(Exception):
    """The port answered, but not with a readable HTTP reply (the probe records it as a note)."""


class WsmanIdentify:
    """An ``identify(host, port, tls)`` coroutine function with its own timeouts.

    Returns an :class:`~amtkit.discovery.probe.IdentifyInfo` for a WS-Man ``IdentifyResponse``,
    ``None`` when the port answers HTTP but not with one (401 from firmware that wants credentials
    even for Identify, a web page, a fault). Raises :class:`OSError` / :class:`TimeoutError` /
    :class:`ssl.SSLError` when the exchange itself fails and :class:`IdentifyProtocolError` for
    bytes that are not HTTP: :func:`~amtkit.discovery.probe.discover_async` turns those into a
    note in the host's ``detail``.
    """

    def __init__(self, *, connect_timeout: float = 3.0, read_timeout: float = 5.0) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._tls: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = _tls_context()
        return self._tls

    async def __call__(self, host: str, port: int, tls: bool) -> IdentifyInfo | None:
        status, body = await self.exchange(host, port, tls)
        if status != 200:
            return None
        try:
            result = parse_identify(body)
        except (ResponseError, XMLInputError):
            return None
        return IdentifyInfo(
            vendor=result.product_vendor,
            product_version=result.product_version,
            security_profiles=result.security_profiles,
        )

    async def exchange(self, host: str, port: int, tls: bool) -> tuple[int, bytes]:
        """POST an Identify to ``host:port`` and return ``(status, body)``."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=self._context() if tls else None),
            self.connect_timeout + (self.read_timeout if tls else 0.0),
        )
        try:
            writer.write(_request(host, port))
            return await asyncio.wait_for(_read_reply(reader), self.read_timeout)
        finally:
            writer.transport.abort()


wsman_identify = WsmanIdentify()
"""The default :class:`WsmanIdentify` (3 s to connect, 5 s to read)."""


def _request(host: str, port: int) -> bytes:
    body = build_identify()
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    head = (
        f"POST {names.WSMAN_PATH} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {names.SOAP_CONTENT_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii", "replace") + body


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    try:
        message = await read_reply(reader, _LIMITS)
    except FramingError as error:
        text = str(error)
        if text == "malformed status line":
            text = "not an HTTP status line"
        elif error.status == 413:
            text = f"reply {text}: out of bounds"
        raise IdentifyProtocolError(text) from error
    return message.status, message.body
