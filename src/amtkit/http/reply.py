"""Reading an HTTP/1.1 response strictly and incrementally (sans-IO): the client's side of the wire.

:class:`ReplyReader` is fed the bytes a socket delivers and hands back one :class:`Reply` when the
message is complete. It knows nothing of sockets, so the transport keeps the I/O (deadlines, TLS)
and tests can feed it any split of any byte string.

Why not ``http.client``: its header parsing goes through the ``email`` package, which was the
largest part of the client's CPU per call and of its import time; and a hostile device could make
it raise ``ValueError``/``OverflowError`` or allocate what a ``Content-Length`` announced. Every
limit here is checked *before* anything is allocated for it, and every defect is one
:class:`FramingError`.

The rules (RFC 9112, as a client reads them):

* status line ``HTTP/1.x NNN reason``; anything that does not start like HTTP is refused at once
  (:attr:`FramingError.not_http`), without waiting for more bytes;
* lines end in CRLF, a bare LF is accepted (RFC 9112 section 2.2 allows it); obsolete line folding
  is replaced by a space; a header name is a token with no space before the colon;
* ``Transfer-Encoding`` must end in ``chunked`` and carry no other coding; together with a
  ``Content-Length`` it is an error, as are differing repeated lengths;
* a chunk size is 1 to 16 hex digits (extensions ignored), its data is followed by a line end, and
  trailers are read to the empty line; sizes, the head, header count and trailers are bounded;
* 1xx interim responses are skipped; 204, 304 and replies to HEAD have no body; a reply with
  neither length nor chunking runs to the end of the connection;
* bytes after a complete reply (nothing was pipelined) mean the connection cannot be reused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

__all__ = ["FramingError", "Headers", "Reply", "ReplyReader", "split_challenges"]

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_CHUNK_LINE = 4096
MAX_CHUNK_SIZE_DIGITS = 16

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A whole header line in its plain form: token, colon, value without CR, optional CR. The groups are
# what the line-by-line reading makes of such a line (the value without surrounding blanks).
_PLAIN_FIELD = re.compile(
    r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[^ \t\r\n]+(?:[ \t]+[^ \t\r\n]+)*)?)[ \t]*\r?$", re.MULTILINE)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,%d}" % MAX_CHUNK_SIZE_DIGITS)
# A chunk-size line in the form every server writes (digits, an optional extension, CRLF): what
# the general reader would accept from it, and nothing more.
_WHOLE_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,%d})(?:;[^\r\n]*)?\r\n" % MAX_CHUNK_SIZE_DIGITS)


class FramingError(ValueError):
    """The bytes are not a well-formed HTTP/1.1 response; ``not_http``: not HTTP at all."""

    def __init__(self, message: str, *, not_http: bool = False) -> None:
        super().__init__(message)
        self.not_http = not_http


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case; repeated fields joined by ``, ``.

    :meth:`get_all` keeps repeated fields apart (``WWW-Authenticate`` must not be joined: a
    challenge holds commas of its own).
    """

    __slots__ = ("_fields", "_joined")

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields
        joined: dict[str, tuple[str, str]] = {}
        for name, value in fields:
            key = name.lower()
            earlier = joined.get(key)
            joined[key] = (name, value) if earlier is None else (earlier[0], f"{earlier[1]}, {value}")
        self._joined = joined

    def __getitem__(self, name: str) -> str:
        return self._joined[name.lower()][1]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        found = self._joined.get(name.lower())
        return default if found is None else found[1]

    def get_all(self, name: str) -> list[str]:
        key = name.lower()
        return [value for field, value in self._fields if field.lower() == key]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._joined.values())

    def __len__(self) -> int:
        return len(self._joined)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._joined

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


class Reply:
    """One complete response. ``keep_alive``: the connection may carry the next request."""

    __slots__ = ("body", "headers", "keep_alive", "reason", "status")

    def __init__(self, status: int, reason: str, headers: Headers, body: bytes, keep_alive: bool) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


