"""The strict HTTP/1.1 reply reader (sans-IO): framing per RFC 9112 whatever way the bytes arrive,
and nothing but FramingError for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.http.reply import FramingError, Reply, ReplyReader, split_challenges

LIMIT = 1 << 20


def read_in_pieces(data: bytes, cuts: list[int], *, max_body: int = LIMIT) -> Reply | None:
    reader = ReplyReader(max_body=max_body)
    positions = sorted({min(cut, len(data)) for cut in cuts}) + [len(data)]
    start = 0
    for end in positions:
        if end > start:
            reply = reader.feed(data[start:end])
            if reply is not None:
                return reply
            start = end
    return None


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, pos = [], 0
    for size in sizes:
        piece = body[pos:pos + size]
        if piece:
            out.append(b"%X\r\n%s\r\n" % (len(piece), piece))
        pos += size
    if pos < len(body):
        out.append(b"%X\r\n%s\r\n" % (len(body) - pos, body[pos:]))
    return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(out) + b"0\r\n\r\n")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), max_size=8), st.lists(st.integers(0, 4000), max_size=6))
def test_a_chunked_body_reads_the_same_however_it_is_cut_and_delivered(body, sizes, cuts) -> None:
    reply = read_in_pieces(chunked(body, sizes), cuts)
    assert reply is not None and reply.body == body and reply.status == 200 and reply.keep_alive


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 4000), max_size=6))
def test_a_content_length_body_reads_the_same_however_it_is_delivered(body, cuts) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    reply = read_in_pieces(data, cuts)
    assert reply is not None and reply.body == body


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=4))
def test_any_bytes_give_a_reply_nothing_yet_or_a_framing_error(data, cuts) -> None:
    try:
        read_in_pieces(b"HTTP/1.1 " + data, cuts, max_body=1000)
    except FramingError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF-+ ;x\t", min_size=1, max_size=30))
def test_any_chunk_size_line_is_read_or_refused_as_framing(size_line) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line.encode() + b"\r\nabc\r\n0\r\n\r\n"
    try:
        read_in_pieces(data, [], max_body=1000)
    except FramingError:
        pass


def test_bare_line_feeds_are_accepted_in_the_head() -> None:
    reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 303 See Other\nLocation: /logon.htm\nContent-Length: 0\n\n")
    assert reply is not None and reply.status == 303 and reply.headers["location"] == "/logon.htm"


def test_a_folded_header_line_is_joined_with_a_space() -> None:
    reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 200 OK\r\nServer: Intel(R) Active\r\n Management\r\n"
                                             b"Content-Length: 0\r\n\r\n")
    assert reply is not None and reply.headers["Server"] == "Intel(R) Active Management"


def test_an_interim_100_answer_is_skipped() -> None:
    reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert reply is not None and reply.status == 200 and reply.body == b"ok"


def test_a_reply_without_length_runs_to_the_end_of_the_connection() -> None:
    reader = ReplyReader(max_body=LIMIT)
    assert reader.feed(b"HTTP/1.0 200 OK\r\n\r\npart one, ") is None
    assert reader.feed(b"part two") is None
    reply = reader.feed_eof()
    assert reply.body == b"part one, part two" and not reply.keep_alive


def test_connection_close_and_http_1_0_end_the_connection() -> None:
    closing = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 400 Bad\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    old = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert closing is not None and not closing.keep_alive
    assert old is not None and not old.keep_alive


def test_no_body_is_read_for_204_and_304() -> None:
    for status in (b"204 No Content", b"304 Not Modified"):
        reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 " + status + b"\r\nContent-Length: 10\r\n\r\n")
        assert reply is not None and reply.body == b""


def test_trailers_are_read_to_the_empty_line() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n"
    reply = ReplyReader(max_body=LIMIT).feed(data)
    assert reply is not None and reply.body == b"ok" and reply.keep_alive


@pytest.mark.parametrize("coding", [b"gzip", b"gzip, chunked", b"chunked, gzip", b"identity"])
def test_transfer_codings_other_than_chunked_are_refused(coding) -> None:
    with pytest.raises(FramingError, match="Transfer-Encoding"):
        ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n")


@pytest.mark.parametrize("line", [b"Bad Name: x", b"NoColon", b" leading: fold-first", b"Name : space"])
def test_malformed_header_lines_are_refused(line) -> None:
    with pytest.raises(FramingError):
        ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize("status_line", [b"HTTP/1.1 20 OK", b"HTTP/1.1 abc OK", b"HTTP/2 200 OK"])
def test_bad_status_lines_are_refused(status_line) -> None:
    with pytest.raises(FramingError):
        ReplyReader(max_body=LIMIT).feed(status_line + b"\r\nContent-Length: 0\r\n\r\n")


def test_repeated_fields_are_kept_apart_for_get_all_and_joined_for_lookup() -> None:
    reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\n"
                                             b'WWW-Authenticate: Digest realm="a, b"\r\nContent-Length: 0\r\n\r\n')
    assert reply is not None
    assert reply.headers.get_all("www-authenticate") == ["Negotiate", 'Digest realm="a, b"']
    assert reply.headers["WWW-Authenticate"] == 'Negotiate, Digest realm="a, b"'


def test_challenges_are_split_at_schemes_not_at_commas_inside_parameters() -> None:
    digest = 'Digest realm="Digest:AB", nonce="a,b",stale="false",qop="auth"'
    assert split_challenges(["Negotiate, " + digest]) == [
        "Negotiate", 'Digest realm="Digest:AB", nonce="a,b", stale="false", qop="auth"']
    assert split_challenges(["Negotiate abc==", 'Basic realm="x"']) == ["Negotiate abc==", 'Basic realm="x"']


_field_names = st.from_regex(r"[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,20}", fullmatch=True)
_field_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF, blacklist_characters="\x7f"),
                        max_size=12).flatmap(
    lambda word: st.lists(st.just(word) | st.text("abc", min_size=1, max_size=3), max_size=4).map(" ".join))
_blanks = st.text(" \t", max_size=3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_field_names, _field_values, _blanks, _blanks, st.booleans()), max_size=8))
def test_header_fields_are_read_without_the_blanks_around_their_values(fields) -> None:
    lines = b"".join(f"{name}:{before}{value}{after}".encode("latin-1") + (b"\r\n" if crlf else b"\n")
                     for name, value, before, after, crlf in fields)
    reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 0\r\n\r\n")
    assert reply is not None
    assert [(n, reply.headers.get_all(n)) for n, *_ in fields] == [
        (n, [v.strip(" \t") for m, v, *_ in fields if m.lower() == n.lower()]) for n, *_ in fields]


def test_a_stray_carriage_return_inside_a_field_value_is_kept_as_sent() -> None:
    reply = ReplyReader(max_body=LIMIT).feed(b"HTTP/1.1 200 OK\r\nX-Odd: a\rb \r\r\nContent-Length: 0\r\n\r\n")
    assert reply is not None and reply.headers["X-Odd"] == "a\rb"


def test_latin_1_superscript_digits_are_not_a_status_code() -> None:
    with pytest.raises(FramingError, match="bad status code"):
        ReplyReader(max_body=LIMIT).feed("HTTP/1.1 2\u00b2\u00b3 OK\r\n\r\n".encode("latin-1"))


_size_lines = st.sampled_from(["{:x}", "{:X}", "00{:x}", "{:x};ext=1", "{:x} ", "{:x}\t;q=\"a\""])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=300), _size_lines, st.booleans(), st.booleans()),
                max_size=6), st.booleans())
def test_every_chunk_framing_style_reads_the_same_whole_or_byte_by_byte(chunks, bare_last) -> None:
    framed = b"".join(style.format(len(data)).encode() + (b"\n" if bare_size else b"\r\n") + data
                      + (b"\n" if bare_data else b"\r\n") for data, style, bare_size, bare_data in chunks)
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + (b"0\n\n" if bare_last else b"0\r\n\r\n")
    whole = ReplyReader(max_body=LIMIT).feed(data)
    in_bytes = read_in_pieces(data, list(range(1, len(data))))
    expected = b"".join(chunk for chunk, *_ in chunks)
    assert whole is not None and in_bytes is not None
    assert whole.body == in_bytes.body == expected and whole.keep_alive and in_bytes.keep_alive


def test_a_chunk_larger_than_announced_is_refused_whole_or_in_pieces() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n"
    for cuts in ([], list(range(1, len(data)))):
        with pytest.raises(FramingError, match="chunk size and data disagree"):
            read_in_pieces(data, cuts)


def test_the_body_limit_holds_for_whole_chunks_too() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n"
    with pytest.raises(FramingError, match="exceeds 7 bytes"):
        ReplyReader(max_body=7).feed(data)
