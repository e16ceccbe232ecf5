"""The asyncio WS-Man Identify used as discovery's ``identify`` hook: simulated AMT and servers that are not AMT."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from amtkit.discovery.identify import IdentifyProtocolError, WsmanIdentify, wsman_identify
from amtkit.wsman.responses import identify_response

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replying(reply: bytes) -> Handler:
    """A server that reads one request head (and its body) and answers ``reply``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            writer.write(reply)
            await writer.drain()
        finally:
            writer.close()

    return handle


def identify_with(reply: bytes, address: str = "127.52.9.1") -> object:
    async def run() -> object:
        port = free_port()
        server = await asyncio.start_server(replying(reply), address, port)
        async with server:
            return await WsmanIdentify(read_timeout=2.0)(address, port, False)

    return asyncio.run(run())


AMT_IDENTIFY = identify_response("AMT 11.8", profiles=["http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest"])


def test_simulated_amt_is_identified_over_http(amt_device) -> None:  # type: ignore[no-untyped-def]
    info = asyncio.run(wsman_identify(amt_device.host, amt_device.port, False))
    assert info is not None and info.is_amt and info.vendor == "Intel(r)" and info.version == "16.1"


def test_simulated_amt_is_identified_over_unverified_tls(amt_device) -> None:  # type: ignore[no-untyped-def]
    info = asyncio.run(wsman_identify(amt_device.host, amt_device.tls_port, True))
    assert info is not None and info.product_version == "AMT 16.1"


def test_security_profiles_are_passed_on(amt_device) -> None:  # type: ignore[no-untyped-def]
    info = asyncio.run(wsman_identify(amt_device.host, amt_device.port, False))
    assert info is not None and any(p.endswith("/http/digest") for p in info.security_profiles)


def test_content_length_framed_answer_is_read() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(AMT_IDENTIFY), AMT_IDENTIFY)
    info = identify_with(reply)
    assert info is not None and info.product_version == "AMT 11.8"  # type: ignore[attr-defined]


def test_answer_delimited_by_closing_the_connection_is_read() -> None:
    info = identify_with(b"HTTP/1.1 200 OK\r\n\r\n" + AMT_IDENTIFY)
    assert info is not None and info.product_version == "AMT 11.8"  # type: ignore[attr-defined]


def test_chunked_answer_with_a_chunk_extension_is_read() -> None:
    half = len(AMT_IDENTIFY) // 2
    body = b"%x;ext=1\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n" % (half, AMT_IDENTIFY[:half], len(AMT_IDENTIFY) - half,
                                                     AMT_IDENTIFY[half:])
    info = identify_with(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    assert info is not None and info.product_version == "AMT 11.8"  # type: ignore[attr-defined]


def test_firmware_asking_for_credentials_gives_no_answer() -> None:
    reply = b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm="x", nonce="y", qop="auth"\r\n' \
            b"Content-Length: 0\r\n\r\n"
    assert identify_with(reply) is None


def test_web_page_gives_no_answer() -> None:
    page = b"<html><body>hello</body></html>"
    assert identify_with(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(page), page)) is None


def test_other_wsman_product_is_returned_but_not_amt() -> None:
    other = identify_response("Openwsman 2.6", vendor="Openwsman Project")
    info = identify_with(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(other), other))
    assert info is not None and not info.is_amt  # type: ignore[attr-defined]


def test_bytes_that_are_not_http_raise_a_protocol_error() -> None:
    with pytest.raises(IdentifyProtocolError, match="not an HTTP status line"):
        identify_with(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")


def test_oversized_answer_is_refused() -> None:
    with pytest.raises(IdentifyProtocolError, match="out of bounds"):
        identify_with(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n")


def test_closed_port_raises_connection_refused() -> None:
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(wsman_identify("127.52.9.2", free_port(), False))
