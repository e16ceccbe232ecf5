"""The simulator's HTTP server under attack, on real loopback sockets: RFC 9112 framing, bounded and
incremental chunked bodies, write flow control for pipelined replies nobody reads, per-phase
deadlines, a connection cap that idle connections cannot exhaust, and an HTML-escaped web page.

Deadlines are set to fractions of a second here; every wait is for an event (a reply, a close, a
counter), bounded by a generous limit, never a sleep that hopes something happened.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import pytest

from amtkit.http.reader import FramingError, Kind, MessageReader
from amtsim import Timing

GET_ROOT = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def fast(**overrides: float) -> Timing:
    values = {"power_transition": 0, "power_off_phase": 0, "http_idle_timeout": 30.0,
              "http_header_timeout": 30.0, "http_body_timeout": 30.0, "http_send_timeout": 30.0, **overrides}
    return Timing(**values)  # type: ignore[arg-type]


def until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def read_until_closed(sock: socket.socket, limit: float = 10.0) -> bytes:
    sock.settimeout(limit)
    data = b""
    while True:
        piece = sock.recv(65536)
        if not piece:
            return data
        data += piece


def statuses(data: bytes) -> list[int]:
    return [int(line.split(b" ")[1]) for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


@pytest.fixture
def device(make_device):  # type: ignore[no-untyped-def]
    return make_device(timing=fast())


def connect(info) -> socket.socket:  # type: ignore[no-untyped-def]
    return socket.create_connection((info.host, info.port), timeout=10)


# --- RFC 9112 framing -------------------------------------------------------------------------------


def test_content_length_together_with_chunked_is_refused_with_400_and_close(device) -> None:
    with connect(device) as sock:
        sock.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"0\r\n\r\n")
        assert statuses(read_until_closed(sock)) == [400]


@pytest.mark.parametrize(("coding", "status"), [("xchunked", 501), ("chunked, gzip", 400), ("gzip", 501),
                                                ("chunkedx", 501)])
def test_chunked_is_matched_as_the_final_token_only(coding: str, status: int) -> None:
    reader = MessageReader(Kind.REQUEST)
    with pytest.raises(FramingError) as refused:
        reader.feed(f"POST /wsman HTTP/1.1\r\nTransfer-Encoding: {coding}\r\n\r\n".encode())
    assert refused.value.status == status


def test_chunked_in_any_case_with_trailers_is_read_and_the_next_request_follows(device) -> None:
    with connect(device) as sock:
        sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ChUnKeD\r\n\r\n"
                     b"3\r\nabc\r\n0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n" + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert statuses(read_until_closed(sock)) == [404]  # 404 closes; the GET after it is never read


def test_every_trailer_line_is_consumed_before_the_next_request() -> None:
    reader = MessageReader(Kind.REQUEST)
    messages = reader.feed(b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n"
                           b"GET /b HTTP/1.1\r\n\r\n")
    assert [(m.method, m.target, m.body) for m in messages] == [("POST", "/a", b"x"), ("GET", "/b", b"")]


def test_a_request_with_bare_lf_line_ends_is_answered(device) -> None:
    with connect(device) as sock:
        sock.sendall(b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n")
        assert statuses(read_until_closed(sock)) == [303]


def test_garbage_after_a_valid_request_gets_the_answer_then_a_400(device) -> None:
    with connect(device) as sock:
        sock.sendall(GET_ROOT + b"\x16\x03\x01\x00\xa5garbage\r\n\r\n")
        assert statuses(read_until_closed(sock)) == [303, 400]


@pytest.mark.parametrize("head", [
    b"GET / HTTP/1.1\r\nHost: x\r\n folded: value\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET  / HTTP/1.1\r\n\r\n",
])
def test_malformed_heads_are_refused_with_400(head: bytes) -> None:
    with pytest.raises(FramingError) as refused:
        MessageReader(Kind.REQUEST).feed(head)
    assert refused.value.status == 400


# --- chunked bodies: incremental and bounded --------------------------------------------------------


def test_a_dripped_chunked_body_is_parsed_as_it_arrives_never_kept_for_a_reparse() -> None:
    reader = MessageReader(Kind.REQUEST)
    assert reader.feed(b"POST /wsman HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == []
    for _ in range(2000):
        assert reader.feed(b"1\r\nx\r\n") == []
        assert reader.buffered == 0  # each chunk consumed when it arrives
    assert reader.feed(b"1\r\n") == [] and reader.buffered == 0
    [message] = reader.feed(b"y\r\n0\r\n\r\n")
    assert message.body == b"x" * 2000 + b"y"


def test_a_body_in_too_many_chunks_is_refused() -> None:
    reader = MessageReader(Kind.REQUEST)
    reader.feed(b"POST /wsman HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    with pytest.raises(FramingError) as refused:
        reader.feed(b"1\r\nx\r\n" * 5000)
    assert refused.value.status == 413


def test_a_dripping_body_is_cut_off_at_the_body_deadline_while_others_are_served(make_device, connect) -> None:
    info = make_device(timing=fast(http_body_timeout=0.4))
    with socket.create_connection((info.host, info.port), timeout=10) as attacker:
        attacker.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        attacker.sendall(b"1\r\nx\r\n")
        assert connect(info).get("AMT_GeneralSettings") is not None  # the device still answers others
        for _ in range(3):
            try:
                attacker.sendall(b"1\r\nx\r\n")
            except OSError:
                break
        assert statuses(read_until_closed(attacker)) == [408]
    assert info.device.http_connections.stats()["expired_body"] == 1


def test_a_head_that_never_completes_is_cut_off_at_the_header_deadline(make_device) -> None:
    info = make_device(timing=fast(http_header_timeout=0.3))
    with socket.create_connection((info.host, info.port), timeout=10) as sock:
        sock.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert statuses(read_until_closed(sock)) == [408]


def test_an_idle_connection_is_closed_at_the_idle_deadline(make_device) -> None:
    info = make_device(timing=fast(http_idle_timeout=0.3))
    with socket.create_connection((info.host, info.port), timeout=10) as sock:
        sock.sendall(GET_ROOT)
        assert statuses(read_until_closed(sock)) == [303]  # answered, kept alive, then closed when idle
    assert info.device.http_connections.stats()["expired_idle"] == 1


# --- pipelined replies nobody reads -----------------------------------------------------------------


def test_pipelined_requests_whose_replies_are_not_read_stop_being_read(make_device) -> None:
    info = make_device(timing=fast())
    count = 16000  # about 5 MB of replies: more than the loopback socket buffers hold (7500 fit here)
    request = b"GET /logon.htm HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((info.host, info.port))
    sock.setblocking(False)
    pending = request * count
    sent = 0
    table = info.device.http_connections
    try:
        deadline = time.monotonic() + 20
        while sent < len(pending) and time.monotonic() < deadline:
            try:
                sent += sock.send(pending[sent:sent + 65536])
            except BlockingIOError:
                if any(conn.phase.value == "send-blocked" for conn in list(table._open)):
                    break
                time.sleep(0.01)
        until(lambda: any(conn.phase.value == "send-blocked" for conn in list(table._open)))
        answered = info.control.stats()["http_requests"]
        assert answered < count  # reading stopped while our replies piled up unread
        sock.setblocking(True)
        sock.settimeout(10)
        sock.shutdown(socket.SHUT_WR)  # what was sent is all there is; now read every reply
        marker, carry, replies = b"HTTP/1.1 200 OK", b"", 0
        while True:
            piece = sock.recv(1 << 20)
            if not piece:
                break
            window = carry + piece
            replies += window.count(marker)
            carry = window[-(len(marker) - 1):]
        assert replies == sent // len(request)  # then every request that was sent was answered
    finally:
        sock.close()


# --- the connection cap -----------------------------------------------------------------------------


def test_at_the_cap_a_new_client_takes_the_place_of_the_longest_idle_connection(make_device, connect) -> None:
    info = make_device(timing=fast(), max_http_connections=4)
    idle = [socket.create_connection((info.host, info.port), timeout=10) for _ in range(4)]
    try:
        until(lambda: info.device.http_connections.stats()["open"] == 4)
        assert connect(info).get("AMT_GeneralSettings") is not None
        assert read_until_closed(idle[0]) == b""  # the first idle connection made room
        assert info.device.http_connections.stats()["evicted"] >= 1
    finally:
        for sock in idle:
            sock.close()


def test_when_every_connection_is_busy_new_ones_are_refused_and_logged_once(
        make_device, caplog: pytest.LogCaptureFixture) -> None:
    info = make_device(timing=fast(), max_http_connections=3)
    busy = [socket.create_connection((info.host, info.port), timeout=10) for _ in range(3)]
    caplog.set_level(logging.WARNING, logger="amtsim.connections")
    try:
        for sock in busy:
            sock.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\n")  # heads in progress: not idle
        until(lambda: sum(1 for c in list(info.device.http_connections._open) if c.phase.value == "head") == 3)
        for _ in range(10):
            with socket.create_connection((info.host, info.port), timeout=10) as refused:
                assert read_until_closed(refused) == b""
        until(lambda: info.device.http_connections.stats()["refused"] == 10)
        lines = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(lines) == 1
    finally:
        for sock in busy:
            sock.close()


# --- the web page and internal errors --------------------------------------------------------------


def test_device_strings_on_the_web_page_are_html_escaped(device, httpkit) -> None:
    with device.device.lock:
        device.device.general.hostname = '<script>alert("x")</script>&'
    with connect(device) as sock:
        sock.sendall(b"GET /logon.htm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        page = read_until_closed(sock)
    assert b"<script>" not in page
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page


def test_a_handler_that_raises_costs_one_500_and_the_device_keeps_serving(device, connect, monkeypatch) -> None:
    from amtsim import server

    def broken(*args: object) -> object:
        raise RuntimeError("simulated bug")

    client = connect(device)
    client.get("AMT_GeneralSettings")
    monkeypatch.setattr(server, "dispatch_wsman", broken)
    from amtkit import exceptions as exc

    with pytest.raises(exc.AMTError):
        client.get("AMT_GeneralSettings")
    assert device.control.stats()["internal_errors"] == 1
    monkeypatch.undo()
    assert connect(device).get("AMT_GeneralSettings") is not None


def test_a_burst_of_pipelined_requests_is_handed_out_a_few_at_a_time() -> None:
    reader = MessageReader(Kind.REQUEST)
    burst = GET_ROOT * 40
    first = reader.feed(burst, limit=16)
    assert len(first) == 16 and reader.more
    second = reader.feed(b"", limit=16)
    third = reader.feed(b"", limit=16)
    assert (len(second), len(third), reader.more) == (16, 8, False)
