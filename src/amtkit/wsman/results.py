"""What a WS-Man response carries besides one object: an enumeration's items and page, a method's
output, Identify's answer. Parsed by :mod:`amtkit.wsman.responses` (where these names still
resolve), kept apart so that a client making one Get does not build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .values import CimInstance, EndpointReference, Value

__all__ = ["EnumItem", "EnumerationPage", "IdentifyResult", "MethodOutput"]


@dataclass(frozen=True)
class EnumItem:
    """One enumerated item: the object, its reference, or both (per enumeration mode)."""

    instance: CimInstance | None = None
    epr: EndpointReference | None = None


@dataclass(frozen=True)
class MethodOutput:
    """A method's ``ReturnValue`` and its other output parameters."""

    return_value: int
    outputs: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class EnumerationPage:
    """What one EnumerateResponse or PullResponse carried."""

    context: str | None
    items: list[EnumItem]
    end_of_sequence: bool


@dataclass(frozen=True)
class IdentifyResult:
    """What WS-Man Identify tells without credentials."""

    protocol_version: str
    product_vendor: str
    product_version: str
    dash_version: str | None
    security_profiles: tuple[str, ...]

    @property
    def amt_version(self) -> str | None:
        """``"11.8"`` from ``"AMT 11.8"``; None when the product is not AMT."""
        text = self.product_version.strip()
        if text.upper().startswith("AMT"):
            return text[3:].strip() or None
        return None