# Body modes.
_NONE, _LENGTH, _CHUNKED, _TO_EOF = range(4)
# Chunked sub-states.
_SIZE, _DATA, _TRAILER = range(3)


class ReplyReader:
    """Feed bytes with :meth:`feed` until it returns the :class:`Reply`; :meth:`feed_eof` when the
    peer closed. One reader per request. ``max_body`` bounds the body (announced or received)."""

    def __init__(self, *, max_body: int, head_request: bool = False) -> None:
        self._max_body = max_body
        self._head_request = head_request
        self._buf = bytearray()
        self._pos = 0
        self._head: tuple[int, str, Headers, bool] | None = None
        self._mode = _NONE
        self._remaining = 0  # bytes of the body (length mode) or of the current chunk still to come
        self._chunk_state = _SIZE
        self._parts: list[bytes] = []
        self._received = 0
        self._trailer_lines = 0

    # -- public --------------------------------------------------------------------------------
    def feed(self, data: bytes) -> Reply | None:
        if self._buf:
            self._buf += data
        else:
            self._buf = bytearray(data)
            self._pos = 0
        return self._advance()

    def feed_eof(self) -> Reply:
        """The peer closed: the reply if it is complete (or runs to the end), else a FramingError."""
        if self._head is not None and self._mode == _TO_EOF:
            status, reason, headers, _ = self._head
            return Reply(status, reason, headers, b"".join(self._parts), False)
        if self._head is None and not self._buf:
            raise FramingError("the connection closed before any answer")
        raise FramingError("the connection closed in the middle of the answer")

    @property
    def started(self) -> bool:
        """Whether any byte of an answer arrived."""
        return bool(self._buf) or self._head is not None

    # -- the state machine -----------------------------------------------------------------------
    def _advance(self) -> Reply | None:
        while self._head is None:
            if not self._read_head():
                return None
        if self._mode == _LENGTH:
            return self._read_length()
        if self._mode == _CHUNKED:
            return self._read_chunked()
        if self._mode == _TO_EOF:
            self._take_to_eof()
            return None
        return self._finish(b"")

    def _read_head(self) -> bool:
        buf, pos = self._buf, self._pos
        if len(buf) - pos >= 5 and not buf.startswith(b"HTTP/", pos):
            raise FramingError("the answer does not start like HTTP", not_http=True)
        end = buf.find(b"\n\r\n", pos)
        # A bare-LF end counts only before the CRLF one: search no further (not through the body).
        bare = buf.find(b"\n\n", pos) if end < 0 else buf.find(b"\n\n", pos, end + 1)
        if end < 0 or bare >= 0:
            end, skip = bare, 2
        else:
            skip = 3
        if end < 0:
            if len(buf) - pos > MAX_HEAD_BYTES:
                raise FramingError(f"the response head exceeds {MAX_HEAD_BYTES} bytes")
            return False
        if end - pos > MAX_HEAD_BYTES:
            raise FramingError(f"the response head exceeds {MAX_HEAD_BYTES} bytes")
        # One decode of the whole head: latin-1 maps every byte to one character, so the checks
        # below see the bytes as they came.
        first, _, fields = buf[pos:end].decode("latin-1").partition("\n")
        self._pos = end + skip
        status, reason = _status_line(first.rstrip("\r"))
        if 100 <= status < 200:
            if status == 101:
                raise FramingError("the device switched protocols (101), which was not asked for")
            return True  # an interim answer: the real one follows
        headers = _header_fields(fields)
        self._head = (status, reason, headers, _keeps_alive(first, headers))
        self._choose_body(status, headers)
        return True

    def _choose_body(self, status: int, headers: Headers) -> None:
        coding = headers.get("Transfer-Encoding")
        length = headers.get("Content-Length")
        if self._head_request or status in (204, 304):
            self._mode = _NONE
        elif coding is not None:
            if length is not None:
                raise FramingError("the response has both Content-Length and Transfer-Encoding")
            codings = [coding] if coding == "chunked" else [c.strip().lower() for c in coding.split(",")]
            if codings != ["chunked"]:
                raise FramingError(f"unsupported Transfer-Encoding {coding!r} (only chunked is read)")
            self._mode = _CHUNKED
        elif length is not None:
            self._remaining = _content_length(length, self._max_body)
            self._mode = _LENGTH
        else:
            self._mode = _TO_EOF

    def _read_length(self) -> Reply | None:
        available = len(self._buf) - self._pos
        if available < self._remaining:
            return None
        start = self._pos
        self._pos = start + self._remaining
        return self._finish(bytes(self._buf[start:self._pos]))

    def _read_chunked(self) -> Reply | None:
        buf = self._buf
        if self._chunk_state == _SIZE:
            done = self._take_whole_chunks(buf)
            if done is not None:
                return done
        while True:
            if self._chunk_state == _DATA:
                end = self._pos + self._remaining
                if len(buf) < end:
                    return None
                line_end = _line_end_at(buf, end)
                if line_end is None:
                    return None
                self._parts.append(bytes(buf[self._pos:end]))
                self._pos = line_end
                self._chunk_state = _SIZE
                continue
            eol = buf.find(b"\n", self._pos)
            if eol < 0:
                if len(buf) - self._pos > MAX_CHUNK_LINE:
                    raise FramingError("a chunk-size or trailer line is too long")
                self._compact()
                return None
            line = bytes(buf[self._pos:eol]).rstrip(b"\r")
            self._pos = eol + 1
            if self._chunk_state == _TRAILER:
                if not line:
                    return self._finish(b"".join(self._parts))
                self._trailer_lines += 1
                if self._trailer_lines > MAX_HEADERS:
                    raise FramingError("too many trailer lines")
                continue
            size = _chunk_size(line)
            if size == 0:
                self._chunk_state = _TRAILER
                continue
            self._received += size
            if self._received > self._max_body:
                raise FramingError(f"the chunked body exceeds {self._max_body} bytes")
            self._remaining = size
            self._chunk_state = _DATA

    def _take_whole_chunks(self, buf: bytearray) -> Reply | None:
        """The usual case quickly: chunks whose size line, data and CRLF are all here, then the last
        chunk with no trailers. Stops at anything else (a partial chunk, a bare LF, an extension with
        a CR, a trailer, an error), leaving it to the general loop, which reads it the same way."""
        pos = self._pos
        while True:
            match = _WHOLE_CHUNK_SIZE.match(buf, pos)
            if match is None:
                break
            size = int(match.group(1), 16)
            start = match.end()
            if size == 0:
                if buf[start:start + 2] != b"\r\n":
                    break
                self._pos = start + 2
                return self._finish(b"".join(self._parts))
            end = start + size
            if buf[end:end + 2] != b"\r\n":
                break
            self._received += size
            if self._received > self._max_body:
                raise FramingError(f"the chunked body exceeds {self._max_body} bytes")
            self._parts.append(bytes(buf[start:end]))
            pos = end + 2
        self._pos = pos
        return None

    def _take_to_eof(self) -> None:
        data = bytes(self._buf[self._pos:])
        self._received += len(data)
        if self._received > self._max_body:
            raise FramingError(f"the body exceeds {self._max_body} bytes")
        if data:
            self._parts.append(data)
        self._buf = bytearray()
        self._pos = 0

    def _compact(self) -> None:
        if self._pos > 65536:
            del self._buf[:self._pos]
            self._pos = 0

    def _finish(self, body: bytes) -> Reply:
        assert self._head is not None
        status, reason, headers, keep_alive = self._head
        # Nothing was pipelined: bytes after the reply mean the stream is out of step.
        clean = self._pos == len(self._buf)
        return Reply(status, reason, headers, body, keep_alive and clean)


