"""Connection settings: timeouts and TLS, with readable reprs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .exceptions import UsageError

__all__ = ["TLSConfig", "Timeout", "normalize_fingerprint"]


@dataclass(frozen=True)
class Timeout:
    """Seconds to wait for a TCP connection and for each answer.

    ``Timeout(10)`` sets both; ``Timeout(10, connect=3)`` overrides the connect phase.
    """

    read: float = 30.0
    connect: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("read", self.read), ("connect", self.connect)):
            if value is not None and not value > 0:
                raise UsageError(f"Timeout.{name} must be a positive number of seconds, not {value!r}")

    @property
    def connect_seconds(self) -> float:
        return self.connect if self.connect is not None else min(self.read, 5.0)



def normalize_fingerprint(text: str) -> str:
    """``AB:CD:...`` or ``abcd...`` -> 64 lower-case hex digits of a SHA-256 fingerprint."""
    hexdigits = re.sub(r"[^0-9a-fA-F]", "", text.removeprefix("sha256:").removeprefix("SHA256:")).lower()
    if len(hexdigits) != 64:
        raise UsageError(f"a SHA-256 fingerprint has 64 hex digits, got {len(hexdigits)}: {text!r}")
    return hexdigits


@dataclass(frozen=True)
class TLSConfig:
    """How to trust a device's TLS certificate (WS-Man on 16993, redirection on 16995).

    Verification is on by default against the system store or ``ca_file``. AMT ships
    self-signed certificates, so ``pin_sha256`` trusts exactly one certificate by its SHA-256
    fingerprint instead; for a fleet, ``pin_file`` holds one pin per host (``HOST SHA256`` lines,
    filled by ``amtkit fingerprint --pin-file``), and a host without a pin is refused.
    ``insecure=True`` turns checking off and must be asked for by name. ``client_cert`` (a PEM
    path, or ``(cert, key)``) is presented for mutual TLS.

    ``allow_old_tls=True`` also accepts TLS 1.0 and 1.1 and their SHA-1 suites, which firmware
    before AMT 12 (every legacy SOAP machine) speaks exclusively; off, amtkit needs TLS 1.2. A
    connection that does end up on TLS 1.0/1.1 warns (:class:`amtkit.tls.OldTLSWarning`).

    Equal configurations share one SSL context per process (:func:`amtkit.tls.client_context`).
    """

    ca_file: str | None = None
    pin_sha256: str | None = None
    insecure: bool = False
    client_cert: str | tuple[str, str] | None = None
    pin_file: str | None = None
    allow_old_tls: bool = False

    def __post_init__(self) -> None:
        if self.pin_sha256 is not None:
            object.__setattr__(self, "pin_sha256", normalize_fingerprint(self.pin_sha256))

    @property
    def verifies_chain(self) -> bool:
        """Whether the certificate chain and host name are verified (no pin, not insecure)."""
        return not (self.pin_sha256 or self.pin_file or self.insecure)
