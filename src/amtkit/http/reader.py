"""One strict, incremental HTTP/1.1 message reader (RFC 9112), sans-IO, for requests and replies.

The simulator reads requests with it and discovery reads AMT's replies with it, so framing rules
live in one place. Feed it bytes as they arrive; it returns each message once complete:

    reader = MessageReader(Kind.REQUEST)
    for message in reader.feed(data):
        ...

Every step is incremental: a body arriving one byte at a time (or one chunk at a time) costs the
same in total as one arriving at once, never a re-parse from the start. Everything is bounded
(head size and line count, body size, chunk count, trailer size), and anything outside the
grammar raises :class:`FramingError` with the status a server answers it with, never another
exception. The rules, each from RFC 9112:

* lines end in CRLF; a bare LF is accepted as a line end (section 2.2 allows it), a bare CR is
  refused;
* the request line is ``method SP target SP HTTP/1.x``; header names are tokens with no space
  before the colon; obsolete line folding is refused (section 5.2);
* ``Transfer-Encoding`` is a list of tokens whose last must be ``chunked`` (anything else: 501
  for a request); with ``Content-Length`` as well the message is refused (section 6.3: it could
  be smuggling); ``Content-Length`` is ASCII digits, one value;
* chunk sizes are hex digits with optional extensions; the CRLF after each chunk's data is
  required; every trailer line up to the empty one is consumed;
* a reply to HEAD, a 1xx, 204 or 304 has no body; a reply with neither length nor chunking runs
  to the end of the connection (:meth:`MessageReader.eof`).

After a complete message, bytes that cannot start another one are an error for the *next*
message: :meth:`MessageReader.feed` returns the complete messages first and keeps the error in
:attr:`MessageReader.error`, so a server answers the valid request before refusing the rest.
"""

from __future__ import annotations

import asyncio
import enum
import re
from dataclasses import dataclass, field

__all__ = [
    "FramingError",
    "Kind",
    "Limits",
    "Message",
    "MessageReader",
    "read_reply",
]


