"""HTTP/1.1 framing as AMT's web server does it: a small request reader and AMT-style replies.

Hand-written rather than taken from an HTTP library because the replies must match AMT byte
for byte: header order, ``Transfer-Encoding: chunked`` with 4-digit upper-case hex chunk
sizes, the 401 page with ``Content-Length`` and ``Connection: close``. The reader is bounded
(header and body sizes) and raises :class:`HTTPParseError` for garbage, never anything else.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email.utils import formatdate

from amtkit.wsman import names

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
CHUNK_SIZE = 0x500


# A request line starts with a method token and a space; any prefix of that is still plausible.
_METHOD_PREFIX = 17
_METHOD_START = re.compile(rb"[A-Za-z]{1,16}(?: |$)")


class HTTPParseError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HTTPRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


class RequestReader:
    """Feed bytes, get complete requests. Handles Content-Length and chunked request bodies."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[HTTPRequest]:
        self._buffer += data
        requests: list[HTTPRequest] = []
        while True:
            request = self._next()
            if request is None:
                return requests
            requests.append(request)

    def _next(self) -> HTTPRequest | None:
        buffer = self._buffer
        while buffer[:2] == b"\r\n":  # tolerate stray CRLF between requests (RFC 7230 3.5)
            del buffer[:2]
        if bytes(buffer[:2]) not in (b"", b"\r") and _METHOD_START.match(buffer[:_METHOD_PREFIX]) is None:
            # Refuse at once what cannot become a request line (a TLS hello on the plain port,
            # binary junk): waiting for a blank line that never comes would hang the client.
            raise HTTPParseError(400, "not an HTTP request")
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEADER_BYTES:
                raise HTTPParseError(431, "request header too large")
            return None
        if end > MAX_HEADER_BYTES:
            raise HTTPParseError(431, "request header too large")
        try:
            head = bytes(buffer[:end]).decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
            raise HTTPParseError(400, "undecodable header") from None
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise HTTPParseError(400, "malformed request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise HTTPParseError(400, "malformed header line")
            key = name.lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        body_start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = _dechunk(buffer, body_start)
            if parsed is None:
                return None
            body, consumed = parsed
        else:
            length_text = headers.get("content-length", "0") or "0"
            if _DECIMAL.fullmatch(length_text) is None:  # ASCII digits only: "²".isdigit() is True
                raise HTTPParseError(400, "bad Content-Length")
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                raise HTTPParseError(413, "request body too large")
            if len(buffer) < body_start + length:
                return None
            body, consumed = bytes(buffer[body_start:body_start + length]), body_start + length
        del buffer[:consumed]
        return HTTPRequest(method, target, version, headers, body)


_DECIMAL = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,12}")


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    body = bytearray()
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            if len(buffer) - pos > 64:
                raise HTTPParseError(400, "malformed chunk size line")
            return None
        size_text = bytes(buffer[pos:line_end]).split(b";", 1)[0].strip()
        # Hex digits only: int(x, 16) also takes "-6", "0x1f" and "1_0", and a negative size would
        # send this loop back to the same line for ever.
        if _HEX.fullmatch(size_text) is None:
            raise HTTPParseError(400, "malformed chunk size")
        size = int(size_text, 16)
        if len(body) + size > MAX_BODY_BYTES:
            raise HTTPParseError(413, "request body too large")
        data_start = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", data_start)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 2
        if len(buffer) < data_start + size + 2:
            return None
        body += buffer[data_start:data_start + size]
        pos = data_start + size + 2


# --- replies ----------------------------------------------------------------------------------

_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


_REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Request Entity Too Large", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


def chunked(body: bytes, chunk_size: int = CHUNK_SIZE) -> bytes:
    """AMT's chunk framing: 4 upper-case hex digits per size line, cut anywhere, ``0`` to end."""
    parts = []
    for offset in range(0, len(body), chunk_size):
        piece = body[offset:offset + chunk_size]
        parts.append(b"%04X\r\n%b\r\n" % (len(piece), piece))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def soap_reply(status: int, body: bytes, server: str, *, close: bool = False) -> bytes:
    """A WS-Man reply with AMT's header order; faults add ``Connection: close``."""
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nDate: {http_date()}\r\nServer: {server}\r\n"
        f"X-Frame-Options: DENY\r\nContent-Type: {names.SOAP_REPLY_CONTENT_TYPE}\r\n"
        "Transfer-Encoding: chunked\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode("latin-1") + chunked(body)


LOGON_FAILED_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" >\n'
    b"<html><head><link rel=stylesheet href=/styles.css>\n"
    b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
    b"<title>Intel&reg; Active Management Technology</title></head>\n<body>\n<table class=header>\n"
    b"<tr><td valign=top nowrap>\n"
    b"<p class=top1>Intel<font class=r><sup>&reg;</sup></font> Active Management Technology\n"
    b'<td valign="middle"><img src="logo.gif" align="right" alt="Intel">\n</table>\n<br />\n'
    b"<h2 class=warn>Log on failed. Incorrect user name or password, or user account temporarily locked.</h2>\n\n"
    b'<p>\n<form METHOD="GET" action="index.htm"><h2><input type=submit value="Try again">\n</h2></form>\n<p>\n\n'
    b"</body>\n</html>\n"
)


def unauthorized_reply(challenge: str, server: str) -> bytes:
    """The 401 AMT sends: challenge first, HTML page, Content-Length, Connection: close."""
    head = (
        f"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Type: text/html\r\n"
        f"Server: {server}\r\nContent-Length: {len(LOGON_FAILED_PAGE)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + LOGON_FAILED_PAGE


def simple_reply(status: int, server: str, body: bytes = b"", *, content_type: str = "text/html",
                 extra: str = "", close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nDate: {http_date()}\r\nServer: {server}\r\n{extra}"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        + ("Connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode("latin-1") + body
