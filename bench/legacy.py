"""Issue 12's figures: what the requests transport and legacy SOAP cost per call, beside the built-in transport.

``legacy.calls``
    Against one simulated AMT 8.1 device in another process (it answers WS-Man and legacy SOAP on one
    port), measured in alternating blocks of one run so background load hits all alike:
    ``Client.get("AMT_GeneralSettings")`` over the built-in transport and over the requests transport
    (wall time p50 and client CPU per call, their ratio, and the simulator's HTTP requests per call:
    1.0 means the digest nonce is reused); and ``client.power.state()`` over WS-Man and over legacy
    SOAP (zeep, bundled WSDLs), with their ratio.
"""

from __future__ import annotations

from collections.abc import Callable

from amtkit.client import Client

from .framework import Latencies, Placement, Row, Settings, Target, goal, pinned
from .simproc import SimProcess, SimStats

CLASS = "AMT_GeneralSettings"
FIRMWARE = "8.1.40"
ROUND_TRIPS_TARGET = Target.at_most(1.0, goal(2, "one HTTP round trip per steady call (digest nonce reused)"))


def figures(settings: Settings) -> list[Row]:
    placement = Placement.choose()
    block = max(1, settings.calls // settings.rounds)
    builtin_get, requests_get, wsman_power, soap_power = Latencies(), Latencies(), Latencies(), Latencies()
    over_requests = SimStats.zero()
    with SimProcess(cpu=placement.server_cpu, amt_version=FIRMWARE) as sim, pinned(placement.client_cpu):
        def client(**options: object) -> Client:
            return Client(sim.address, port=sim.port, username=sim.username, password=sim.password,
                          **options)  # type: ignore[arg-type]

        builtin, via_requests = client(), client(transport="requests")
        wsman, soap = client(generation="wsman"), client(generation="eoi")
        calls: list[tuple[Latencies, Callable[[], object]]] = [
            (builtin_get, lambda: builtin.get(CLASS)),
            (requests_get, lambda: via_requests.get(CLASS)),
            (wsman_power, wsman.power.state),
            (soap_power, soap.power.state),
        ]
        try:
            for _ in range(settings.warmup // 4):
                for _latencies, call in calls:
                    call()
            for _ in range(settings.rounds):
                for latencies, call in calls:
                    before = sim.stats()
                    latencies.measure(call, block // 4)
                    if latencies is requests_get:
                        over_requests = over_requests.plus(sim.stats().minus(before))
        finally:
            for each in (builtin, via_requests, wsman, soap):
                each.close()
    name = "legacy.calls"
    measured = block // 4 * settings.rounds
    return [
        builtin_get.row(name, "Client.get, built-in transport (p50)", note=builtin_get.describe_ms()),
        requests_get.row(name, "Client.get, requests transport (p50)", note=requests_get.describe_ms()),
        Row(name, "requests / built-in", requests_get.percentile(0.5) / builtin_get.percentile(0.5), "x",
            better="lower", note="p50 over p50, same run, alternating blocks"),
        Row(name, "requests / built-in, client CPU", requests_get.cpu_per_call / builtin_get.cpu_per_call, "x",
            better="lower", note="client CPU per call over the built-in transport's"),
        Row(name, "HTTP requests per Get, requests transport", over_requests.http_requests / measured,
            "req/call", ROUND_TRIPS_TARGET,
            note=f"{over_requests.http_requests} requests, {over_requests.auth_challenges} 401s for {measured} calls"),
        wsman_power.row(name, "power.state() over WS-Man (p50)", note=wsman_power.describe_ms()),
        soap_power.row(name, "power.state() over legacy SOAP (p50)", note=soap_power.describe_ms()),
        Row(name, "legacy SOAP / WS-Man, power.state()", soap_power.percentile(0.5) / wsman_power.percentile(0.5),
            "x", better="lower", note=f"zeep over requests vs the built-in transport; AMT {FIRMWARE} simulated; "
            f"{placement.describe()}"),
    ]
