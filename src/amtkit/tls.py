"""TLS to AMT's ports (WS-Man 16993, redirection 16995), one set of rules for every connection.

:class:`~amtkit.config.TLSConfig` says how to trust the device: a CA chain (system store or
``ca_file``, with host name checking), exactly one certificate by SHA-256 pin (AMT ships
self-signed certificates), or nothing at all when ``insecure`` is asked for by name.
:func:`wrap_socket` performs the handshake, checks the pin, and maps every failure to a
:class:`~amtkit.exceptions.TLSError` whose ``reason`` says why.
"""

from __future__ import annotations

import hashlib
import socket
import ssl

from . import exceptions as exc
from .config import TLSConfig

__all__ = ["client_context", "peer_sha256", "wrap_socket"]


def client_context(tls: TLSConfig) -> ssl.SSLContext:
    """The SSL context for ``tls``; an unreadable CA file or client certificate is a TLSError."""
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls.ca_file)
    except (ssl.SSLError, OSError, ValueError) as error:
        raise exc.TLSError(f"cannot use the CA file {tls.ca_file!r}: {_reason(error)}", reason="configuration",
                           hint="give a PEM file holding the CA certificate(s) that issued the device's "
                                "certificate") from error
    if tls.pin_sha256 or tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # a pin is checked after the handshake instead
    if tls.client_cert is not None:
        cert, key = (tls.client_cert, None) if isinstance(tls.client_cert, str) else tls.client_cert
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError, ValueError) as error:
            raise exc.TLSError(f"cannot use the client certificate {cert!r}: {_reason(error)}",
                               reason="configuration",
                               hint="give a PEM file with the certificate and its private key (or the key "
                                    "in a second file)") from error
    return context


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error)


def peer_sha256(sock: ssl.SSLSocket) -> str:
    """SHA-256 of the peer's certificate (DER), as pins are written."""
    return hashlib.sha256(sock.getpeercert(binary_form=True) or b"").hexdigest()


def wrap_socket(raw: socket.socket, tls: TLSConfig, host: str, *, context: ssl.SSLContext | None = None,
                what: str = "TLS handshake") -> ssl.SSLSocket:
    """Handshake on ``raw`` and check the pin; ``raw`` is closed on any failure."""
    verifying = not (tls.pin_sha256 or tls.insecure)
    try:
        sock = (context or client_context(tls)).wrap_socket(raw, server_hostname=host if verifying else None)
    except ssl.SSLCertVerificationError as error:
        raw.close()
        detail = getattr(error, "verify_message", "") or "verification failed"
        raise exc.TLSError(f"the device's TLS certificate could not be verified ({detail})", reason="verification",
                           host=host,
                           hint="pass --ca-file with the issuing CA, or pin the certificate with --pin-sha256 "
                                "(amtkit fingerprint HOST shows it)") from error
    except (ssl.SSLError, OSError) as error:
        raw.close()
        if isinstance(error, (TimeoutError, socket.timeout)):
            raise exc.ReadTimeoutError(f"{what} did not finish in time", host=host) from error
        raise exc.TLSError(f"{what} failed: {error}", reason="protocol", host=host,
                           hint="check that the port speaks TLS (16993/16995) and the TLS versions both sides "
                                "allow") from error
    if tls.pin_sha256 and peer_sha256(sock) != tls.pin_sha256:
        sock.close()
        raise exc.TLSError("the device's certificate does not match the pinned SHA-256 fingerprint",
                           reason="pin-mismatch", host=host,
                           hint="check the pin; `amtkit fingerprint HOST` shows the certificate the device presents")
    return sock


def fetch_sha256(host: str, port: int, *, timeout: float = 10.0) -> str:
    """Connect without verifying and return the SHA-256 of the certificate the device presents.

    For trust on first use: show the fingerprint to a person, who compares it with the one the
    device's MEBx or provisioning record shows, then pins it. Nothing here says it is genuine.
    """
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as error:
        raise exc.ConnectTimeoutError(f"no connection to port {port} within {timeout:g} s", host=host) from error
    except ConnectionRefusedError as error:
        raise exc.UnreachableError(f"connection to port {port} refused", host=host) from error
    except OSError as error:
        raise exc.UnreachableError(f"cannot reach port {port}: {error.strerror or error}", host=host) from error
    sock = wrap_socket(raw, TLSConfig(insecure=True), host)
    try:
        return peer_sha256(sock)
    finally:
        sock.close()
