"""The manager: an HTTP(S) receiver for the alerts AMT devices push, storing each exactly once.

::

    manager = Manager(Store.open("alerts.db"), port=16990, users={"amt": "secret"})
    await manager.start()            # or: with ManagerThread(manager): ...

Why aiohttp: a receiver for a fleet holds a thousand kept-alive connections and answers thousands of
posts a second; aiohttp's server (llhttp parser in C, asyncio) does that on one core with a
well-kept HTTP/1.1 implementation (keep-alive, chunked bodies, limits, TLS through ``ssl``), so
amtkit writes no HTTP parser for it. ``bench/events.py`` measures it under 1,000 simulated devices.

What happens to one post:

1. **Authentication** as AMT answers it: a digest challenge (``qop="auth"``, self-validating HMAC
   nonces, each ``nc`` accepted once, ``stale=true`` on an expired nonce), or basic credentials over
   TLS, or none. A device gets the credentials in its Subscribe (``events subscribe --listener-user``).
2. **Parsing** with amtkit's safe XML reader (:func:`amtkit.events.alerts.parse_alert`); anything but
   an alert is answered 400 and stored nowhere.
3. **Storing**: the alert's row joins the batch of the one writer (a thread with the store's single
   SQLite connection, WAL): a batch is one transaction, and while it commits the next batch gathers
   (group commit). The device is answered **only after the commit**: 200 (an Ack envelope for
   PushWithAck). A manager killed before the commit never answered, so the device sends the alert
   again; a manager killed after it stored the row, so the resend is a duplicate of a known key and
   adds nothing (:mod:`amtkit.events.storage`). A store that cannot be written is answered 503: the
   device keeps the alert and retries.

Two managers: subscribe each device to both (``events subscribe --url A --url B``). Each receives
every alert on its own (AMT posts to every subscriber); while one is down the other has them all, and
``events merge`` brings them together again without doubles (the keys are the same on both).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import ssl
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..http.digest import Credentials, DigestError, format_challenge, parse_authorization, responses_match
from ..wsman.responses import amt_message_id
from .alerts import AlertError, build_ack, parse_alert
from .storage import AlertRow, insert, row_for

if TYPE_CHECKING:
    from aiohttp import web

    from ..store import Store

__all__ = ["DEFAULT_PORT", "DeviceAuth", "Manager", "ManagerStats", "ManagerThread"]

DEFAULT_PORT = 16990
"""The port ``amtkit events listen`` uses unless told otherwise (not one of AMT's)."""
MAX_ALERT_BYTES = 256 * 1024
"""A larger post is refused unread (AMT's alerts are a few kilobytes)."""
MAX_BATCH = 2000
_NONCE = struct.Struct(">II")
_MAC_BYTES = 16
_NONCE_RECORDS = 65536
_NC_WINDOW = 64


class DeviceAuth:
    """How devices prove who they are: ``digest`` (as AMT answers a challenge), ``basic`` or ``none``."""

    def __init__(self, users: Mapping[str, str] | None, scheme: str = "digest", *, realm: str = "amtkit events",
                 nonce_lifetime: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        if scheme not in ("digest", "basic", "none"):
            raise exc.UsageError(f"device authentication is digest, basic or none, not {scheme!r}")
        if scheme != "none" and not users:
            raise exc.UsageError(f"{scheme} authentication needs at least one user")
        self.scheme = scheme
        self.realm = realm
        self._users = dict(users or {})
        self._ha1 = {user: Credentials(user, password).ha1(realm) for user, password in self._users.items()}
        self._decoy = Credentials(os.urandom(8).hex(), os.urandom(8).hex()).ha1(realm)
        self.nonce_lifetime = nonce_lifetime
        self.clock = clock
        self._epoch = clock()
        self._secret = os.urandom(32)
        self._serial = 0
        self._counts: OrderedDict[int, tuple[int, int]] = OrderedDict()
        """Nonce serial -> (highest nc, bitmap of the window below it); the oldest is forgotten first."""
        self._forgotten = 0

    def challenge(self, *, stale: bool = False) -> str:
        if self.scheme == "basic":
            return f'Basic realm="{self.realm}"'
        self._serial = (self._serial + 1) & 0xFFFFFFFF
        issued = int((self.clock() - self._epoch) * 100) & 0xFFFFFFFF
        body = _NONCE.pack(self._serial, issued)
        nonce = base64.b64encode(body + self._mac(body)).decode()
        return format_challenge(self.realm, nonce, stale=stale)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:_MAC_BYTES]

    def check(self, header: str | None, method: str, target: str) -> tuple[bool, bool, str]:
        """``(accepted, stale, user)`` for an ``Authorization`` header of a request for ``target``."""
        if self.scheme == "none":
            return True, False, ""
        if not header:
            return False, False, ""
        if self.scheme == "basic":
            return self._basic(header)
        try:
            auth = parse_authorization(header)
        except DigestError:
            return False, False, ""
        ha1 = self._ha1.get(auth.username)
        proven = responses_match(auth.expected_response(ha1 or self._decoy, method), auth.response)
        if not proven or ha1 is None or auth.realm != self.realm or auth.uri != target or auth.qop != "auth":
            return False, False, auth.username
        opened = self._open(auth.nonce)
        if opened is None:
            return False, False, auth.username
        serial, age = opened
        if age > self.nonce_lifetime or serial <= self._forgotten or auth.nonce_count is None:
            return False, True, auth.username
        return self._count(serial, auth.nonce_count), False, auth.username

    def _basic(self, header: str) -> tuple[bool, bool, str]:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False, False, ""
        try:
            user, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return False, False, ""
        expected = self._users.get(user)
        ok = hmac.compare_digest((expected or os.urandom(8).hex()).encode(), password.encode())
        return ok and expected is not None, False, user

    def _open(self, nonce: str) -> tuple[int, float] | None:
        try:
            raw = base64.b64decode(nonce.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError):
            return None
        if len(raw) != _NONCE.size + _MAC_BYTES or not hmac.compare_digest(raw[_NONCE.size:],
                                                                            self._mac(raw[:_NONCE.size])):
            return None
        serial, issued = _NONCE.unpack(raw[:_NONCE.size])
        return serial, self.clock() - self._epoch - issued / 100

    def _count(self, serial: int, nc: int) -> bool:
        """Accept each ``nc`` of a nonce once (a replayed request is refused)."""
        highest, window = self._counts.pop(serial, (0, 0))
        accepted = True
        if nc > highest:
            shift = nc - highest
            window = ((window << shift) | 1) & ((1 << _NC_WINDOW) - 1) if shift < _NC_WINDOW else 1
            highest = nc
        elif highest - nc >= _NC_WINDOW or window & (1 << (highest - nc)):
            accepted = False
        else:
            window |= 1 << (highest - nc)
        self._counts[serial] = (highest, window)
        while len(self._counts) > _NONCE_RECORDS:
            forgotten, _ = self._counts.popitem(last=False)
            self._forgotten = max(self._forgotten, forgotten)
        return accepted


class _BatchWriter:
    """The one writer: rows handed in from the event loop are committed in batches by one thread."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="amtkit-alert-writer")
        self._pending: list[tuple[AlertRow, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def submit(self, row: AlertRow) -> asyncio.Future[bool]:
        """A future resolved with ``True`` (stored) or ``False`` (already stored) once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((row, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            try:
                results = await loop.run_in_executor(self._executor, insert, self.store, [row for row, _ in batch])
            except Exception as error:  # the store failed: every post of the batch is answered 503
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches += 1
            for (_, future), new in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(new)

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)
        self._executor.shutdown(wait=True)


@dataclass
class ManagerStats:
    received: int = 0
    """Posts that were alerts from an authenticated device."""
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    """Posts without valid credentials (answered 401)."""
    malformed: int = 0
    store_errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


OnStored = Callable[[str, AlertRow], None]
"""``on_stored(device, row)``: called on the event loop for every alert newly stored."""


class Manager:
    """The receiver. ``users``: device credentials (what subscriptions were given); ``auth``: ``digest``,
    ``basic`` (only with TLS) or ``none``; ``ssl_context``: serve HTTPS."""

    def __init__(self, store: Store, *, host: str = "0.0.0.0", port: int = DEFAULT_PORT,
                 users: Mapping[str, str] | None = None, auth: str | None = None,
                 ssl_context: ssl.SSLContext | None = None, realm: str = "amtkit events",
                 on_stored: OnStored | None = None) -> None:
        scheme = auth or ("digest" if users else "none")
        if scheme == "basic" and ssl_context is None:
            raise exc.UsageError("basic authentication sends the password in clear: serve TLS for it (--tls-cert)")
        self.store = store
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.auth = DeviceAuth(users, scheme, realm=realm)
        self.on_stored = on_stored
        self.stats = ManagerStats()
        self._writer: _BatchWriter | None = None
        self._runner: web.ServerRunner | None = None
        self._ack_ids = 0
        self._progress = threading.Condition()

    def wait_for_stored(self, count: int, timeout: float = 30.0) -> bool:
        """Wait (from another thread) until ``count`` alerts are stored by this manager; whether they were."""
        with self._progress:
            return self._progress.wait_for(lambda: self.stats.stored >= count, timeout)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{scheme}://{host}:{self.port}/events"

    async def start(self) -> None:
        from aiohttp import web

        self._writer = _BatchWriter(self.store)
        # aiohttp's low-level server: every path is the receiver's, so no application, router or middleware.
        runner = self._runner = web.ServerRunner(web.Server(self._handle, access_log=None), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context, backlog=1024,
                           reuse_address=True)
        await site.start()
        addresses = runner.addresses
        if addresses:
            self.port = int(addresses[0][1])  # the port picked when asked for 0

    async def stop(self) -> None:
        """Stop taking posts, then commit what was taken (nothing answered is lost)."""
        if self._runner is not None:
            await self._runner.cleanup()  # closes the listener, then waits for the posts being answered
            self._runner = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    @property
    def batches(self) -> int:
        return self._writer.batches if self._writer is not None else 0

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        from aiohttp import web

        if request.method != "POST":
            return web.Response(status=405, headers={"Allow": "POST"})
        if (request.content_length or 0) > MAX_ALERT_BYTES:
            return web.Response(status=413, text=f"an alert is at most {MAX_ALERT_BYTES} bytes")
        # The body is read even when it will be refused: an unread body closes the connection, and the
        # device would open a new one (and earn a new challenge) for every alert.
        body = await request.read()
        accepted, stale, _user = self.auth.check(request.headers.get("Authorization"), request.method,
                                                 request.path_qs)
        if not accepted:
            self.stats.refused += 1
            return web.Response(status=401, headers={"WWW-Authenticate": self.auth.challenge(stale=stale)})
        try:
            pushed = parse_alert(body)
        except AlertError as error:
            self.stats.malformed += 1
            return web.Response(status=400, text=str(error))
        sender = request.remote or ""
        device = pushed.reference.get("Device") or sender
        row = row_for(pushed.alert, device, sender)
        assert self._writer is not None
        self.stats.received += 1
        try:
            new = await self._writer.submit(row)
        except Exception:
            self.stats.store_errors += 1
            return web.Response(status=503, text="the alert store cannot be written now; send it again")
        with self._progress:
            if new:
                self.stats.stored += 1
                self.stats.by_kind[row[5]] = self.stats.by_kind.get(row[5], 0) + 1
            else:
                self.stats.duplicates += 1
            self._progress.notify_all()
        if new and self.on_stored is not None:
            self.on_stored(device, row)
        if pushed.ack_requested:
            self._ack_ids += 1
            return web.Response(body=build_ack(pushed.message_id, amt_message_id(self._ack_ids)),
                                content_type="application/soap+xml", charset="utf-8")
        return web.Response(status=200)


class ManagerThread:
    """Run a :class:`Manager` on its own event loop in a background thread (tests, embedding)."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="amtkit-manager", daemon=True)

    def __enter__(self) -> Manager:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.manager.start(), self._loop).result(timeout=30)
        return self.manager

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.manager.stop(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` on the manager's loop and return its result (read stats consistently)."""
        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)


def tls_context(cert_file: str, key_file: str | None = None) -> ssl.SSLContext:
    """A server context for ``cert_file`` (PEM; the key in it or in ``key_file``)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as error:
        raise exc.TLSError(f"cannot serve TLS with {cert_file!r}: {error.strerror or error}", reason="configuration",
                           hint="give a PEM file with the certificate and its private key (or the key in --tls-key)"
                           ) from error
    return context

