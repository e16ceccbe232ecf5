"""Issue 3's figures: what applying a System Defense filter set costs, and how fast the lockout check is.

``defense.apply`` (one registration, three measurements):

* **round trips** to apply a set of N filters on a device holding nothing of amtkit's, counted by the
  client's transport after the digest challenge is paid, against the fewest the protocol allows
  for the job (:func:`fewest_round_trips`, argued in docs/benchmarks.md#system-defense-round-trips):
  N filter Creates, the policy Create, the activation Create, 3 reads before writing (policies and
  both filter classes: AMT's limits are checked before sending) and 2 + C reads to verify (the
  policy, the C filter classes the set uses, the activations). Re-applying the same set is
  judged against its own minimum (:func:`fewest_round_trips_again`).
* **time to apply a 20-filter set** against a simulator in its own process (so client and simulator
  do not share a GIL), median of several applies, each on a device without amtkit's policy (the
  previous one removed, unmeasured), with the client's CPU per apply beside it; replacing one
  20-filter set by another is reported as context.
* **lockout check on an 80-filter set** (issue #3's goal: under 10 ms): ``check_lockout`` of an 80-filter
  policy against the set's own promised flows plus the manager's remediation flows; and the whole
  offline plan of the largest set one AMT policy holds (62 filters: rewrite the manager, compile the
  set, check) as context.

Run alone with ``python -m bench.defense [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
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

from .framework import Latencies, Row, Settings, Target, goal, minimum, timed
from .record import rows_table
from .simproc import SimProcess

MANAGER = "10.0.0.5"
LOCKOUT_TARGET = Target.at_most(10.0, goal(3, "lockout check of an 80-filter set under 10 ms"))
ROUND_TRIP_SIZES = (6, 20, 62)
"""6: just the manager and ARP; 62: the most one AMT policy holds."""
ROUND_TRIPS_ARGUED = "system-defense-round-trips"
"""Where docs/benchmarks.md argues the minimum round trips."""
FILTER_CLASSES = 2
"""AMT keeps filters in two classes (AMT_IPHeadersFilter, AMT_Hdr8021Filter), enumerated separately."""


def fewest_round_trips(filters: int, classes_used: int) -> int:
    """The fewest WS-Man round trips that apply ``filters`` filters (of ``classes_used`` filter classes)
    to a device holding nothing of amtkit's, as docs/benchmarks.md#system-defense-round-trips argues.

    Writes: one Create per filter (WS-Transfer Create makes one resource), the policy Create, the
    activation Create. Reads before writing: the policies (is amtkit's set there? how many policies?)
    and both filter classes (AMT's 80-filter limit counts every filter, checked before sending).
    Reads to verify: the policy, each filter class the set uses, and the activations.
    """
    writes = filters + 1 + 1
    survey = 1 + FILTER_CLASSES
    verify = 1 + classes_used + 1
    return writes + survey + verify


def fewest_round_trips_again(classes_used: int) -> int:
    """The fewest round trips of re-applying the set amtkit already applied (nothing to write):
    the policies, the filter classes the set uses and the activations to see that the same set is
    there and in force, and one timeout call (the timeout is not a property, so a timeout left from
    before is only found with GetTimeout, or cleared blindly with SetTimeout)."""
    return 1 + classes_used + 1 + 1


def classes_used(filters: FilterSet) -> int:
    """How many of AMT's filter classes a set's filters fall in (Ethernet and IP header filters)."""
    return len({type(f) for f in filters.to_policy().filters})


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
        filters = filter_set(size)
        result = client.defense.apply(filters, manager=[MANAGER])
        fewest = fewest_round_trips(size, classes_used(filters))
        rows.append(Row("defense.apply", f"round trips, apply {size} filters", result.round_trips, "requests",
                        Target.at_most(fewest, minimum(ROUND_TRIPS_ARGUED, f"N + 2 writes + 3 survey + 2 + C "
                                                       f"verification reads, N={size}, C={classes_used(filters)}")),
                        f"{result.round_trips - fewest:+d} against the fewest the protocol allows ({fewest})"))
    largest = filter_set(ROUND_TRIP_SIZES[-1])
    again = client.defense.apply(largest, manager=[MANAGER])
    fewest = fewest_round_trips_again(classes_used(largest))
    rows.append(Row("defense.apply", "round trips, re-apply the same set", again.round_trips, "requests",
                    Target.at_most(fewest, minimum(ROUND_TRIPS_ARGUED, "policies + C filter classes + "
                                                   "activations + timeout")),
                    f"nothing written; {again.round_trips - fewest:+d} against the fewest ({fewest})"))
    return rows


def _apply_time_rows(client: Client, runs: int) -> list[Row]:
    first, second = filter_set(20, "bench-a"), filter_set(20, "bench-b")
    fresh, replace = Latencies(), Latencies()
    requests = 0

    def apply_first() -> None:
        nonlocal requests
        requests = client.defense.apply(first, manager=[MANAGER]).round_trips

    for _ in range(runs):
        client.defense.remove()
        fresh.measure(apply_first, 1)
        replace.measure(lambda: client.defense.apply(second, manager=[MANAGER]), 1)
    return [
        fresh.row("defense.apply", "apply a 20-filter set",
                  note=f"median of {runs}, simulator in another process, {requests} requests each"),
        replace.row("defense.apply", "replace a 20-filter set by another",
                    note=f"median of {runs}; adds deleting the previous activation, policy and 20 filters"),
    ]


def _lockout_rows(runs: int) -> list[Row]:
    spec = parse_manager_spec(MANAGER)
    fs = filter_set(80).with_manager(ip_address(MANAGER), spec.ports)
    policy = fs.to_policy()
    flows = [*fs.required_flows(), *remediation_flows(spec.address, spec.ports)]
    assert len(policy.filters) == 80 and not check_lockout(policy, flows)
    check = timed(lambda: check_lockout(policy, flows), runs)
    largest = filter_set(62)  # the most one AMT policy holds, so the most an apply plans
    whole = timed(lambda: prepare(largest, [MANAGER]), runs)
    return [
        check.row("defense.lockout", "lockout check, 80-filter set", target=LOCKOUT_TARGET,
                  note=f"{len(flows)} flows, median of {runs}; compiles the policy each call"),
        whole.row("defense.lockout", "offline plan, 62-filter set",
                  note="rewrite manager + compile + check, as 'amtkit defense check' (62: the most one policy holds)"),
    ]


def figures(settings: Settings) -> list[Row]:
    """All of ``defense.apply``: round trips, 20-filter apply time, lockout check on 80 filters."""
    runs = 5 if settings.quick else 10  # per repetition; the harness repeats
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
    print(rows_table(figures(Settings.for_run(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
