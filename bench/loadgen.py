"""Load generator for throughput figures, run as its own process (``python -m bench.loadgen``).

It drives several kept-alive connections at once from one thread with :mod:`selectors`: each
connection has one request in flight (AMT clients do not pipeline), pre-signed with its own
digest nonce, so the generator spends next to no CPU per request and the figure is the
server's. Requests that complete during the ramp-up are not counted.

Parameters arrive as one JSON argument; the result is one JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import socket
import sys
import time
from dataclasses import asdict, dataclass

from amtkit.http.digest import Credentials

from .rawhttp import LAST_CHUNK, NC_PER_NONCE, fetch_challenge, get_body, presigned


@dataclass(frozen=True)
class LoadPlan:
    address: str
    port: int
    username: str
    password: str
    connections: int
    duration: float
    ramp_up: float
    cpu: int | None = None
    class_name: str = "AMT_GeneralSettings"


@dataclass(frozen=True)
class LoadResult:
    completed: int
    """Replies completed inside the measured window."""
    window_seconds: float
    errors: int
    cpu_seconds: float
    """CPU the generator used over the whole run (to show it was not the bottleneck)."""
    wall_seconds: float

    @property
    def per_second(self) -> float:
        return self.completed / self.window_seconds if self.window_seconds > 0 else 0.0


class _Connection:
    """One kept-alive socket with its own nonce and a queue of requests signed for it."""

    def __init__(self, plan: LoadPlan, body: bytes, credentials: Credentials) -> None:
        self._plan, self._body, self._credentials = plan, body, credentials
        self._requests: list[bytes] = []
        self._refill()
        self.sock = socket.create_connection((plan.address, plan.port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def _refill(self) -> None:
        # A new nonce once the old one has used up its nc values (rare: 4000 requests per connection).
        challenge = fetch_challenge(self._plan.address, self._plan.port, self._body)
        batch = presigned(self._plan.address, self._plan.port, self._body, self._credentials, challenge,
                          NC_PER_NONCE)
        batch.reverse()  # pop() from the end is O(1)
        self._requests = batch

    def send_next(self) -> None:
        if not self._requests:
            self._refill()
        self.sock.sendall(self._requests.pop())

    def reply_complete(self, data: bytes) -> bool:
        self.buffer += data
        return self.buffer.endswith(LAST_CHUNK)


def run(plan: LoadPlan) -> LoadResult:
    if plan.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {plan.cpu})
    body = get_body(plan.class_name)
    credentials = Credentials(plan.username, plan.password)
    connections = [_Connection(plan, body, credentials) for _ in range(plan.connections)]
    selector = selectors.DefaultSelector()
    for connection in connections:
        selector.register(connection.sock, selectors.EVENT_READ, connection)
    cpu_start = _cpu_seconds()
    started = time.perf_counter()
    window_start, window_end = started + plan.ramp_up, started + plan.ramp_up + plan.duration
    done = counted_at_start = errors = 0
    measuring = False
    for connection in connections:
        connection.send_next()
    now = started
    while now < window_end:
        for key, _ in selector.select(timeout=1.0):
            connection = key.data
            data = connection.sock.recv(65536)
            if not data:
                raise ConnectionError("the simulator closed a kept-alive connection")
            if not connection.reply_complete(data):
                continue
            if not connection.buffer.startswith(b"HTTP/1.1 200 "):
                errors += 1
            connection.buffer.clear()
            done += 1
            connection.send_next()
        now = time.perf_counter()
        if not measuring and now >= window_start:
            measuring, counted_at_start, window_start = True, done, now
    elapsed = now - window_start if measuring else 0.0
    result = LoadResult(done - counted_at_start, elapsed, errors, _cpu_seconds() - cpu_start,
                        time.perf_counter() - started)
    selector.close()
    for connection in connections:
        connection.sock.close()
    return result


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    plan = LoadPlan(**json.loads(sys.argv[1]))
    result = run(plan)
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
