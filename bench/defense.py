"""Issue 3's figures: what applying a System Defense filter set costs, and how fast the lockout check is.

``defense.apply`` (one registration, three measurements):

* **round trips** to apply a set of N filters on a device holding nothing of amtkit's, counted by the
  client's transport after the digest challenge is paid: the writes (goal: N filter creates + one
  policy create + one activation) and the reads (4 survey reads before writing: policies, both
  filter classes, activations; then the verification reads: policies, the filter classes used,
  activations). Re-applying the same set (nothing to write) is reported too.
* **time to apply a 20-filter set** against a simulator in its own process (so client and simulator
  do not share a GIL), median of several applies, each on a device without amtkit's policy (the
  previous one removed, unmeasured); replacing one 20-filter set by another is reported as context.
* **lockout check on an 80-filter set** (goal: under 10 ms): ``check_lockout`` of an 80-filter
  policy against the set's own promised flows plus the manager's remediation flows; and the whole
  offline plan of the largest set one AMT policy holds (62 filters: rewrite the manager, compile the
  set, check) as context.

Run alone with ``python -m bench.defense [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from ipaddress import ip_address, ip_network

from amtkit.client import Client
from amtkit.defense.cbfilters import FilterSet, Peer, PeerAllow, PeerRole
from amtkit.defense.engine import check_lockout, parse_manager_spec, remediation_flows
from amtkit.defense.model import (
    DefaultAction,
    EthernetFilter,
    EtherType,
    FilterDirection,
    FilterProfile,
    IPHeaderFilter,
    IPProtocol,
    PortRange,
)
from amtkit.defense.plan import prepare

from .framework import Row, Settings, Target, format_table
from .simproc import SimProcess

MANAGER = "10.0.0.5"
LOCKOUT_TARGET = Target("<=", 10.0)
SURVEY_READS = 4
"""Reads before writing: policies, IP filters, 802.1 filters, activations (idempotency, limits, ownership)."""
ROUND_TRIP_SIZES = (6, 20, 62)
"""6: just the manager and ARP; 62: the most one AMT policy holds."""


def filter_set(size: int, name: str = "bench") -> FilterSet:
    """A quarantine of exactly ``size`` filters: the manager (4), ARP (2), and inbound drops to fill."""
    manager = Peer(name="manager", role=PeerRole.MANAGEMENT, address=ip_network(f"{MANAGER}/32"),
                   allow=(PeerAllow(IPProtocol.TCP, (PortRange(443, 443), PortRange(50120, 50124))),))
    arp = [EthernetFilter(direction=d, profile=FilterProfile.PASS, ethertype=EtherType.ARP, name="arp")
           for d in FilterDirection]
    fill = [IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP_WITH_STATISTICS,
                           protocol=IPProtocol.TCP, dst_ports=PortRange.single(2000 + i), name=f"block{i}")
            for i in range(size - 6)]
    drop = DefaultAction(drop=True, count=True)
    return FilterSet(name=name, transmit_default=drop, receive_default=drop, precedence=50,
                     entries=(manager, *arp, *fill))


def _client(sim: SimProcess) -> Client:
    return Client(sim.address, port=sim.port, username=sim.username, password=sim.password)


def _round_trip_rows(client: Client) -> list[Row]:
    rows = []
    for size in ROUND_TRIP_SIZES:
        client.defense.remove()
        result = client.defense.apply(filter_set(size), manager=[MANAGER])
        writes = size + 2
        verification = result.round_trips - writes - SURVEY_READS
        rows.append(Row("defense.apply", f"round trips, apply {size} filters", result.round_trips, "requests",
                        Target("<=", writes + SURVEY_READS + 4),
                        f"{size} creates + policy + activation = {writes} writes, {verification} verification "
                        f"reads, and {SURVEY_READS} survey reads before writing"))
    again = client.defense.apply(filter_set(ROUND_TRIP_SIZES[-1]), manager=[MANAGER])
    rows.append(Row("defense.apply", "round trips, re-apply the same set", again.round_trips, "requests",
                    Target("<=", SURVEY_READS + 1), "idempotent: the survey reads and GetTimeout, nothing written"))
    return rows


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def _apply_time_rows(client: Client, runs: int) -> list[Row]:
    first, second = filter_set(20, "bench-a"), filter_set(20, "bench-b")
    fresh: list[float] = []
    replace: list[float] = []
    requests = 0
    for _ in range(runs):
        client.defense.remove()
        start = time.perf_counter()
        requests = client.defense.apply(first, manager=[MANAGER]).round_trips
        fresh.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.defense.apply(second, manager=[MANAGER])
        replace.append(time.perf_counter() - start)
    return [
        Row("defense.apply", "apply a 20-filter set", _median_ms(fresh), "ms", None,
            f"median of {runs}, simulator in another process, {requests} requests each"),
        Row("defense.apply", "replace a 20-filter set by another", _median_ms(replace), "ms", None,
            f"median of {runs}; adds deleting the previous activation, policy and 20 filters"),
    ]


def _timed(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def _lockout_rows(runs: int) -> list[Row]:
    spec = parse_manager_spec(MANAGER)
    fs = filter_set(80).with_manager(ip_address(MANAGER), spec.ports)
    policy = fs.to_policy()
    flows = [*fs.required_flows(), *remediation_flows(spec.address, spec.ports)]
    assert len(policy.filters) == 80 and not check_lockout(policy, flows)
    check = _timed(lambda: check_lockout(policy, flows), runs)
    largest = filter_set(62)  # the most one AMT policy holds, so the most an apply plans
    whole = _timed(lambda: prepare(largest, [MANAGER]), runs)
    return [
        Row("defense.lockout", "lockout check, 80-filter set", _median_ms(check), "ms", LOCKOUT_TARGET,
            f"{len(flows)} flows, median of {runs}; compiles the policy each call"),
        Row("defense.lockout", "offline plan, 62-filter set", _median_ms(whole), "ms", None,
            "rewrite manager + compile + check, as 'amtkit defense check' (62: the most one policy holds)"),
    ]


def figures(settings: Settings) -> list[Row]:
    """All of ``defense.apply``: round trips, 20-filter apply time, lockout check on 80 filters."""
    runs = 10 if settings.quick else 30
    with SimProcess() as sim, _client(sim) as client:
        client.defense.state()  # first contact pays the digest challenge
        rows = _round_trip_rows(client)
        rows += _apply_time_rows(client, runs)
    rows += _lockout_rows(100 if settings.quick else 500)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.defense", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    print(format_table(figures(Settings.for_run(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
