"""Discovery reads replies with the project's one strict HTTP/1.1 reader (the simulator's too):
hostile framing from a port that claims to be AMT is a protocol note, never a hang or a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from amtkit.discovery.identify import IdentifyProtocolError, WsmanIdentify
from amtsim.server import free_port


def replying(data: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(data)
        await writer.drain()
        writer.close()

    return handle


def identify_with(reply: bytes, address: str = "127.52.9.3") -> object:
    async def run() -> object:
        port = free_port(address)
        server = await asyncio.start_server(replying(reply), address, port)
        async with server:
            return await WsmanIdentify(read_timeout=2.0)(address, port, False)

    return asyncio.run(run())


@pytest.mark.parametrize(("reply", "why"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "both Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-6\r\nabcdef\r\n0\r\n\r\n", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\nx\r\n" * 5000 + b"0\r\n\r\n", "chunks"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "ended inside"),
])
def test_hostile_framing_is_a_protocol_error(reply: bytes, why: str) -> None:
    with pytest.raises(IdentifyProtocolError, match=why):
        identify_with(reply)


def test_bare_lf_replies_are_read() -> None:
    assert identify_with(b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello") is None  # read, and not an Identify