class FramingError(Exception):
    """Bytes that are not an acceptable HTTP/1.1 message; ``status`` is the answer a server gives."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Kind(enum.Enum):
    REQUEST = "request"
    RESPONSE = "response"


@dataclass(frozen=True)
class Limits:
    head_bytes: int = 16 * 1024
    head_lines: int = 100
    body_bytes: int = 1024 * 1024
    chunks: int = 4096
    """Chunks of one body: 1 MiB in 256-byte chunks; a body dripped in tinier ones is refused."""
    chunk_line_bytes: int = 256
    """A chunk-size line with its extensions."""
    trailer_bytes: int = 4096


@dataclass
class Message:
    """A complete request or reply. ``headers`` keeps names lower-cased and repeats joined by ``, ``."""

    method: str = ""
    target: str = ""
    version: str = ""
    status: int = 0
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        tokens = _tokens(self.headers.get("connection", ""))
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class _State(enum.Enum):
    HEAD = 1
    BODY_LENGTH = 2
    CHUNK_SIZE = 3
    CHUNK_DATA = 4
    CHUNK_END = 5
    TRAILER = 6
    BODY_TO_EOF = 7
    FAILED = 8


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) (HTTP/1\.[01])")
_STATUS_LINE = re.compile(r"(HTTP/1\.[01]) ([0-9]{3})(?: (.*))?")
_DECIMAL = re.compile(r"[0-9]{1,15}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")
_NO_BODY_STATUSES = frozenset({204, 304})
_METHOD_PREFIX = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}(?: |$)")


def _tokens(value: str) -> list[str]:
    return [token.strip().lower() for token in value.split(",") if token.strip()]


class MessageReader:
    """Feed bytes, get complete messages; see the module docstring for the rules."""

    def __init__(self, kind: Kind = Kind.REQUEST, limits: Limits | None = None) -> None:
        self.kind = kind
        self.limits = limits or Limits()
        self._buffer = bytearray()
        self._state = _State.HEAD
        self._scan_from = 0
        """Where the search for the end of the head resumes (what was searched is not searched again)."""
        self._message: Message | None = None
        self._body = bytearray()
        self._remaining = 0
        self._chunks = 0
        self._trailer_bytes = 0
        self.error: FramingError | None = None
        """The error met after the messages last returned; the next :meth:`feed` raises it."""
        self.expect_no_body = False
        """For replies: set when the request was HEAD (its reply has headers only)."""
        self.more = False
        """The last :meth:`feed` stopped at its ``limit``: more complete messages may be buffered."""

    @property
    def in_message(self) -> bool:
        """Whether part of a message has arrived (a server's header and body timeouts run then)."""
        return self._state is not _State.HEAD or bool(self._buffer)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet consumed: only an incomplete line or chunk, never a whole body."""
        return len(self._buffer)

    @property
    def reading_body(self) -> bool:
        return self._state not in (_State.HEAD, _State.FAILED)

    def feed(self, data: bytes, limit: int | None = None) -> list[Message]:
        """Take ``data``; return the messages it completes, at most ``limit`` of them.

        With a ``limit`` reached, :attr:`more` is true and ``feed(b"")`` returns the next ones: a
        server can answer a burst of pipelined requests a few at a time, letting others in between.
        """
        if self.error is not None:
            raise self.error
        self._buffer += data
        self.more = False
        messages: list[Message] = []
        try:
            while True:
                if limit is not None and len(messages) >= limit:
                    self.more = True
                    return messages
                message = self._step()
                if message is None:
                    return messages
                messages.append(message)
        except FramingError as error:
            self._state = _State.FAILED
            self._buffer.clear()
            if not messages:
                self.error = error
                raise
            self.error = error
            return messages

    def eof(self) -> Message | None:
        """The connection ended: a reply framed by the close is complete; anything else partial is an error."""
        if self._state is _State.BODY_TO_EOF and self._message is not None:
            self._message.body = bytes(self._body)
            self._state = _State.HEAD
            return self._message
        if self.in_message and self._state is not _State.FAILED:
            raise FramingError(400, "the connection ended inside a message")
        return None

    # -- the state machine -----------------------------------------------------------------------
    def _step(self) -> Message | None:
        state = self._state
        if state is _State.HEAD:
            return self._head()
        if state is _State.BODY_LENGTH:
            return self._length_body()
        if state is _State.BODY_TO_EOF:
            self._take_to_eof()
            return None
        if state is _State.FAILED:
            return None
        return self._chunked()

    def _head(self) -> Message | None:
        buffer = self._buffer
        while buffer[:2] == b"\r\n" or buffer[:1] == b"\n":  # empty lines before a message (section 2.2)
            del buffer[:2 if buffer[:1] == b"\r" else 1]
        if not buffer or buffer == b"\r":
            return None
        if self.kind is Kind.REQUEST and _METHOD_PREFIX.match(buffer[:21]) is None:
            # Refuse at once what cannot become a request line (a TLS hello on the plain port,
            # binary junk): waiting for an end of head that never comes would hang the peer.
            raise FramingError(400, "not an HTTP request")
        end = buffer.find(b"\n\n", max(0, self._scan_from - 3))
        crlf_end = buffer.find(b"\n\r\n", max(0, self._scan_from - 3))
        ends = [(pos, 2) for pos in (end,) if pos >= 0] + [(pos, 3) for pos in (crlf_end,) if pos >= 0]
        if not ends:
            if len(buffer) > self.limits.head_bytes:
                raise FramingError(431, "header section too large")
            self._scan_from = len(buffer)
            return None
        position, width = min(ends)
        head_end = position + width
        if head_end > self.limits.head_bytes:
            raise FramingError(431, "header section too large")
        head = bytes(buffer[:position + 1])
        del buffer[:head_end]
        self._scan_from = 0
        message = self._parse_head(head)
        return self._start_body(message)

    def _parse_head(self, head: bytes) -> Message:
        lines = head.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if len(lines) > self.limits.head_lines:
            raise FramingError(431, "too many header lines")
        texts: list[str] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if b"\r" in line or b"\x00" in line:
                raise FramingError(400, "bare CR or NUL in the header section")
            texts.append(line.decode("latin-1"))
        message = Message()
        start = texts[0] if texts else ""
        if self.kind is Kind.REQUEST:
            match = _REQUEST_LINE.fullmatch(start)
            if match is None:
                raise FramingError(400, "malformed request line")
            message.method, message.target, message.version = match.groups()
        else:
            match = _STATUS_LINE.fullmatch(start)
            if match is None:
                raise FramingError(502, "malformed status line")
            message.version, status, reason = match.groups()
            message.status, message.reason = int(status), reason or ""
        headers = message.headers
        for text in texts[1:]:
            name, colon, value = text.partition(":")
            if not colon or _TOKEN.fullmatch(name) is None:
                raise FramingError(400, "malformed header line" if not text[:1].isspace() else "obsolete line folding")
            key = name.lower()
            value = value.strip(" \t")
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return message

    def _start_body(self, message: Message) -> Message | None:
        headers = message.headers
        transfer_encoding = headers.get("transfer-encoding")
        content_length = headers.get("content-length")
        self._body = bytearray()
        if self.kind is Kind.RESPONSE and (self.expect_no_body or message.status < 200
                                           or message.status in _NO_BODY_STATUSES):
            return message
        if transfer_encoding is not None:
            if content_length is not None:
                raise FramingError(400, "both Content-Length and Transfer-Encoding")
            codings = _tokens(transfer_encoding)
            if not codings or codings[-1] != "chunked":
                if self.kind is Kind.REQUEST:
                    raise FramingError(501 if "chunked" not in codings else 400,
                                       f"unsupported transfer coding {transfer_encoding[:40]!r}")
                self._message, self._state = message, _State.BODY_TO_EOF
                self._take_to_eof()
                return None
            if codings != ["chunked"]:
                raise FramingError(501, f"unsupported transfer coding {transfer_encoding[:40]!r}")
            self._message, self._state, self._chunks = message, _State.CHUNK_SIZE, 0
            return self._chunked()
        if content_length is not None:
            if _DECIMAL.fullmatch(content_length) is None:  # ASCII only: "²".isdigit() is True
                raise FramingError(400, "bad Content-Length")
            length = int(content_length)
            if length > self.limits.body_bytes:
                raise FramingError(413, "body too large")
            self._message, self._remaining, self._state = message, length, _State.BODY_LENGTH
            return self._length_body()
        if self.kind is Kind.RESPONSE:
            self._message, self._state = message, _State.BODY_TO_EOF
            self._take_to_eof()
            return None
        return message  # a request without either has no body (section 6.3)

    def _length_body(self) -> Message | None:
        take = min(self._remaining, len(self._buffer))
        if take:
            self._body += self._buffer[:take]
            del self._buffer[:take]
            self._remaining -= take
        if self._remaining:
            return None
        return self._finish()

    def _take_to_eof(self) -> None:
        if len(self._body) + len(self._buffer) > self.limits.body_bytes:
            raise FramingError(413, "body too large")
        self._body += self._buffer
        self._buffer.clear()

    def _chunked(self) -> Message | None:
        buffer = self._buffer
        limits = self.limits
        while True:
            state = self._state
            if state is _State.CHUNK_SIZE:
                line = self._line(limits.chunk_line_bytes, "chunk size line")
                if line is None:
                    return None
                size_text = line.split(b";", 1)[0].rstrip(b" \t")
                # Hex digits only: int(x, 16) also takes "-6", "0x1f" and "1_0".
                if _HEX.fullmatch(size_text) is None:
                    raise FramingError(400, "malformed chunk size")
                size = int(size_text, 16)
                if size == 0:
                    self._state, self._trailer_bytes = _State.TRAILER, 0
                    continue
                self._chunks += 1
                if self._chunks > limits.chunks:
                    raise FramingError(413, f"more than {limits.chunks} chunks")
                if len(self._body) + size > limits.body_bytes:
                    raise FramingError(413, "body too large")
                self._remaining, self._state = size, _State.CHUNK_DATA
            elif state is _State.CHUNK_DATA:
                take = min(self._remaining, len(buffer))
                if take:
                    self._body += buffer[:take]
                    del buffer[:take]
                    self._remaining -= take
                if self._remaining:
                    return None
                self._state = _State.CHUNK_END
            elif state is _State.CHUNK_END:
                if buffer[:2] == b"\r\n":
                    del buffer[:2]
                elif buffer[:1] == b"\n":
                    del buffer[:1]
                elif len(buffer) < 2 and bytes(buffer) in (b"", b"\r"):
                    return None
                else:
                    raise FramingError(400, "chunk data not followed by CRLF")
                self._state = _State.CHUNK_SIZE
            else:  # TRAILER: field lines up to the empty one, all consumed
                line = self._line(max(0, limits.trailer_bytes - self._trailer_bytes), "trailer section")
                if line is None:
                    return None
                if not line:
                    return self._finish()
                self._trailer_bytes += len(line) + 2
                if b":" not in line:
                    raise FramingError(400, "malformed trailer line")

    def _line(self, limit: int, what: str) -> bytes | None:
        end = self._buffer.find(b"\n", 0, limit + 2)
        if end < 0:
            if len(self._buffer) > limit:
                raise FramingError(400 if what != "trailer section" else 431, f"{what} too long")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if b"\r" in line:
            raise FramingError(400, f"bare CR in the {what}")
        return line

    def _finish(self) -> Message:
        message = self._message
        assert message is not None
        message.body = bytes(self._body)
        self._message, self._body, self._state = None, bytearray(), _State.HEAD
        return message


async def read_reply(stream: asyncio.StreamReader, limits: Limits | None = None, *,
                     head_only: bool = False) -> Message:
    """Read one reply from an asyncio stream with a :class:`MessageReader` (the I/O is the caller's loop).

    ``head_only`` returns at the end of the head (a banner probe wants ``Server``, not the page).
    Raises :class:`FramingError` for a malformed reply or one the connection cut short.
    """
    reader = MessageReader(Kind.RESPONSE, limits)
    reader.expect_no_body = head_only
    while True:
        data = await stream.read(65536)
        if not data:
            message = reader.eof()
            if message is None:
                raise FramingError(502, "the connection closed before a complete reply")
            return message
        messages = reader.feed(data)
        if messages:
            return messages[0]
