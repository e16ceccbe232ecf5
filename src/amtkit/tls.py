"""TLS to AMT's ports (WS-Man 16993, redirection 16995), one set of rules for every connection.

:class:`~amtkit.config.TLSConfig` says how to trust the device: a CA chain (system store or
``ca_file``, with host name checking), exactly one certificate by SHA-256 pin (AMT ships
self-signed certificates), a pin per host from a pin file, or nothing at all when ``insecure``
is asked for by name. :func:`wrap_socket` performs the handshake, checks the pin, and maps every
failure to a :class:`~amtkit.exceptions.TLSError` whose ``reason`` says why.

What a fleet job needs to stay cheap:

* **One SSL context per TLS configuration**, built on first use and shared (``ssl.SSLContext``
  is thread-safe) by every client, session and redirection connection with the same settings.
  A pinned or insecure context loads no trust store at all; a CA file is read once per process.
  Building a context that loads the system store costs about 17 ms: it was paid per client.
* **TLS session resumption**: the session of the last connection to each ``(host, port)`` is
  kept (bounded, per context) and offered on the next connection, so a reconnect after AMT drops
  an idle connection, or a new client for the same device, skips the full handshake when the
  device resumes. Pins are checked on resumed connections too (the session carries the
  certificate).

Old firmware: AMT before 12 speaks TLS 1.0/1.1 only, with SHA-1 suites, which OpenSSL 3 refuses above
security level 0. ``TLSConfig(allow_old_tls=True)`` gets its own context that accepts them (and every
connection that ends up on TLS 1.0/1.1 warns, :class:`OldTLSWarning`); the default stays TLS 1.2+.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import threading
import warnings
from collections import OrderedDict

from . import exceptions as exc
from .config import TLSConfig

__all__ = ["OldTLSWarning", "PinFile", "client_context", "fetch_sha256", "peer_sha256", "remember_session",
           "wrap_socket"]

#: Python's client default suites less its ``!SHA1``, plus plain-RSA AES-CBC with SHA-1 (what TLS 1.0/1.1
#: AMT offers), at OpenSSL's security level 0: levels 1 and up refuse TLS 1.0/1.1 handshakes outright.
OLD_TLS_CIPHERS = ("@SECLEVEL=0:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:AES256-SHA:AES128-SHA:"
                   "!aNULL:!eNULL:!aDSS:!AESCCM")

#: ``SSLSocket.version()`` names of the versions ``allow_old_tls`` admits, as people write them.
OLD_VERSIONS = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1"}


class OldTLSWarning(UserWarning):
    """A connection negotiated TLS 1.0 or 1.1 (allowed by ``TLSConfig(allow_old_tls=True)``)."""


class _OldTLSSocket(ssl.SSLSocket):
    """The sockets of an old-TLS context: they say so when a handshake lands on TLS 1.0/1.1, whichever
    transport made it (the built-in one, or urllib3 under requests and legacy SOAP)."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        old = OLD_VERSIONS.get(self.version() or "")
        if old is None:
            return
        # Once per device and version: every reconnect would say it again, and the warnings module's own
        # once-only registry is reset whenever a filter changes (requests changes them on every request).
        peer = _peer(self)
        with _lock:
            if (peer, old) in _warned:
                return
            _warned.add((peer, old))
        warnings.warn(f"{peer} negotiated {old}, which has known weaknesses (old firmware; accepted because old "
                      "TLS was allowed)", OldTLSWarning, stacklevel=2)


def _peer(sock: ssl.SSLSocket) -> str:
    try:
        address = sock.getpeername()
    except OSError:
        return sock.server_hostname or "the device"
    host = sock.server_hostname or address[0]
    return f"{host} port {address[1]}" if isinstance(address, tuple) else str(host)


#: Sessions kept for resumption, per context (least recently used dropped first).
MAX_SESSIONS = 8192

_contexts: dict[TLSConfig, ssl.SSLContext] = {}
_sessions: dict[int, OrderedDict[tuple[str, int], ssl.SSLSession]] = {}
_lock = threading.Lock()
_warned: set[tuple[str, str]] = set()


def client_context(tls: TLSConfig) -> ssl.SSLContext:
    """The shared SSL context for ``tls`` (built once per process); an unreadable CA file or client
    certificate is a TLSError."""
    context = _contexts.get(tls)
    if context is not None:
        return context
    with _lock:
        context = _contexts.get(tls)
        if context is None:
            context = _build_context(tls)
            _contexts[tls] = context
            _sessions[id(context)] = OrderedDict()
    return context


