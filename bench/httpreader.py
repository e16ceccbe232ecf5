"""The cost of reading a request: amtkit's strict reader (:mod:`amtkit.http.reader`) against h11.

Issue #9 asked for one strict HTTP/1.1 reader, or h11 where the cost allows. Both are measured on
what the simulator reads: a signed WS-Man Get as MeshCommander frames it (``Content-Length``), the
same body chunked in two, and a body dripped one byte per chunk (1000 segments), all CPU per
request (``time.process_time``). h11 is not a dependency: without it installed its rows say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from amtkit.http.reader import Kind, MessageReader
from amtkit.wsman import requests as wsreq

from .framework import Row, Settings

AUTH = ('Digest username="admin",realm="Digest:727734D63A1FC0423736E48DA554E462",'
        'nonce="B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA",uri="/wsman",qop=auth,'
        'response="2160ebc1b8cb3d43662776bab0877113",nc=00000001,cnonce="a1b2c3d4e5f60718"')


def _requests() -> dict[str, list[bytes]]:
    body = wsreq.build_get("http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings")
    head = (f"POST /wsman HTTP/1.1\r\nHost: 10.0.0.5:16992\r\nAuthorization: {AUTH}\r\n"
            "Content-Type: application/soap+xml; charset=UTF-8\r\n").encode()
    half = len(body) // 2
    chunked = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n" % (
        half, body[:half], len(body) - half, body[half:])
    drip = [head + b"Transfer-Encoding: chunked\r\n\r\n"] + [b"1\r\nx\r\n"] * 1000 + [b"0\r\n\r\n"]
    return {"Content-Length": [head + b"Content-Length: %d\r\n\r\n%b" % (len(body), body)],
            "chunked, 2 chunks": [chunked], "dripped, 1000 one-byte chunks": drip}


def ours(segments: list[bytes]) -> None:
    reader = MessageReader(Kind.REQUEST)
    for segment in segments:
        if reader.feed(segment):
            return
    raise AssertionError("no request")


def with_h11(segments: list[bytes]) -> None:
    import h11

    connection = h11.Connection(h11.SERVER)
    for segment in segments:
        connection.receive_data(segment)
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                break
            if isinstance(event, h11.EndOfMessage):
                return
    raise AssertionError("no request")


def _cpu_us(read: Callable[[list[bytes]], None], segments: list[bytes], count: int) -> float:
    read(segments)
    started = time.process_time()
    for _ in range(count):
        read(segments)
    return (time.process_time() - started) / count * 1e6


def figures(settings: Settings) -> list[Row]:
    try:
        import h11  # noqa: F401
        have_h11 = True
    except ImportError:
        have_h11 = False
    rows: list[Row] = []
    for name, segments in _requests().items():
        count = max(20, (settings.calls * 2) // len(segments))
        mine = _cpu_us(ours, segments, count)
        rows.append(Row("hardening.reader", f"{name}: amtkit.http.reader", mine, "us"))
        if have_h11:
            theirs = _cpu_us(with_h11, segments, count)
            rows.append(Row("hardening.reader", f"{name}: h11", theirs, "us",
                            note=f"{theirs / mine:.1f}x amtkit.http.reader"))
        else:
            rows.append(Row("hardening.reader", f"{name}: h11", float("nan"), "us", note="h11 not installed"))
    return rows


if __name__ == "__main__":
    for row in figures(Settings()):
        print(f"{row.metric:<55} {row.value:>9.1f} {row.unit}  {row.note}")
