"""The simulator's HTTP request reader: bounded, and it refuses garbage only with HTTPParseError.

One connection's bytes must never hang or crash the event loop that serves every device.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtsim.httpwire import MAX_BODY_BYTES, HTTPParseError, RequestReader

HEAD = b"POST /wsman HTTP/1.1\r\nHost: x\r\n"


def feed_all(*pieces: bytes) -> list[bytes]:
    reader = RequestReader()
    bodies: list[bytes] = []
    for piece in pieces:
        bodies += [request.body for request in reader.feed(piece)]
    return bodies


@pytest.mark.parametrize("size_line", [b"-6", b"0x10", b"1_0", b"+5", b" ", b"zz", b"\xb2"])
def test_a_chunk_size_that_is_not_plain_hex_is_refused(size_line: bytes) -> None:
    with pytest.raises(HTTPParseError) as refused:
        feed_all(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\nabcdef\r\n0\r\n\r\n")
    assert refused.value.status == 400


@pytest.mark.parametrize("length", ["\u00b2", "-1", "1e3", "0x10", " 5x", "\u0665"])
def test_a_content_length_that_is_not_ascii_digits_is_refused(length: str) -> None:
    with pytest.raises(HTTPParseError) as refused:
        feed_all(HEAD + f"Content-Length: {length}\r\n\r\n".encode())
    assert refused.value.status == 400


def test_a_chunked_body_arriving_in_pieces_is_reassembled() -> None:
    message = HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    pieces = [message[i:i + 7] for i in range(0, len(message), 7)]
    assert feed_all(*pieces) == [b"hello world"]


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(HTTPParseError) as refused:
        feed_all(HEAD + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode())
    assert refused.value.status == 413


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_arbitrary_bytes_after_a_request_head_end_in_a_request_or_a_parse_error(pieces: list[bytes]) -> None:
    try:
        feed_all(HEAD + b"Transfer-Encoding: chunked\r\n\r\n", *pieces)
    except HTTPParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256), st.text(max_size=20))
def test_arbitrary_requests_and_header_values_never_raise_anything_else(raw: bytes, value: str) -> None:
    for data in (raw, HEAD + f"Content-Length: {value}\r\n\r\n".encode("utf-8", "replace") + raw):
        try:
            feed_all(data)
        except HTTPParseError:
            pass