def _build_context(tls: TLSConfig) -> ssl.SSLContext:
    if tls.verifies_chain:
        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls.ca_file)
        except (ssl.SSLError, OSError, ValueError) as error:
            raise exc.TLSError(f"cannot use the CA file {tls.ca_file!r}: {_reason(error)}", reason="configuration",
                               hint="give a PEM file holding the CA certificate(s) that issued the device's "
                                    "certificate") from error
    else:
        # A pin (or insecure) trusts no chain: no trust store to load, the pin is checked after the handshake.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.allow_old_tls:
        _allow_old_tls(context)
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # AMT 12 and later; TLS 1.0/1.1 are broken
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


def _allow_old_tls(context: ssl.SSLContext) -> None:
    """Accept TLS 1.0/1.1 and their suites on ``context`` (asked for by name: AMT before 12 speaks nothing else)."""
    with warnings.catch_warnings():  # Python deprecates TLS 1.0/1.1: the option exists for firmware that needs them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers(OLD_TLS_CIPHERS)
    context.sslsocket_class = _OldTLSSocket


OLD_TLS_OPTION = "--allow-old-tls, allow_old_tls=True"
"""How the CLI and the library ask for TLS 1.0/1.1, as hints name it."""

HANDSHAKE_HINT = ("check that the port speaks TLS (16993/16995) and the TLS versions both sides allow (amtkit needs "
                  f"TLS 1.2, AMT 12 or later, unless old TLS is allowed: {OLD_TLS_OPTION})")
"""What a failed handshake's error says to check, whichever transport made it."""


def handshake_hint(tls: TLSConfig) -> str:
    """:data:`HANDSHAKE_HINT`, less the advice to allow old TLS once it is allowed."""
    if tls.allow_old_tls:
        return "check that the port speaks TLS (16993/16995); TLS 1.0 to 1.3 were offered"
    return HANDSHAKE_HINT


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error)


def peer_sha256(sock: ssl.SSLSocket) -> str:
    """SHA-256 of the peer's certificate (DER), as pins are written."""
    return hashlib.sha256(sock.getpeercert(binary_form=True) or b"").hexdigest()


# -- sessions ----------------------------------------------------------------------------------

def _saved_session(context: ssl.SSLContext, host: str, port: int) -> ssl.SSLSession | None:
    sessions = _sessions.get(id(context))
    if sessions is None:
        return None
    with _lock:
        return sessions.get((host, port))


def remember_session(sock: ssl.SSLSocket, host: str, port: int) -> None:
    """Keep ``sock``'s session for the next connection to ``(host, port)``.

    Called after the handshake, or after the first answer (TLS 1.3 sends its tickets after the
    handshake, so the resumable session exists only once something was read).
    """
    sessions = _sessions.get(id(sock.context))
    session = sock.session
    if sessions is None or session is None or not session.has_ticket and not session.id:
        return
    with _lock:
        sessions[(host, port)] = session
        sessions.move_to_end((host, port))
        while len(sessions) > MAX_SESSIONS:
            sessions.popitem(last=False)


def forget_sessions() -> None:
    """Drop every kept session (the next connection to each device makes a full handshake)."""
    with _lock:
        for sessions in _sessions.values():
            sessions.clear()


def forget_session(context: ssl.SSLContext, host: str, port: int) -> None:
    sessions = _sessions.get(id(context))
    if sessions is not None:
        with _lock:
            sessions.pop((host, port), None)


# -- pins --------------------------------------------------------------------------------------

