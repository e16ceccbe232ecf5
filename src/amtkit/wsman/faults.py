"""SOAP faults of WS-Management: the catalogue, and the parsed form.

Each :class:`FaultKind` is one row of DSP0226's fault table as AMT uses it: the SOAP code
(Sender/Receiver), the qualified subcode, the reason text AMT sends, the fault action URI and
the HTTP status AMT answers with (400 for Sender faults, 500 for InternalError).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from . import names
from .xmlsafe import local_name

__all__ = ["Fault", "FaultKind", "KIND_BY_SUBCODE", "parse_fault", "FAULTS"]


@dataclass(frozen=True)
class FaultKind:
    subcode: str
    """Local name of the subcode, e.g. ``DestinationUnreachable``."""
    namespace: str
    """Namespace of the subcode (addressing, wsman, enumeration, transfer, soap)."""
    code: str
    """``Sender`` or ``Receiver``."""
    reason: str
    action: str
    http_status: int


def _kind(subcode: str, namespace: str, code: str, reason: str, action: str, status: int = 400) -> FaultKind:
    return FaultKind(subcode, namespace, code, reason, action, status)


class FAULTS:
    """The faults amtkit's simulator raises and its client recognizes (DSP0226 Annex, AMT texts)."""

    ACCESS_DENIED = _kind("AccessDenied", names.WSMAN, "Sender",
                          "The sender was not authorized to access the resource.", names.Action.FAULT_WSMAN)
    ACTION_NOT_SUPPORTED = _kind("ActionNotSupported", names.WSA, "Sender",
                                 "The action is not supported by the service.", names.Action.FAULT_WSA)
    ALREADY_EXISTS = _kind("AlreadyExists", names.WSMAN, "Sender",
                           "The sender attempted to create a resource which already exists.", names.Action.FAULT_WSMAN)
    CANNOT_PROCESS_FILTER = _kind("CannotProcessFilter", names.WSEN, "Sender",
                                  "The requested filter could not be processed.", names.Action.FAULT_WSEN)
    CONCURRENCY = _kind("Concurrency", names.WSMAN, "Sender",
                        "The action could not be completed due to concurrency or locking problems.",
                        names.Action.FAULT_WSMAN)
    DESTINATION_UNREACHABLE = _kind("DestinationUnreachable", names.WSA, "Sender",
                                    "No route can be determined to reach the destination role defined by the "
                                    "WSAddressing To.", names.Action.FAULT_WSA)
    ENCODING_LIMIT = _kind("EncodingLimit", names.WSMAN, "Sender",
                           "An internal encoding limit was exceeded in a request or would be violated if the "
                           "message were processed.", names.Action.FAULT_WSMAN)
    INTERNAL_ERROR = _kind("InternalError", names.WSMAN, "Receiver",
                           "The service cannot comply with the request due to internal processing errors.",
                           names.Action.FAULT_WSMAN, 500)
    INVALID_ENUMERATION_CONTEXT = _kind("InvalidEnumerationContext", names.WSEN, "Receiver",
                                        "The supplied enumeration context is invalid.", names.Action.FAULT_WSEN)
    INVALID_MESSAGE_INFORMATION_HEADER = _kind("InvalidMessageInformationHeader", names.WSA, "Sender",
                                               "A message information header is not valid and the message "
                                               "cannot be processed.", names.Action.FAULT_WSA)
    INVALID_REPRESENTATION = _kind("InvalidRepresentation", names.WSXF, "Sender",
                                   "The XML content is not valid.", names.Action.FAULT_WSXF)
    INVALID_SELECTORS = _kind("InvalidSelectors", names.WSMAN, "Sender",
                              "The Selectors for the resource are not valid.", names.Action.FAULT_WSMAN)
    MUST_UNDERSTAND = _kind("MustUnderstand", names.SOAP_ENV, "MustUnderstand",
                            "The WS-Management service cannot process a SOAP header in the request that is "
                            "marked as mustUnderstand.", names.Action.FAULT_WSMAN)
    SCHEMA_VALIDATION_ERROR = _kind("SchemaValidationError", names.WSMAN, "Sender",
                                    "The supplied SOAP violates the corresponding XML Schema definition.",
                                    names.Action.FAULT_WSMAN)
    TIMED_OUT = _kind("TimedOut", names.WSMAN, "Receiver",
                      "The operation has timed out.", names.Action.FAULT_WSMAN, 500)
    UNSUPPORTED_FEATURE = _kind("UnsupportedFeature", names.WSMAN, "Sender",
                                "The specified feature is not supported.", names.Action.FAULT_WSMAN)
    INVALID_PARAMETER = _kind("InvalidParameter", names.WSMAN, "Sender",
                              "An operation parameter is not valid.", names.Action.FAULT_WSMAN)


KIND_BY_SUBCODE: dict[str, FaultKind] = {
    kind.subcode: kind for kind in vars(FAULTS).values() if isinstance(kind, FaultKind)
}


@dataclass(frozen=True)
class Fault:
    """A SOAP fault as received: code, subcode (local name), reason, detail and action."""

    code: str
    subcode: str
    reason: str
    detail: str = ""
    action: str = ""

    @property
    def kind(self) -> FaultKind | None:
        return KIND_BY_SUBCODE.get(self.subcode)

    @property
    def amt_status(self) -> int | None:
        """The PT_STATUS in an ``AMT-STATUS <n>`` detail (AMT's InternalError faults)."""
        marker = "AMT-STATUS"
        if marker in self.detail:
            tail = self.detail.split(marker, 1)[1].strip().split()[0:1]
            if tail:
                try:
                    return int(tail[0], 0)
                except ValueError:
                    return None
        return None


def _qname_local(text: str) -> str:
    return text.strip().rsplit(":", 1)[-1]


def parse_fault(fault: etree._Element, action: str = "") -> Fault:
    """Parse an ``<s:Fault>`` element (SOAP 1.2)."""
    code = subcode = reason = detail = ""
    for child in fault:
        local = local_name(child.tag)
        if local == "Code":
            for part in child:
                if local_name(part.tag) == "Value":
                    code = _qname_local(part.text or "")
                elif local_name(part.tag) == "Subcode":
                    for value in part:
                        if local_name(value.tag) == "Value":
                            subcode = _qname_local(value.text or "")
        elif local == "Reason":
            texts = [t.text or "" for t in child if local_name(t.tag) == "Text"]
            reason = texts[0].strip() if texts else ""
        elif local == "Detail":
            detail = " ".join(str(t).strip() for t in child.itertext() if str(t).strip())
    return Fault(code=code, subcode=subcode or code, reason=reason, detail=detail, action=action)
