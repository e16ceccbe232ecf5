"""``python -m bench.fuzz [--quick] [--count N] [--only SURFACE ...] [--seed S]``: hostile input on every surface.

A seeded mutation fuzzer (deterministic: the same seed replays the same inputs) over five
surfaces, each fed its count of inputs (100,000 by default, 3,000 with ``--quick``):

* ``http-request``: the simulator's WS-Man port (reader, digest, dispatch, SOAP handlers) as a
  connection sees it, the input cut into random segments;
* ``redirection``: the simulator's redirection port (16994) state machine;
* ``client-reply``: amtkit's client (transport, HTTP reply parsing, SOAP parsing) against a hostile
  device answering each request with the mutated reply, over a socket pair;
* ``cbfilters``: CBFilters XML files (``amtkit.defense.cbfilters.parse_bytes``);
* ``store``: discovery records with hostile text written and read back, and corrupted store files.

Seeds are valid messages of each surface (recorded AMT replies from ``tests/data/amt-wire``, the
shipped filter files, requests as consoles send them); each input applies one to six mutations:
byte flips, insertions of tokens that matter to the grammar (CR, LF, ``chunked``, huge or negative
numbers, non-ASCII, NUL), deletions, duplications, truncation, splices of two seeds.

For each surface it reports inputs, **crashes** (an exception other than the surface's documented
error, or a simulator request answered 500), **hangs** (an input taking over 5 s), the rate, and
memory (RSS growth between 20 % and 100 % of the inputs; with ``--heap`` also the growth of live
Python objects, which tells a leak from the allocator keeping its high-water mark). Why not atheris or
hypothesis: atheris needs a native libFuzzer build, runs until the first crash and then ends the
process, and reports no counts; hypothesis costs about a millisecond per example. This harness
needs counts, hangs and memory per surface in one command; the properties in ``tests/`` remain
hypothesis tests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import random
import signal
import socket
import ssl
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .framework import ROOT, Row, Settings, Target, goal

DEFAULT_COUNT = 100_000
QUICK_COUNT = 3_000
HANG_SECONDS = 5.0
YIELD_EVERY = 500
WIRE = ROOT / "tests" / "data" / "amt-wire"

TOKENS = [b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"chunked", b"Transfer-Encoding: chunked\r\n", b"Content-Length: ",
          b"Content-Length: 99999999999999999999\r\n", b"-1", b"0", b"ffffffffffffffffffff", b"\x00", b"\xff\xfe",
          "\u00e9\u202e".encode(), b";ext=1", b"0\r\n\r\n", b"Authorization: Digest ", b'"', b",", b"=",
          b"<", b">", b"&amp;", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"]]>", b"xmlns:a=\"\"", b"4294967296",
          b"\t", b" ", b"HTTP/1.1 ", b"GET / HTTP/1.1\r\n\r\n"]


class Hang(Exception):
    pass


@contextmanager
def hang_alarm() -> Iterator[None]:
    def ring(signum: int, frame: object) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, ring)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(8)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 2:
            del data[pos:pos + rng.randint(1, 64)]
        elif op == 3:
            span = data[pos:pos + rng.randint(1, 256)]
            data[pos:pos] = span * rng.randint(1, 8)
        elif op in (4, 5):
            data[pos:pos] = rng.choice(TOKENS)
        elif op == 6:
            del data[pos:]
        else:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            data[pos:] = other[cut:]
    return bytes(data)


def segments(rng: random.Random, data: bytes) -> list[bytes]:
    """Cut an input the way a network might: whole, or in a few random pieces."""
    if rng.random() < 0.5 or len(data) < 2:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 5))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def heap_mb() -> float:
    """Python objects alive (``--heap``: tracemalloc; the allocator's high-water mark does not count)."""
    if not tracemalloc.is_tracing():
        return 0.0
    gc.collect()
    return tracemalloc.get_traced_memory()[0] / 1e6


@dataclass
class Outcome:
    surface: str
    inputs: int = 0
    crashes: int = 0
    hangs: int = 0
    seconds: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    heap_start_mb: float = 0.0
    heap_end_mb: float = 0.0
    first_crash: str = ""

    @property
    def growth_mb(self) -> float:
        return self.rss_end_mb - self.rss_start_mb


def _run_steps(outcome: Outcome, count: int, seed: int, one: Callable[[random.Random], object],
               expected: tuple[type[BaseException], ...]) -> Iterator[None]:
    """Feed ``count`` inputs to ``one``, yielding every :data:`YIELD_EVERY` (an event loop then runs)."""
    rng = random.Random(f"{outcome.surface}:{seed}")
    started = time.perf_counter()
    with hang_alarm():
        for index in range(count):
            if index == count // 5:
                outcome.rss_start_mb = rss_mb()
                outcome.heap_start_mb = heap_mb()
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                yield
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
            try:
                one(rng)
            except expected:
                pass
            except Hang:
                outcome.hangs += 1
            except Exception as error:  # noqa: BLE001 - the point: count what escapes
                outcome.crashes += 1
                if not outcome.first_crash:
                    outcome.first_crash = f"input {index}: {type(error).__name__}: {str(error)[:160]}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            outcome.inputs += 1
    outcome.seconds = time.perf_counter() - started
    outcome.rss_end_mb = rss_mb()
    outcome.heap_end_mb = heap_mb()


def run_surface(name: str, count: int, seed: int, one: Callable[[random.Random], object],
                expected: tuple[type[BaseException], ...]) -> Outcome:
    outcome = Outcome(name)
    for _ in _run_steps(outcome, count, seed, one, expected):
        pass
    return outcome


async def run_surface_in_loop(name: str, count: int, seed: int, one: Callable[[random.Random], object],
                              expected: tuple[type[BaseException], ...]) -> Outcome:
    """The same inside an event loop, which runs between batches (as a server's would, between segments)."""
    outcome = Outcome(name)
    for _ in _run_steps(outcome, count, seed, one, expected):
        await asyncio.sleep(0)
    return outcome


# --- the surfaces ---------------------------------------------------------------------------------


class RecordingTransport(asyncio.Transport):
    """What a protocol writes, kept; closing is remembered. Stands in for a socket inside one process."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(self.written) < 1 << 20:
            self.written += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class SimulatorCrash(Exception):
    """A request the simulator answered with 500 (a handler raised)."""


def _simulator_device() -> Any:
    from amtsim.config import DeviceConfig, Timing
    from amtsim.device import SimulatedDevice

    return SimulatedDevice(DeviceConfig(name="fuzz", http_port=0, tls_port=None,
                                        timing=Timing(power_transition=0, power_off_phase=0)))


def http_request_surface(count: int, seed: int) -> Outcome:
    from amtkit.http.digest import Challenge, Credentials, authorization_header
    from amtkit.wsman import requests as wsreq
    from amtsim.connections import ConnectionTable
    from amtsim.server import WSManProtocol

    async def main() -> Outcome:
        device = _simulator_device()
        table = device.http_connections = ConnectionTable("fuzz", device.config.timing, 1 << 30)
        credentials = Credentials(device.config.username, device.config.password)
        challenge = Challenge(device.accounts.realm, device.accounts.new_nonce())
        envelopes = [wsreq.build_get("http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"),
                     wsreq.build_enumerate("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_SoftwareIdentity"),
                     wsreq.build_identify()]
        seeds = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /logon.htm HTTP/1.0\r\n\r\n"]
        for nc, body in enumerate(envelopes, 1):
            signed = authorization_header(credentials, challenge, method="POST", uri="/wsman", nc=nc)
            head = f"POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:16992\r\nAuthorization: {signed}\r\n".encode()
            seeds.append(head + b"Content-Length: %d\r\n\r\n%b" % (len(body), body))
            seeds.append(head + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%b\r\n0\r\n\r\n" % (len(body), body))
        seeds.append(seeds[-1] + seeds[2])  # pipelined

        def one(rng: random.Random) -> None:
            before = device.stats.internal_errors
            protocol = WSManProtocol(device, table)
            transport = RecordingTransport()
            protocol.connection_made(transport)
            for piece in segments(rng, mutate(rng, seeds)):
                protocol.data_received(piece)
            protocol.eof_received()
            protocol.connection_lost(None)
            if device.stats.internal_errors != before:
                raise SimulatorCrash("a request was answered 500")
            if transport.written and not transport.written.startswith(b"HTTP/1.1 "):
                raise SimulatorCrash(f"a reply that is not HTTP: {bytes(transport.written[:40])!r}")

        return await run_surface_in_loop("http-request", count, seed, one, ())

    return asyncio.run(main())


def redirection_surface(count: int, seed: int) -> Outcome:
    from amtkit.http.digest import Credentials
    from amtkit.redirection import messages as m
    from amtsim.redirection import FirmwareSessionProtocol, RedirectionListeners

    def _no_tls(device: object) -> ssl.SSLContext:
        raise AssertionError("the fuzzed device has no TLS redirection port")

    async def main() -> Outcome:
        device = _simulator_device()
        listeners = RedirectionListeners(_no_tls)
        credentials = Credentials(device.config.username, device.config.password)
        start = m.StartRedirectionSession(session=m.SessionType.IDER).encode()
        query = m.AuthenticateSession.query().encode()
        digest = m.AuthenticateSession.digest_start(credentials.username).encode()
        answer = m.AuthenticateSession.digest_answer(
            credentials, m.DigestChallenge(device.accounts.realm, device.accounts.new_nonce(), "auth")).encode()
        seeds = [start + query + digest + answer, start + digest, start + answer, start + query + digest]

        def one(rng: random.Random) -> None:
            protocol = FirmwareSessionProtocol(device, listeners)
            protocol.connection_made(RecordingTransport())
            for piece in segments(rng, mutate(rng, seeds)):
                protocol.data_received(piece)
            protocol.connection_lost(None)

        return await run_surface_in_loop("redirection", count, seed, one, ())

    return asyncio.run(main())


def client_reply_surface(count: int, seed: int) -> Outcome:
    from amtkit import exceptions as exc
    from amtkit.client import Client
    from amtkit.transport import Transport

    seeds = [(WIRE / name).read_bytes() for name in (
        "AMT_GeneralSettings.Get.response.http", "HTTP.401.Unauthorized.amt15.0.23.1706.http",
        "HTTP.401.Unauthorized.amt11.8.50.3425.http", "Fault.AlreadyExists.response.http",
        "Fault.InternalError.response.http")]
    current = [b""]
    peers: list[socket.socket] = []

    def open_socket(self: Transport) -> socket.socket:
        ours, theirs = socket.socketpair()
        theirs.sendall(current[0][:1 << 16])
        theirs.shutdown(socket.SHUT_WR)
        peers.append(theirs)
        ours.settimeout(2.0)
        return ours

    original = Transport._open_socket
    Transport._open_socket = open_socket  # type: ignore[method-assign]
    try:
        def one(rng: random.Random) -> None:
            current[0] = mutate(rng, seeds)
            try:
                with Client("127.0.0.1", password="P@ssw0rd", retries=0, timeout=2.0) as client:
                    client.get("AMT_GeneralSettings")
            finally:
                for peer in peers:
                    peer.close()
                peers.clear()

        return run_surface("client-reply", count, seed, one, (exc.AMTError,))
    finally:
        Transport._open_socket = original  # type: ignore[method-assign]


def cbfilters_surface(count: int, seed: int) -> Outcome:
    from amtkit.defense.cbfilters import CBFiltersError, parse_bytes

    seeds = [path.read_bytes() for path in sorted((ROOT / "filters").glob("*.xml"))]
    return run_surface("cbfilters", count, seed, lambda rng: parse_bytes(mutate(rng, seeds)), (CBFiltersError,))


def store_surface(count: int, seed: int) -> Outcome:
    from amtkit.codes import ProvisioningState
    from amtkit.discovery.probe import Classification, HostRecord
    from amtkit.store import Store, StoreError

    folder = Path(tempfile.mkdtemp(prefix="amtkit-fuzz-"))
    reference = folder / "reference.db"
    with Store.open(reference) as store:
        store.save_discovery([HostRecord("10.0.0.5", "10.0.0.5", Classification.AMT_PRESENT, datetime.now(timezone.utc),
                                         version="16.1.25", provisioning_state=ProvisioningState.POST)])
    database = reference.read_bytes()
    memory = Store.open(":memory:")
    texts = [b"10.0.0.5", "h\u00f6st-\u202e".encode(), b"a" * 300, b"x'; DROP TABLE hosts; --", b"\x00\x01"]

    def text(rng: random.Random) -> str:
        return mutate(rng, texts).decode("utf-8", "replace")

    hosts = [text(random.Random(index)) or f"h{index}" for index in range(500)]  # a bounded store: flat memory

    def one(rng: random.Random) -> None:
        if rng.random() < 0.02:  # a corrupted store file: opened, or refused with StoreError
            path = folder / "corrupt.db"
            path.write_bytes(mutate(rng, [database]))
            with Store.open(path) as store:
                store.records()
            return
        record = HostRecord(rng.choice(hosts), text(rng), rng.choice(list(Classification)),
                            datetime.now(timezone.utc), version=text(rng), server=text(rng), detail=text(rng))
        memory.save_discovery([record])
        back = memory.get(record.host)
        if back is None or (back.server, back.detail, back.version) != (record.server, record.detail,
                                                                           record.version):
            raise AssertionError(f"record for {record.host!r} not read back as written")

    try:
        # Only StoreError is documented (issue #9: every store failure is a StoreError): a raw
        # sqlite3.DatabaseError escaping counts as a crash.
        return run_surface("store", count, seed, one, (StoreError,))
    finally:
        memory.close()


SURFACES: dict[str, Callable[[int, int], Outcome]] = {
    "http-request": http_request_surface,
    "redirection": redirection_surface,
    "client-reply": client_reply_surface,
    "cbfilters": cbfilters_surface,
    "store": store_surface,
}


def fuzz_all(count: int, seed: int, only: list[str] | None = None) -> list[Outcome]:
    logging.disable(logging.CRITICAL)  # the simulator logs each internal error; they are counted instead
    try:
        return [SURFACES[name](count, seed) for name in SURFACES if not only or name in only]
    finally:
        logging.disable(logging.NOTSET)


def figures(settings: Settings) -> list[Row]:
    """The bench harness's view: a smaller count per surface (the full run is ``python -m bench.fuzz``)."""
    count = 500 if settings.quick else 5000
    rows: list[Row] = []
    zero = Target.at_most(0, goal(9, "0 crashes, 0 hangs on every fuzzed surface"))
    for outcome in fuzz_all(count, seed=1):
        name = f"fuzz.{outcome.surface}"
        rows.append(Row("hardening.fuzz", f"{name} crashes", outcome.crashes, "count", zero,
                        note=outcome.first_crash))
        rows.append(Row("hardening.fuzz", f"{name} hangs", outcome.hangs, "count", zero))
        rows.append(Row("hardening.fuzz", f"{name} inputs/s", outcome.inputs / outcome.seconds, "/s"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_COUNT} inputs per surface")
    parser.add_argument("--count", type=int, help=f"inputs per surface (default {DEFAULT_COUNT})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=sorted(SURFACES))
    parser.add_argument("--heap", action="store_true",
                        help="also trace Python objects (tracemalloc, about 3x slower): growth of live objects")
    args = parser.parse_args(argv)
    if args.heap:
        tracemalloc.start()
    count = args.count or (QUICK_COUNT if args.quick else DEFAULT_COUNT)
    print(f"{'surface':<14} {'inputs':>8} {'crashes':>8} {'hangs':>6} {'inputs/s':>9} {'RSS MB':>8} {'growth':>7}"
          + (f" {'heap growth':>12}" if args.heap else ""))
    failed = False
    for name in SURFACES:
        if args.only and name not in args.only:
            continue
        [outcome] = fuzz_all(count, args.seed, [name])
        failed |= bool(outcome.crashes or outcome.hangs)
        print(f"{outcome.surface:<14} {outcome.inputs:>8} {outcome.crashes:>8} {outcome.hangs:>6} "
              f"{outcome.inputs / outcome.seconds:>9.0f} {outcome.rss_end_mb:>8.1f} {outcome.growth_mb:>+7.1f}"
              + (f" {outcome.heap_end_mb - outcome.heap_start_mb:>+9.3f} MB" if args.heap else ""), flush=True)
        if outcome.first_crash:
            print(f"    first crash: {outcome.first_crash}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