class PinFile:
    """A file of pins, one ``HOST SHA256`` per line (``#`` comments), as ``amtkit fingerprint
    --pin-file`` writes it. Read once and again only when the file changes on disk."""

    _cache: dict[str, tuple[float, dict[str, str]]] = {}
    _cache_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path

    def pins(self) -> dict[str, str]:
        from .config import normalize_fingerprint

        try:
            mtime = os.stat(self.path).st_mtime
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise exc.TLSError(f"cannot read the pin file {self.path!r}: {error.strerror}",
                               reason="configuration") from error
        cached = self._cache.get(self.path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        pins: dict[str, str] = {}
        try:
            with open(self.path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    text = line.split("#", 1)[0].strip()
                    if not text:
                        continue
                    fields = text.split()
                    if len(fields) != 2:
                        raise ValueError(f"line {number}: expected 'HOST SHA256'")
                    try:
                        pins[fields[0].lower()] = normalize_fingerprint(fields[1])
                    except ValueError as error:
                        raise ValueError(f"line {number}: {error}") from error
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise exc.TLSError(f"cannot use the pin file {self.path!r}: {error}", reason="configuration",
                               hint="each line holds a host and its certificate's SHA-256") from error
        with self._cache_lock:
            self._cache[self.path] = (mtime, pins)
        return pins

    def pin_for(self, host: str) -> str | None:
        return self.pins().get(host.lower())

    def add(self, host: str, sha256: str, *, note: str = "") -> None:
        """Append a pin (trust on first use); the file is created if missing."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        comment = f"  # {note}" if note else ""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(f"{host.lower()} {sha256}{comment}\n")


def expected_pin(tls: TLSConfig, host: str) -> str | None:
    """The pin ``host`` must match: the configured one, else the pin file's entry; a pin file
    without an entry for ``host`` is a TLSError (never a silent fallback to no checking)."""
    if tls.pin_sha256:
        return tls.pin_sha256
    if tls.pin_file is None:
        return None
    pin = PinFile(tls.pin_file).pin_for(host)
    if pin is None:
        raise exc.TLSError(f"the pin file {tls.pin_file!r} has no pin for this host", reason="no-pin", host=host,
                           hint=f"record it first: amtkit fingerprint {host} --pin-file {tls.pin_file} (trust on "
                                "first use: compare it with the MEBx or provisioning record)")
    return pin


# -- the handshake -----------------------------------------------------------------------------

def wrap_socket(raw: socket.socket, tls: TLSConfig, host: str, *, context: ssl.SSLContext | None = None,
                what: str = "TLS handshake", port: int | None = None, remember: bool = True) -> ssl.SSLSocket:
    """Handshake on ``raw`` (resuming the last session to ``(host, port)`` if there is one) and
    check the pin; ``raw`` is closed on any failure. ``remember=False``: the caller keeps the new
    session itself (:func:`remember_session` after the first answer, as the WS-Man transport does)."""
    try:
        pin = expected_pin(tls, host)
    except exc.TLSError:
        raw.close()
        raise
    context = context or client_context(tls)
    if port is None:
        port = raw.getpeername()[1] if raw.family in (socket.AF_INET, socket.AF_INET6) else 0
    session = _saved_session(context, host, port)
    server_name = host if tls.verifies_chain else None
    try:
        try:
            sock = context.wrap_socket(raw, server_hostname=server_name, session=session)
        except ssl.SSLError:
            if session is None:
                raise
            # A session the device no longer accepts can fail the handshake on some stacks: forget it.
            forget_session(context, host, port)
            raise
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
                           hint=handshake_hint(tls)) from error
    if pin and peer_sha256(sock) != pin:
        sock.close()
        forget_session(context, host, port)
        raise exc.TLSError("the device's certificate does not match the pinned SHA-256 fingerprint",
                           reason="pin-mismatch", host=host,
                           hint="check the pin; `amtkit fingerprint HOST` shows the certificate the device presents")
    if remember and not sock.session_reused:
        remember_session(sock, host, port)
    return sock


def session_to_keep(sock: ssl.SSLSocket) -> bool:
    """Whether ``sock`` has a session not kept yet: a TLS 1.2 connection that resumed the kept session
    has nothing new (and fetching ``SSLSocket.session`` costs 0.2 ms of CPU: CPython copies it through
    DER), while TLS 1.3 hands out new tickets on every connection."""
    return not sock.session_reused or sock.version() == "TLSv1.3"


def fetch_sha256(host: str, port: int, *, timeout: float = 10.0, allow_old_tls: bool = False) -> str:
    """Connect without verifying and return the SHA-256 of the certificate the device presents
    (``allow_old_tls``: over TLS 1.0/1.1 too, as firmware before AMT 12 needs).

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
    sock = wrap_socket(raw, TLSConfig(insecure=True, allow_old_tls=allow_old_tls), host, port=port)
    try:
        return peer_sha256(sock)
    finally:
        sock.close()
