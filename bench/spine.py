"""Issue 2's figures: the cost of one WS-Man call through amtkit, and what the simulator serves.

``spine.get``
    Steady-state ``Client.get("AMT_GeneralSettings")`` latency against a simulator in another
    process, next to a bare-socket baseline doing the same Get (pre-signed request, kept-alive
    connection, reply read to its last chunk) and to ``Transport.post`` alone (the HTTP layer
    without building or parsing), measured in alternating blocks of one run so background load
    hits all three alike; the amtkit/baseline ratio; and the HTTP requests the *simulator*
    received per amtkit call (1.0: the digest nonce is reused, no call pays a 401 round trip).
``spine.throughput``
    Authenticated Gets per second the simulator serves pinned to one CPU, driven by a load
    generator process on the other CPU over several kept-alive connections.
``spine.layers``
    CPU per call of each sans-IO layer, no network: where a Get's time goes on either side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

from amtkit.client import Client
from amtkit.http.digest import Challenge, Credentials, authorization_header
from amtkit.wsman import names
from amtkit.wsman.requests import build_get
from amtkit.wsman.responses import parse_response

from .framework import ROOT, Latencies, Placement, Row, Settings, Target, cpu_seconds, pinned
from .loadgen import LoadPlan, LoadResult
from .rawhttp import NC_PER_NONCE, BaselineGet
from .simproc import SimProcess, SimStats

CLASS = "AMT_GeneralSettings"
LATENCY_RATIO_TARGET = Target("<=", 2.0)
ROUND_TRIPS_TARGET = Target("<=", 1.0)
THROUGHPUT_TARGET = Target(">=", 1500.0)


class _Measured:
    """Per-call wall times and the CPU this process spent, over all blocks of one kind of call."""

    def __init__(self) -> None:
        self.times = Latencies()
        self.cpu = 0.0

    def block(self, call: Callable[[], object], count: int) -> None:
        samples = []
        clock = time.perf_counter
        cpu_before = cpu_seconds()
        for _ in range(count):
            start = clock()
            call()
            samples.append(clock() - start)
        self.cpu += cpu_seconds() - cpu_before
        self.times.add(samples)

    def cpu_per_call_us(self) -> float:
        return self.cpu / len(self.times.seconds) * 1e6


def get_latency(settings: Settings) -> list[Row]:
    placement = Placement.choose()
    block = max(1, settings.calls // settings.rounds)
    calls = block * settings.rounds
    if settings.warmup + calls > NC_PER_NONCE:
        raise ValueError(f"warm-up + calls must fit one nonce ({NC_PER_NONCE})")
    client_get, transport_post, baseline_get = _Measured(), _Measured(), _Measured()
    server = SimStats.zero()
    with SimProcess(cpu=placement.server_cpu) as sim, pinned(placement.client_cpu):
        client = _client(sim)
        transport = _client(sim).transport  # its own connection and nonce
        envelope = build_get(names.resource_uri(CLASS))
        baseline = BaselineGet(sim.address, sim.port, Credentials(sim.username, sim.password),
                               settings.warmup + calls, CLASS)

        def amtkit_get() -> object:
            return client.get(CLASS)

        def bare_post() -> object:
            return transport.post(envelope, idempotent=True)

        try:
            for _ in range(settings.warmup):
                amtkit_get()
                bare_post()
                baseline.call()
            for _ in range(settings.rounds):
                before = sim.stats()
                client_get.block(amtkit_get, block)
                server = server.plus(sim.stats().minus(before))
                transport_post.block(bare_post, block)
                baseline_get.block(baseline.call, block)
        finally:
            client.close()
            transport.close()
            baseline.close()
    name = "spine.get"
    ratio = client_get.times.percentile(0.5) / baseline_get.times.percentile(0.5)
    return [
        Row(name, "Client.get latency (p50)", client_get.times.percentile(0.5) * 1e3, "ms",
            note=client_get.times.describe_ms()),
        Row(name, "  of which Transport.post alone (p50)", transport_post.times.percentile(0.5) * 1e3, "ms",
            note="same Get, envelope prebuilt, reply not parsed"),
        Row(name, "raw-socket Get baseline (p50)", baseline_get.times.percentile(0.5) * 1e3, "ms",
            note=baseline_get.times.describe_ms()),
        Row(name, "Client.get / baseline", ratio, "x", LATENCY_RATIO_TARGET,
            note="p50 over p50, same run, alternating blocks"),
        Row(name, "HTTP requests per Get (simulator count)", server.http_requests / calls, "req/call",
            ROUND_TRIPS_TARGET,
            note=f"{server.http_requests} requests, {server.auth_challenges} 401s for {calls} calls"),
        Row(name, "client CPU per Client.get", client_get.cpu_per_call_us(), "us",
            note="getrusage, bench process"),
        Row(name, "client CPU per Transport.post", transport_post.cpu_per_call_us(), "us",
            note="getrusage, bench process"),
        Row(name, "client CPU per baseline Get", baseline_get.cpu_per_call_us(), "us",
            note="getrusage, bench process"),
        Row(name, "simulator CPU per Get", server.cpu_seconds / max(1, server.http_requests) * 1e6, "us",
            note=f"getrusage of the simulator process; {placement.describe()}"),
    ]


def _client(sim: SimProcess) -> Client:
    return Client(sim.address, port=sim.port, username=sim.username, password=sim.password)


def throughput(settings: Settings) -> list[Row]:
    placement = Placement.choose()
    with SimProcess(cpu=placement.server_cpu) as sim:
        plan = LoadPlan(sim.address, sim.port, sim.username, sim.password, settings.connections,
                        settings.duration, settings.ramp_up, cpu=placement.client_cpu, class_name=CLASS)
        before = sim.stats()
        result = _run_load(plan)
        server = sim.stats().minus(before)
    name = "spine.throughput"
    load_share = result.cpu_seconds / result.wall_seconds if result.wall_seconds else 0.0
    cpu_per_request = server.cpu_seconds / max(1, server.http_requests)
    # The simulator idles before and after the load, so its CPU over the generator's run is its busy share.
    server_share = server.cpu_seconds / result.wall_seconds if result.wall_seconds else 0.0
    return [
        Row(name, "authenticated Gets/s, simulator on one core", result.per_second, "req/s",
            THROUGHPUT_TARGET,
            note=f"{plan.connections} kept-alive connections, {result.window_seconds:.1f} s window, "
            f"{result.errors} errors; {placement.describe()}"),
        Row(name, "simulator CPU per request", cpu_per_request * 1e6, "us",
            note=f"{server.http_requests} requests incl. {server.auth_challenges} 401s for nonces"),
        Row(name, "simulator CPU use", server_share * 100, "%", note=_busy_note(server_share)),
        Row(name, "load generator CPU use", load_share * 100, "%",
            note="of one core; well below 100 = not the limit"),
    ]


def _busy_note(share: float) -> str:
    if share >= 0.9:
        return "of its one core: ~100 = the simulator was the limit"
    return "of its one core: not saturated, so the generator or other load on the machine set the pace"


def _run_load(plan: LoadPlan) -> LoadResult:
    timeout = plan.ramp_up + plan.duration + 60
    completed = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", json.dumps(asdict(plan))],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{completed.stderr.strip()}")
    return LoadResult(**json.loads(completed.stdout.strip().splitlines()[-1]))


# -- layers --------------------------------------------------------------------------------------

def _cpu_per_call_us(call: Callable[[], object], count: int) -> float:
    for _ in range(max(1, count // 10)):
        call()
    before = cpu_seconds()
    for _ in range(count):
        call()
    return (cpu_seconds() - before) / count * 1e6


def layers(settings: Settings) -> list[Row]:
    """The sans-IO work of one Get on each side, timed alone (no sockets, one process)."""
    from amtsim.config import DeviceConfig
    from amtsim.device import SimulatedDevice
    from amtsim.dispatch import dispatch_wsman

    count = min(settings.calls, NC_PER_NONCE // 2)  # the server-side digest check uses up one nc per call
    device = SimulatedDevice(DeviceConfig(name="bench", http_port=0, tls_port=None))
    credentials = Credentials(device.config.username, device.config.password)
    uri = names.resource_uri(CLASS)
    envelope = build_get(uri)
    reply = dispatch_wsman(device, envelope).body
    challenge = Challenge(device.accounts.realm, device.accounts.new_nonce())
    signed = iter([authorization_header(credentials, challenge, method="POST", uri="/wsman", nc=nc)
                   for nc in range(1, count + count // 10 + 2)])
    name = "spine.layers"
    return [
        Row(name, "client: build_get envelope", _cpu_per_call_us(lambda: build_get(uri), count), "us"),
        Row(name, "client: digest Authorization header", _cpu_per_call_us(lambda: authorization_header(
            credentials, challenge, method="POST", uri="/wsman", nc=1), count), "us"),
        Row(name, "client: parse_response + instance()",
            _cpu_per_call_us(lambda: parse_response(reply).instance(), count), "us",
            note=f"{len(reply)}-byte AMT_GeneralSettings reply"),
        Row(name, "simulator: digest check", _cpu_per_call_us(
            lambda: device.accounts.verify(next(signed), "POST", "/wsman"), count), "us"),
        Row(name, "simulator: dispatch_wsman (parse, handler, reply)",
            _cpu_per_call_us(lambda: dispatch_wsman(device, envelope), count), "us"),
    ]
