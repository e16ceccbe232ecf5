"""Pushing alerts: each device posts its alerts to its subscribers, as AMT firmware does.

The :class:`AlertService` of a :class:`~amtsim.server.Simulator` hears every event a device records
(:mod:`amtsim.backends.eventlog`), turns it into a ``CIM_AlertIndication`` (:func:`alert_for`) and
hands a copy to each subscriber whose filter passes it (:mod:`amtsim.backends.eventing`). One
asyncio task per subscriber posts them in order over one kept-alive HTTP(S) connection:

* ``User-Agent: Intel(R) AMT Agent`` and ``Connection: Keep-Alive``, as AMT posts (LMS capture);
* a 401 with a digest challenge is answered with the subscription's credentials (``nc`` counting up on
  the nonce, so a stream of alerts costs one round trip each); a basic-auth subscription sends its
  credentials up front;
* PushWithAck: the delivery counts only when the answer is the Ack of this alert's MessageID;
* https: the listener's certificate is verified against the device's trusted roots
  (:attr:`DeviceConfig.alert_ca_file <amtsim.config.DeviceConfig.alert_ca_file>`, else the system's);
* a failed delivery is retried and given up, and a subscriber failing long enough removed, per Rule 3
  of :mod:`amtsim.backends.eventing`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as _dt
import itertools
import logging
import random
import ssl
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from amtkit.events.alerts import RECORD_MESSAGE_ID, Alert, build_alert, is_ack_for
from amtkit.events.records import EventSeverity
from amtkit.events.subscriptions import DeliveryMode
from amtkit.http.digest import Challenge, Credentials, DigestError, authorization_header, parse_challenge
from amtkit.http.reply import FramingError, ReplyReader, split_challenges
from amtkit.wsman import names

from .backends.eventing import EventingBackend, Listener, eventing_of
from .backends.eventlog import Happening
from .device import SimulatedDevice

__all__ = ["AlertService", "alert_for"]

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
"""Alerts waiting for one subscriber at most; older ones are dropped first (firmware memory is small)."""
_MAX_REPLY = 1 << 20
_HOOKED = "alerts-hooked"
_SESSIONS = {(True, "sol"): "48", (False, "sol"): "49", (True, "ider"): "50", (False, "ider"): "51"}
_ALERT_TYPES = {"login": 8, "lockout": 8, "system-defense": 8, "redirection": 2, "power": 5, "boot": 5}


_PERCEIVED_SEVERITY: dict[int, int] = {EventSeverity.NON_CRITICAL: 3, EventSeverity.CRITICAL: 6, EventSeverity.NON_RECOVERABLE: 7}
"""PET severity -> CIM PerceivedSeverity (warning, critical, fatal); everything else is information (2)."""


def _message(happening: Happening) -> tuple[str, tuple[str, ...]]:
    """The MessageID and arguments of ``happening``'s alert: AMT's documented ones where they exist."""
    detail = happening.detail
    if happening.kind == "redirection":
        return "iAMT0050", (_SESSIONS[(bool(detail.get("opened")), str(detail.get("session")))],)
    if happening.kind == "system-defense":
        if detail.get("rule") == "match":
            return "iAMT0001", ()
        return "iAMT0050", ("18" if detail.get("inbound") else "16",)
    return RECORD_MESSAGE_ID, (happening.record.to_base64(),)


def alert_for(happening: Happening, identifier: str) -> tuple[Alert, bool]:
    """The alert a device sends for ``happening``, and whether it is a feature alert (an ``iAMT`` ID)."""
    message_id, arguments = _message(happening)
    alert = Alert(message_id, arguments, time=_dt.datetime.fromtimestamp(happening.at, _dt.timezone.utc),
                  identifier=identifier, alert_type=_ALERT_TYPES.get(happening.kind, 1),
                  severity=_PERCEIVED_SEVERITY.get(happening.record.severity, 2))
    return alert, message_id != RECORD_MESSAGE_ID


@dataclass
class _Outbox:
    """What one subscriber still has to receive, and the task posting it."""

    listener: Listener
    queue: deque[tuple[bytes, str]] = field(default_factory=deque)
    """(envelope, MessageID) in order."""
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    overflowed: int = 0


class AlertService:
    """The alert pushers of one simulator; hooked to device start and stop by the simulator."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outboxes: dict[tuple[int, str], _Outbox] = {}
        self._identifiers = itertools.count(random.randrange(1 << 30, 1 << 31))

    # -- device lifecycle ---------------------------------------------------------------------------
    def start_device(self, device: SimulatedDevice) -> None:
        self._loop = asyncio.get_running_loop()
        eventing = eventing_of(device)
        if device.extensions.get(_HOOKED):
            return  # a device started again keeps its hooks
        device.extensions[_HOOKED] = True
        device.event_log.on_event.append(lambda happening: self._happened(device, eventing, happening))
        eventing.on_change.append(lambda listener, added: self._changed(device, eventing, listener, added))
        for listener in list(eventing.listeners.values()):
            self._changed(device, eventing, listener, True)

    async def stop_device(self, device: SimulatedDevice) -> None:
        """Stop posting for ``device``: its subscribers' tasks end (alerts not yet posted are lost with it)."""
        tasks = []
        for key in [k for k in self._outboxes if k[0] == id(device)]:
            task = self._outboxes.pop(key).task
            if task is not None:
                task.cancel()
                tasks.append(task)
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- called under the device lock, from any thread -----------------------------------------------
    def _changed(self, device: SimulatedDevice, eventing: EventingBackend, listener: Listener, added: bool) -> None:
        key = (id(device), listener.name)
        if added:
            self._in_loop(self._open, device, eventing, listener)
        else:
            self._in_loop(self._close, key)

    def _happened(self, device: SimulatedDevice, eventing: EventingBackend, happening: Happening) -> None:
        if not eventing.listeners:
            return
        alert, feature = alert_for(happening, f"Intel(r):{next(self._identifiers)}")
        for listener in eventing.listeners.values():
            if listener.passes(feature):
                message_id = device.next_message_id()
                envelope = build_alert(alert, message_id, reference=listener.reference,
                                       ack_requested=listener.mode is DeliveryMode.PUSH_WITH_ACK)
                self._in_loop(self._enqueue, (id(device), listener.name), envelope, message_id)

    def _in_loop(self, function: object, *args: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            function(*args)  # type: ignore[operator]
        else:
            loop.call_soon_threadsafe(function, *args)  # type: ignore[arg-type]

    # -- on the loop ---------------------------------------------------------------------------------
    def _open(self, device: SimulatedDevice, eventing: EventingBackend, listener: Listener) -> None:
        key = (id(device), listener.name)
        if key in self._outboxes:
            return
        outbox = _Outbox(listener)
        self._outboxes[key] = outbox
        outbox.task = asyncio.get_running_loop().create_task(_Poster(device, eventing, outbox).run())

    def _close(self, key: tuple[int, str]) -> None:
        outbox = self._outboxes.pop(key, None)
        if outbox is not None and outbox.task is not None:
            outbox.task.cancel()

    def _enqueue(self, key: tuple[int, str], envelope: bytes, message_id: str) -> None:
        outbox = self._outboxes.get(key)
        if outbox is None:
            return
        if len(outbox.queue) >= QUEUE_LIMIT:
            outbox.queue.popleft()
            outbox.listener.dropped += 1
        outbox.queue.append((envelope, message_id))
        outbox.ready.set()


class _DeliveryFailed(Exception):
    pass


class _Poster:
    """Posts one subscriber's alerts, in order, over one kept-alive connection."""

    def __init__(self, device: SimulatedDevice, eventing: EventingBackend, outbox: _Outbox) -> None:
        self.device = device
        self.eventing = eventing
        self.outbox = outbox
        listener = outbox.listener
        url = urlsplit(listener.destination)
        self.https = url.scheme == "https"
        self.host = url.hostname or "localhost"
        self.port = url.port or (443 if self.https else 80)
        self.path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        bracketed = f"[{self.host}]" if ":" in self.host else self.host
        self.head = (f"POST {self.path} HTTP/1.1\r\nHost: {bracketed}:{self.port}\r\n"
                     f"User-Agent: Intel(R) AMT Agent\r\nConnection: Keep-Alive\r\n"
                     f"Content-Type: {names.SOAP_CONTENT_TYPE}\r\n").encode("latin-1")
        self.credentials = Credentials(*listener.credentials) if listener.credentials else None
        self.basic = listener.basic_auth
        self.challenge: Challenge | None = None
        self.nc = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        timing = device.config.timing
        self.attempts, self.interval, self.timeout = (timing.alert_retry_attempts, timing.alert_retry_interval,
                                                      timing.alert_delivery_timeout)

    async def run(self) -> None:
        outbox = self.outbox
        try:
            while True:
                while not outbox.queue:
                    outbox.ready.clear()
                    await outbox.ready.wait()
                envelope, message_id = outbox.queue[0]
                if await self._deliver(envelope, message_id):
                    outbox.queue.popleft()
        finally:
            self._disconnect()

    async def _deliver(self, envelope: bytes, message_id: str) -> bool:
        """Post one alert with retries (Rule 3); ``False`` when the subscriber was removed meanwhile."""
        for attempt in range(self.attempts + 1):
            try:
                await asyncio.wait_for(self._post(envelope, message_id), self.timeout)
            except (OSError, asyncio.TimeoutError, _DeliveryFailed, FramingError, ssl.SSLError) as error:
                self._disconnect()
                log.debug("%s: alert to %s failed: %s", self.device.name, self.outbox.listener.destination, error)
                with self.device.lock:
                    removed = self.eventing.failed(self.outbox.listener)
                if removed:
                    return False
                if attempt < self.attempts:
                    await asyncio.sleep(self.interval)
                continue
            with self.device.lock:
                self.eventing.delivered(self.outbox.listener)
            return True
        with self.device.lock:
            self.outbox.listener.dropped += 1
            self.eventing.notify()
        return True

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.writer is None or self.reader is None or self.writer.is_closing():
            context = None
            if self.https:
                context = ssl.create_default_context(cafile=self.device.config.alert_ca_file)
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, ssl=context)
        return self.reader, self.writer

    def _disconnect(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
        self.reader = self.writer = None

    def _authorization(self) -> bytes:
        if self.credentials is None:
            return b""
        if self.basic:
            token = base64.b64encode(f"{self.credentials.username}:{self.credentials.password}".encode()).decode()
            return f"Authorization: Basic {token}\r\n".encode("latin-1")
        if self.challenge is None:
            return b""
        self.nc += 1
        value = authorization_header(self.credentials, self.challenge, method="POST", uri=self.path, nc=self.nc)
        return f"Authorization: {value}\r\n".encode("latin-1")

    async def _post(self, envelope: bytes, message_id: str) -> None:
        for _ in range(2):  # the first try may earn a digest challenge, the second answers it
            reader, writer = await self._connect()
            writer.write(self.head + self._authorization() + b"Content-Length: %d\r\n\r\n" % len(envelope)
                         + envelope)
            reply = await self._reply(reader)
            if not reply.keep_alive:
                self._disconnect()
            if reply.status == 401 and self.credentials is not None and not self.basic:
                self._take_challenge(reply.headers.get_all("WWW-Authenticate"))
                continue
            if not 200 <= reply.status < 300:
                raise _DeliveryFailed(f"HTTP {reply.status}")
            if self.outbox.listener.mode is DeliveryMode.PUSH_WITH_ACK and not is_ack_for(reply.body, message_id):
                raise _DeliveryFailed("the answer is not the Ack of this alert")
            return
        raise _DeliveryFailed("the listener refused the subscription's credentials")

    def _take_challenge(self, values: list[str]) -> None:
        for text in split_challenges(values):
            try:
                challenge = parse_challenge(text)
            except DigestError:
                continue
            if challenge.supports_auth_qop and challenge.qop:
                self.challenge, self.nc = challenge, 0
                return
        raise _DeliveryFailed("the listener offers no digest challenge amtkit's firmware answers")

    @staticmethod
    async def _reply(reader: asyncio.StreamReader):  # type: ignore[no-untyped-def]
        parser = ReplyReader(max_body=_MAX_REPLY)
        while True:
            data = await reader.read(65536)
            if not data:
                return parser.feed_eof()
            reply = parser.feed(data)
            if reply is not None:
                return reply
