"""Safe XML parsing and escaping for everything amtkit reads or writes.

Every byte that arrives from the network (a device answer on the client, a request on the
simulator) goes through :func:`parse_xml`: no DTDs, no entity expansion, no network access,
a bounded document size (libxml2 without ``huge_tree`` also bounds depth and text size). A document that breaks these rules raises
:class:`XMLSecurityError`; one that is not well-formed raises :class:`MalformedXMLError`.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

__all__ = [
    "MAX_DOCUMENT_BYTES", "MalformedXMLError", "XMLSecurityError", "XMLInputError", "escape", "local_name", "parse_xml",
]

#: AMT's own MaxEnvelopeSize is far below this; anything larger is refused unread.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024


class XMLInputError(ValueError):
    """XML that amtkit will not accept."""


class MalformedXMLError(XMLInputError):
    """Not well-formed XML (truncated, invalid UTF-8, broken tags)."""


class XMLSecurityError(XMLInputError):
    """XML using features amtkit refuses for safety: DTDs, entities, oversize documents."""


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted bytes into an element tree, refusing anything hostile."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise XMLSecurityError(f"document of {len(data)} bytes exceeds the {MAX_DOCUMENT_BYTES}-byte limit")
    # A DOCTYPE is never legitimate in SOAP (SOAP 1.2 part 1, 5): refuse before lxml sees it,
    # which also shuts out every entity-expansion bomb. A one-byte search (memchr) first: most
    # answers hold no "!" at all, and searching for the markers themselves cost 2 us per reply.
    if b"!" in data and (b"<!DOCTYPE" in data or b"<!doctype" in data or b"<!ENTITY" in data):
        raise XMLSecurityError("DOCTYPE/ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise MalformedXMLError(f"malformed XML: {error}") from error
    except ValueError as error:  # e.g. unicode strings with an encoding declaration
        raise MalformedXMLError(f"malformed XML: {error}") from error
    if root is None:
        raise MalformedXMLError("empty XML document")
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise XMLSecurityError("DOCTYPE declarations are not allowed")
    return root


def local_name(tag: object) -> str:
    """An element's name without its namespace: ``Action`` from ``{http://...addressing}Action``."""
    text = str(tag)
    return text[text.rfind("}") + 1:]


# A carriage return is written as a reference: a parser turns a literal one into a line feed.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})
# Characters XML 1.0 cannot carry at all, not even as references (section 2.2). ASCII text (nearly
# every request) is checked against the small control-character class; the full class is compiled
# on first use only, since compiling it cost more import time than the rest of this module.
_NOT_XML_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOTHING_TO_DO_ASCII = re.compile('[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f]')
"""What makes ASCII text need escaping or refusing: text without any (nearly all, and most of every
envelope) is returned as it is, skipping ``translate``, which costs up to 2 us on a resource URI."""
_NOT_XML_PATTERN = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@functools.cache
def _not_xml() -> re.Pattern[str]:
    return re.compile(_NOT_XML_PATTERN)


def escape(text: str) -> str:
    """Escape text for element content or a double-quoted attribute.

    Raises ValueError for characters no XML document can hold (NUL, most control characters,
    lone surrogates): sending them would only earn a malformed-XML fault from the device.
    """
    ascii_text = text.isascii()
    if ascii_text and _NOTHING_TO_DO_ASCII.search(text) is None:
        return text
    bad = (_NOT_XML_ASCII if ascii_text else _not_xml()).search(text)
    if bad is not None:
        raise ValueError(f"XML cannot carry the character {bad.group()!r} (at index {bad.start()})")
    return text.translate(_ESCAPES)
