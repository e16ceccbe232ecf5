"""What AMT's TLS server offers, by firmware version, and the server contexts that offer it.

What is documented (Intel's AMT Implementation and Reference Guide, "TLS" detailed description and
"Intel AMT and Security Considerations"; other consoles' code):

* AMT 12.0 added TLS 1.2 and removed TLS 1.0; CSME 15.0 (desktops) and 16.0 (all platforms)
  removed TLS 1.1. Before 12, AMT spoke TLS 1.0 and 1.1 (MeshCentral's AMT stack falls back to
  TLSv1_method for old firmware).
* AMT 21 firmware negotiates TLS 1.3 when the client offers it (Intel's rpc-go had to cap the
  provisioning handshake at 1.2 for that reason); AMT 22 drops the AES-128 suites
  (``TLS_RSA_WITH_AES_128_GCM_SHA256``, ``TLS_AES_128_GCM_SHA256``) and 2048-bit RSA keys
  (Device Management Toolkit's AMT 22 design record), so earlier firmware offers them.
* The suites are RSA-authenticated AES: consoles restrict themselves to ``RSA+AES`` when talking
  to AMT (MeshCentral); the self-signed certificate AMT makes at provisioning is RSA 2048.

Not documented anywhere we found: how AMT resumes sessions. The simulator offers TLS 1.2 session
IDs (a server-side session cache per device, no stateless tickets) and, where TLS 1.3 is spoken,
resumption through the same cache. Python cannot narrow the TLS 1.3 suite list, so a TLS 1.3
device also offers ChaCha20.
"""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TLSProfile", "profile_for", "server_context"]

# TLS 1.2 suites, OpenSSL names: ECDHE-RSA and plain RSA key exchange, AES-GCM and AES-CBC.
_RSA_AES = ("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-GCM-SHA256:"
            "ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA")
_RSA_AES256 = "ECDHE-RSA-AES256-GCM-SHA384:AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384:AES256-SHA256:AES256-SHA"
# TLS 1.0/1.1 need the legacy security level in OpenSSL 3 (SHA-1 in the handshake).
_LEGACY = "AES256-SHA:AES128-SHA:ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0"


@dataclass(frozen=True)
class TLSProfile:
    """The TLS versions and TLS 1.2-and-earlier suites a firmware generation offers."""

    minimum: ssl.TLSVersion
    maximum: ssl.TLSVersion
    ciphers: str
    rsa_bits: int = 2048
    """Key size of the certificate the firmware makes for itself."""

    @property
    def versions(self) -> tuple[str, ...]:
        order = [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]
        names = {ssl.TLSVersion.TLSv1: "TLSv1", ssl.TLSVersion.TLSv1_1: "TLSv1.1", ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                 ssl.TLSVersion.TLSv1_3: "TLSv1.3"}
        return tuple(names[v] for v in order if self.minimum <= v <= self.maximum)


def profile_for(amt_version: str) -> TLSProfile:
    """The profile of a firmware version (``"16.1.25"``)."""
    try:
        major = int(amt_version.split(".", 1)[0])
    except ValueError:
        major = 16
    if major < 12:
        return TLSProfile(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, _LEGACY)
    if major < 15:
        return TLSProfile(ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, _RSA_AES + ":" + _LEGACY)
    if major < 21:
        return TLSProfile(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2, _RSA_AES)
    if major < 22:
        return TLSProfile(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3, _RSA_AES)
    return TLSProfile(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3, _RSA_AES256, rsa_bits=3072)


def server_context(cert: Path, key: Path, profile: TLSProfile, *, rsa: bool = True) -> ssl.SSLContext:
    """A server context offering ``profile`` with this certificate. ``rsa=False`` (a certificate a
    user gave with an EC key) swaps the RSA suites for their ECDSA counterparts."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python: old firmware still speaks them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = profile.minimum
        context.maximum_version = profile.maximum
    ciphers = profile.ciphers if rsa else profile.ciphers.replace("ECDHE-RSA-", "ECDHE-ECDSA-")
    context.set_ciphers(ciphers)
    # Session IDs from the server's own cache, no stateless tickets (TLS 1.3 then issues stateful ones).
    context.options |= ssl.OP_NO_TICKET | ssl.OP_NO_COMPRESSION
    context.load_cert_chain(str(cert), str(key))
    return context
