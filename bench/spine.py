"""Issue 2's figures: the cost of one WS-Man call through amtkit, and what the simulator serves.

``spine.get``
    Steady-state ``Client.get("AMT_GeneralSettings")`` latency against a simulator in another
    process, next to a bare-socket baseline doing the same Get (pre-signed request, kept-alive
    connection, reply read to its last chunk) and to ``Transport.post`` alone (the HTTP layer
    without building or parsing), measured in alternating blocks of one run so background load
    hits all three alike, each with the client's CPU per call beside it; the amtkit/baseline
    ratios of wall time and of client CPU; and the HTTP requests the *simulator* received per
    amtkit call (1.0: the digest nonce is reused, no call pays a 401 round trip).
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
from collections.abc import Callable
from dataclasses import asdict

from amtkit.client import Client
from amtkit.http.digest import Challenge, Credentials, authorization_header
from amtkit.wsman import names
from amtkit.wsman.requests import build_get
from amtkit.wsman.responses import parse_response

from .framework import ROOT, Latencies, Placement, Row, Settings, Target, cpu_seconds, goal, pinned
from .loadgen import LoadPlan, LoadResult
from .rawhttp import NC_PER_NONCE, BaselineGet
from .simproc import SimProcess, SimStats

CLASS = "AMT_GeneralSettings"
LATENCY_RATIO_TARGET = Target.at_most(2.0, goal(2, "a steady Client.get within 2x the bare-socket Get"))
ROUND_TRIPS_TARGET = Target.at_most(1.0, goal(2, "one HTTP round trip per steady call (digest nonce reused)"))
THROUGHPUT_TARGET = Target.at_least(1500.0, goal(2, "the simulator serves 1500 authenticated Gets/s on one core"))


def get_latency(settings: Settings) -> list[Row]:
    placement = Placement.choose()
    block = max(1, settings.calls // settings.rounds)
    calls = block * settings.rounds
    if settings.warmup + calls > NC_PER_NONCE:
        raise ValueError(f"warm-up + calls must fit one nonce ({NC_PER_NONCE})")
    client_get, transport_post, baseline_get = Latencies(), Latencies(), Latencies()
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
                client_get.measure(amtkit_get, block)
                server = server.plus(sim.stats().minus(before))
                transport_post.measure(bare_post, block)
                baseline_get.measure(baseline.call, block)
        finally:
            client.close()
            transport.close()
            baseline.close()
    name = "spine.get"
    ratio = client_get.percentile(0.5) / baseline_get.percentile(0.5)
    cpu_ratio = client_get.cpu_per_call / baseline_get.cpu_per_call
    return [
        client_get.row(name, "Client.get latency (p50)", note=client_get.describe_ms()),
        transport_post.row(name, "  of which Transport.post alone (p50)",
                           note="same Get, envelope prebuilt, reply not parsed"),
        baseline_get.row(name, "raw-socket Get baseline (p50)", note=baseline_get.describe_ms()),
        Row(name, "Client.get / baseline", ratio, "x", LATENCY_RATIO_TARGET,
            note="p50 over p50, same run, alternating blocks"),
        Row(name, "Client.get / baseline, client CPU", cpu_ratio, "x", better="lower",
            note="client CPU per call over the baseline's: what the latency ratio hides"),
        Row(name, "HTTP requests per Get (simulator count)", server.http_requests / calls, "req/call",
            ROUND_TRIPS_TARGET,
            note=f"{server.http_requests} requests, {server.auth_challenges} 401s for {calls} calls"),
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