def _shown(line: str) -> bytes:
    """A head line for an error message, as the bytes that came (the head is decoded as latin-1)."""
    return line[:40].encode("latin-1")


def _status_line(line: str) -> tuple[int, str]:
    if not line.startswith("HTTP/"):
        raise FramingError("the answer does not start like HTTP", not_http=True)
    parts = line.split(" ", 2)
    if len(parts) < 2 or parts[0] not in ("HTTP/1.1", "HTTP/1.0"):
        raise FramingError(f"unsupported status line {_shown(line)!r}", not_http=parts[0][:7] != "HTTP/1.")
    code = parts[1]
    if len(code) != 3 or not (code.isascii() and code.isdigit()):  # not latin-1's superscript digits
        raise FramingError(f"bad status code in {_shown(line)!r}")
    return int(code), parts[2] if len(parts) == 3 else ""


def _header_fields(block: str) -> Headers:
    """The header fields of a head's lines after the status line (``block``, lines split by LF)."""
    if not block:
        return Headers([])
    count = block.count("\n") + 1
    if count > MAX_HEADERS:
        raise FramingError(f"more than {MAX_HEADERS} header lines")
    # Every line in the plain form at once; a line that is not (folded, malformed, a stray CR) makes
    # the count differ, and the line-by-line reading below takes over (and refuses what it must).
    plain: list[tuple[str, str]] = _PLAIN_FIELD.findall(block)
    if len(plain) == count:
        return Headers(plain)
    fields: list[tuple[str, str]] = []
    for raw in block.split("\n"):
        line = raw.rstrip("\r")
        if line[:1] in (" ", "\t"):
            if not fields:
                raise FramingError("the first header line is a continuation")
            field, earlier = fields[-1]
            continued = line.strip(" \t")
            fields[-1] = (field, f"{earlier} {continued}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or _TOKEN.fullmatch(name) is None:
            raise FramingError(f"malformed header line {_shown(line)!r}")
        fields.append((name, value.strip(" \t")))
    return Headers(fields)


def _keeps_alive(status_line: str, headers: Headers) -> bool:
    connection = (headers.get("Connection") or "").lower()
    tokens = {token.strip() for token in connection.split(",")} if connection else set()
    if status_line.startswith("HTTP/1.0"):
        return "keep-alive" in tokens
    return "close" not in tokens


def _content_length(text: str, limit: int) -> int:
    values = {value.strip() for value in text.split(",")}
    if len(values) != 1:
        raise FramingError(f"conflicting Content-Length values {text[:60]!r}")
    value = values.pop()
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        raise FramingError(f"bad Content-Length {value[:30]!r}")
    length = int(value)
    if length > limit:
        raise FramingError(f"the announced body of {length} bytes exceeds the {limit}-byte limit")
    return length


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip(b" \t")
    if _HEX.fullmatch(text) is None:
        raise FramingError(f"bad chunk size line {line[:40]!r}")
    return int(text, 16)


def _line_end_at(buf: bytearray, pos: int) -> int | None:
    """Where the line end right after chunk data finishes (None: not yet received)."""
    if len(buf) < pos + 1:
        return None
    if buf[pos] == 0x0A:
        return pos + 1
    if len(buf) < pos + 2:
        return None
    if buf[pos:pos + 2] == b"\r\n":
        return pos + 2
    raise FramingError("chunk data is not followed by a line end (chunk size and data disagree)")


# -- WWW-Authenticate --------------------------------------------------------------------------

_PARAM_START = re.compile(r"\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=")


def split_challenges(values: list[str]) -> list[str]:
    """Every challenge of one or more ``WWW-Authenticate`` values, one string each.

    RFC 9110 lets a field hold several challenges (``Negotiate, Digest realm="..", ...``) and a
    Kerberos-enabled AMT sends two fields. Commas split auth-params *and* challenges, so an item
    that is a bare token (or ``token token68``/``token param=..``) starts a new challenge, while
    ``name=value`` items belong to the current one. Quoted strings are kept whole.
    """
    challenges: list[str] = []
    for value in values:
        for item in _comma_items(value):
            if not item.strip():
                continue
            if challenges and _PARAM_START.match(item):
                challenges[-1] = f"{challenges[-1]}, {item.strip()}"
                continue
            challenges.append(item.strip())
    return challenges


def _comma_items(value: str) -> list[str]:
    items: list[str] = []
    start = 0
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(value[start:index])
            start = index + 1
    items.append(value[start:])
    return items
