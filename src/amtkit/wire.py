"""Seeing what goes over the wire: a trace of every WS-Man exchange, and one DEBUG line per call.

Two loggers, both under ``amtkit``:

* ``amtkit.transport`` gets one DEBUG line per call: action, class, host, HTTP status (and fault or
  ReturnValue), round trips (a digest challenge and its signed retry are two) and time::

      127.0.0.1:16992 Get AMT_GeneralSettings: 200, 1 round trip, 2.4 ms

* ``amtkit.wire`` gets each HTTP exchange of a call, like ``wsman -d``: the request head and envelope,
  the reply head and envelope, the XML pretty-printed. The ``Authorization`` header is cut to its user
  name, and every element that carries a secret (``*Password*``, ``*PassPhrase*``, ``PSK*``, key
  blobs) shows ``(redacted)``.

Both are written only while ``amtkit.transport`` is enabled for DEBUG (``logging.getLogger("amtkit")
.setLevel(logging.DEBUG)``, or :func:`enable`); set ``amtkit.wire`` to INFO to keep the call lines
without the envelopes. The CLI turns both on with ``--trace`` on any command or ``AMTKIT_TRACE=1``
(``AMTKIT_TRACE=calls``: the call lines only).

When tracing is off a call costs one ``isEnabledFor`` check in :meth:`amtkit.transport.Transport.post`;
everything here, lxml's pretty printer included, runs only when it is on.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import TYPE_CHECKING, TextIO

from . import exceptions as exc
from .lazylog import logger_ready

if TYPE_CHECKING:
    from .transport import HTTPReply, Transport

__all__ = ["enable", "format_envelope", "redact_head", "traced_post"]

call_log = logger_ready("amtkit.transport")
wire_log = logger_ready("amtkit.wire")

TRACE_ENV = "AMTKIT_TRACE"
REDACTED = "(redacted)"
_SECRET_ELEMENT = re.compile(r"(?i)password|passphrase|psk|keyblob|secret")
_ACTION = re.compile(rb"<(?:[\w.-]+:)?Action\b[^>]*>\s*([^<\s]+)\s*<")
_RESOURCE = re.compile(rb"<(?:[\w.-]+:)?ResourceURI\b[^>]*>\s*([^<\s]+)\s*<")
_SUBCODE = re.compile(rb"<(?:[\w.-]+:)?Subcode>\s*<(?:[\w.-]+:)?Value>\s*([^<\s]+)\s*<")
_RETURN_VALUE = re.compile(rb"<(?:[\w.-]+:)?ReturnValue>\s*(\d+)\s*<")
_MAX_TRACED_BODY = 256 * 1024
"""Larger bodies are traced cut to this many bytes (an event log page can be big)."""


def enable(stream: TextIO | None = None, *, envelopes: bool = True) -> logging.Handler:
    """Turn the trace on: DEBUG for ``amtkit`` with a plain handler on ``stream`` (stderr).

    ``envelopes=False`` keeps only the per-call lines. Returns the handler (remove it to stop).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("amtkit: %(message)s"))
    root = logging.getLogger("amtkit")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    wire_log.setLevel(logging.NOTSET if envelopes else logging.INFO)
    return handler


# -- the call line ------------------------------------------------------------------------------


def traced_post(transport: Transport, body: bytes, *, idempotent: bool, authenticate: bool) -> HTTPReply:
    """:meth:`Transport.post` with its exchanges traced and one DEBUG line for the call."""
    _observe_exchanges(transport)
    where = f"{transport.host}:{transport.port}"
    what = describe_call(body)
    before = transport.round_trips
    started = time.perf_counter()
    try:
        reply = transport._post(body, idempotent=idempotent, authenticate=authenticate)
    except exc.AMTError as error:
        call_log.debug("%s %s: failed (%s: %s), %s, %.1f ms", where, what, error.category, error.message,
                       _round_trips(transport.round_trips - before), (time.perf_counter() - started) * 1000)
        raise
    call_log.debug("%s %s: %s, %s, %.1f ms", where, what, describe_reply(reply),
                   _round_trips(transport.round_trips - before), (time.perf_counter() - started) * 1000)
    return reply


def _round_trips(count: int) -> str:
    return f"{count} round trip" + ("" if count == 1 else "s")


