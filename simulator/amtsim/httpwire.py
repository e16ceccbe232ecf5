"""HTTP/1.1 framing as AMT's web server does it: requests read by the project's one strict reader
(:mod:`amtkit.http.reader`, shared with discovery) and AMT-style replies.

The replies are written by hand because they must match AMT byte for byte: header order,
``Transfer-Encoding: chunked`` with 4-digit upper-case hex chunk sizes, the 401 page with
``Content-Length`` and ``Connection: close``. The reader is bounded (head, body, chunk count)
and raises :class:`HTTPParseError` for garbage, never anything else.
"""

from __future__ import annotations

import time
from email.utils import formatdate

from amtkit.http.reader import FramingError, Kind, Limits, Message, MessageReader
from amtkit.wsman import names

CHUNK_SIZE = 0x500

LIMITS = Limits()
MAX_HEADER_BYTES = LIMITS.head_bytes
MAX_BODY_BYTES = LIMITS.body_bytes

HTTPParseError = FramingError
"""Bytes that are not an acceptable request; ``status`` is the answer (400, 413, 431, 501)."""
HTTPRequest = Message


def RequestReader() -> MessageReader:  # noqa: N802 - the reader type's historical name
    """The request reader of one connection: :class:`amtkit.http.reader.MessageReader` (RFC 9112, incremental)."""
    return MessageReader(Kind.REQUEST, LIMITS)


# --- replies ----------------------------------------------------------------------------------

_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


_REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 408: "Request Timeout", 413: "Request Entity Too Large",
            431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
            503: "Service Unavailable"}


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