def _last_segment(uri: bytes) -> str:
    return uri.decode("utf-8", "replace").rstrip("/").rsplit("/", 1)[-1]


def describe_call(body: bytes) -> str:
    """``"Get AMT_GeneralSettings"``, ``"RequestPowerStateChange CIM_PowerManagementService"``, ``"Identify"``."""
    action = _ACTION.search(body)
    resource = _RESOURCE.search(body)
    if action is None:
        return "Identify" if b"Identify" in body else "request"
    name = _last_segment(action.group(1))
    return f"{name} {_last_segment(resource.group(1))}" if resource is not None else name


def describe_reply(reply: HTTPReply) -> str:
    """``"200"``, ``"400 fault wsman:DestinationUnreachable"``, ``"200 ReturnValue 2"``."""
    text = str(reply.status)
    fault = _SUBCODE.search(reply.body)
    if fault is not None:
        return f"{text} fault {fault.group(1).decode('utf-8', 'replace')}"
    value = _RETURN_VALUE.search(reply.body)
    return f"{text} ReturnValue {int(value.group(1))}" if value is not None else text


# -- the exchanges ------------------------------------------------------------------------------


def _observe_exchanges(transport: Transport) -> None:
    """Wrap the transport's ``_exchange`` (once per transport) to log each request and reply."""
    if "_exchange" in vars(transport):
        return
    inner = transport._exchange

    def exchange(request: bytes) -> HTTPReply:
        if not wire_log.isEnabledFor(logging.DEBUG):
            return inner(request)
        target = f"{transport.base_url}{transport.path}"
        wire_log.debug(">>> request to %s\n%s", target, format_message(request))
        started = time.perf_counter()
        try:
            reply = inner(request)
        except exc.AMTError as error:
            wire_log.debug("<<< no reply from %s: %s", target, error.message)
            raise
        wire_log.debug("<<< reply from %s in %.1f ms\n%s", target, (time.perf_counter() - started) * 1000,
                       format_reply(reply))
        return reply

    setattr(transport, "_exchange", exchange)  # noqa: B010 - an instance attribute shadows the method


def format_message(message: bytes) -> str:
    """A request as sent: the head (Authorization cut) and the envelope pretty-printed."""
    head, _, body = message.partition(b"\r\n\r\n")
    return redact_head(head.decode("latin-1")) + "\n\n" + format_envelope(body)


def format_reply(reply: HTTPReply) -> str:
    head = "\n".join(f"{name}: {value}" for name, value in reply.headers.items())
    return f"HTTP {reply.status}\n{head}\n\n{format_envelope(reply.body)}"


def redact_head(head: str) -> str:
    """The request head with ``Authorization`` cut to its scheme and user name."""
    lines = []
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "authorization":
            user = re.search(r'username="([^"]*)"', value)
            scheme = value.strip().split(" ", 1)[0]
            line = f"{name}: {scheme}" + (f' username="{user.group(1)}"' if user else "") + f" {REDACTED}"
        lines.append(line)
    return "\n".join(lines)


def format_envelope(body: bytes) -> str:
    """The XML pretty-printed with secrets redacted; other bodies as text. Never raises."""
    if not body.strip():
        return "(no body)"
    cut = len(body) > _MAX_TRACED_BODY
    shown = body[:_MAX_TRACED_BODY]
    try:
        from lxml import etree

        from .wsman.xmlsafe import parse_xml

        root = parse_xml(shown)
        for element in root.iter():
            if isinstance(element.tag, str) and _SECRET_ELEMENT.search(etree.QName(element).localname):
                for child in list(element):
                    element.remove(child)
                element.text = REDACTED
        text = etree.tostring(root, pretty_print=True, encoding="unicode").rstrip()
    except Exception:  # noqa: BLE001 - a trace shows what it cannot parse as text
        text = _redact_text(shown.decode("utf-8", "replace"))
    return text + (f"\n... ({len(body) - _MAX_TRACED_BODY} more bytes)" if cut else "")


def _redact_text(text: str) -> str:
    """Secrets in markup lxml could not parse (cut or malformed): element contents by name."""
    return re.sub(r"(<(?:[\w.-]+:)?(\w*(?:[Pp]assword|[Pp]ass[Pp]hrase|PSK|KeyBlob|[Ss]ecret)\w*)\b[^>]*>)[^<]*",
                  rf"\1{REDACTED}", text)
