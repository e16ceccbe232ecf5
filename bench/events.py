"""Issue 11's figures: the manager under 1,000 devices pushing at once, and reading a full event log.

* **alerts stored per second**: a child process simulates ``devices`` machines (1,000; 200 with
  ``--quick``), each subscribed to amtkit's manager (this process, its own event loop thread, digest
  authentication, a store file with WAL) the way ``events subscribe`` leaves it. Every device first
  sends one alert (connection, digest challenge), then ``burst`` alerts at once (5 each); the figure is
  alerts stored divided by the time from the burst's start to the last commit. Simulator and manager
  run on the two CPUs of the machine (the issue's "simulator included").
* **nothing lost, nothing doubled**: stored rows against alerts raised, per device, with distinct keys;
  and the manager's duplicate count. Both must be 0 in every repetition.
* **delay from event to stored record**: each row's commit time minus the alert's own time (the
  simulated firmware stamps it when the event happens, in milliseconds): p50 and p99.
* **full event log read**: one device holding 390 records; ``client.events.records()`` reads them
  all: round trips (one GetRecords of 390) and wall time, with client CPU.

Run alone with ``python -m bench.events [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from .framework import Latencies, Placement, Row, Settings, Target, cpu_seconds, goal, minimum, pinned
from .record import rows_table
from .simproc import ADDRESS, PASSWORD, USERNAME, ChildProcess

RATE_TARGET = Target.at_least(3000, goal(11, "at least 3,000 alerts/s stored from 1,000 devices, simulator included"))
LOST_TARGET = Target.at_most(0, goal(11, "nothing lost"), every_run=True)
DOUBLED_TARGET = Target.at_most(0, goal(11, "nothing duplicated"), every_run=True)
ROUND_TRIP_TARGET = Target.at_most(1, minimum("event-log-round-trips", "one GetRecords carries all 390 records"))
LISTENER_USER = "amt"
LISTENER_PASSWORD = "bench-listener"
WAIT = 120.0


class FleetSim(ChildProcess):
    """The simulated devices in their child process."""

    def __init__(self, devices: int, manager_url: str, cpu: int | None, log_records: int = 0) -> None:
        command = [sys.executable, "-m", "bench.events", "--serve", "--devices", str(devices), "--manager",
                   manager_url, "--log-records", str(log_records)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        super().__init__(command, start_timeout=120)
        self.port = int(str(self.ready["port"]))

    def fire(self, count: int) -> float:
        """Every device raises ``count`` events now; the wall time the burst started."""
        self._command(f"fire {count}")
        return float(json.loads(self._line())["started"])

    def stats(self) -> dict[str, float]:
        self._command("stats")
        return dict(json.loads(self._line()))


def figures(settings: Settings) -> list[Row]:
    return [*_push_figures(settings), *_log_read_figures(settings)]


def _push_figures(settings: Settings) -> list[Row]:
    from amtkit.events.manager import Manager, ManagerThread
    from amtkit.store import Store

    devices = 200 if settings.quick else 1000
    burst = 5
    placement = Placement.choose()
    name = "events.manager"
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "alerts.db") as store, \
            pinned(placement.client_cpu):
        manager = Manager(store, host=ADDRESS, port=0, users={LISTENER_USER: LISTENER_PASSWORD})
        with ManagerThread(manager) as running, FleetSim(devices, running.url, placement.server_cpu) as fleet:
            fleet.fire(1)  # connections and digest challenges: the steady state starts after
            if not running.wait_for_stored(devices, WAIT):
                raise RuntimeError(f"warm-up: {running.stats.stored} of {devices} alerts stored")
            before = fleet.stats()
            cpu_before = cpu_seconds()
            started = fleet.fire(burst)
            expected = devices * (burst + 1)
            running.wait_for_stored(expected, WAIT)
            manager_cpu = cpu_seconds() - cpu_before
            sim = fleet.stats()
            commits = manager.batches
        stats = manager.stats
        rows = store.query("SELECT device, key, time, stored_at FROM alert")
    per_device: dict[str, int] = {}
    for row in rows:
        per_device[row["device"]] = per_device.get(row["device"], 0) + 1
    lost = max(0, expected - len({row["key"] for row in rows}))
    doubled = stats.duplicates + (len(rows) - len({row["key"] for row in rows}))
    burst_rows = [row for row in rows if _epoch(row["time"]) >= started]
    last_commit = max(_epoch(row["stored_at"]) for row in burst_rows)
    rate = len(burst_rows) / (last_commit - started)
    delays = sorted((_epoch(row["stored_at"]) - _epoch(row["time"])) * 1e3 for row in burst_rows)
    uneven = sum(1 for n in per_device.values() if n != burst + 1) + (devices - len(per_device))
    note = (f"{devices} devices x {burst} alerts at once, digest, one store writer; {placement.describe()}; "
            f"{commits} commits in all")
    return [
        Row(name, f"alerts stored per second, {devices} devices pushing at once", rate, "/s", RATE_TARGET, note),
        Row(name, "alerts lost", lost, "alerts", LOST_TARGET,
            f"stored {len(rows)} of {expected}; devices with another count than {burst + 1}: {uneven}"),
        Row(name, "alerts stored twice", doubled, "alerts", DOUBLED_TARGET,
            f"manager saw {stats.duplicates} resent; simulator dropped {int(sim['dropped'])}"),
        Row(name, "delay from event to stored record p50", _percentile(delays, 0.5), "ms", better="lower",
            note="commit time minus the alert's own time (ms precision)"),
        Row(name, "delay from event to stored record p99", _percentile(delays, 0.99), "ms", better="lower",
            note="same alerts"),
        Row(name, "simulator CPU per alert", (sim["cpu"] - before["cpu"]) / (devices * burst) * 1e6, "us",
            better="lower", note="the child's user+system CPU during the burst (building and posting alerts)"),
        Row(name, "manager CPU per alert", manager_cpu / (devices * burst) * 1e6, "us", better="lower",
            note="this process's CPU during the burst (receiving, authenticating, parsing, storing)"),
    ]


def _log_read_figures(settings: Settings) -> list[Row]:
    from amtkit.client import Client

    reads = 30 if settings.quick else 200
    placement = Placement.choose()
    name = "events.log"
    with FleetSim(1, "", placement.server_cpu, log_records=400) as device, pinned(placement.client_cpu), \
            Client(str(device.ready["address"]), port=device.port, username=USERNAME, password=PASSWORD) as client:
        records = client.events.records()
        if len(records) != 390:
            raise RuntimeError(f"the full log holds {len(records)} records, not 390")
        before = client.transport.round_trips
        latencies = Latencies()
        latencies.measure(client.events.records, reads)
        round_trips = (client.transport.round_trips - before) / reads
    return [
        Row(name, "round trips to read a full 390-record event log", round_trips, "requests", ROUND_TRIP_TARGET,
            "GetRecords(1, 390) once; digest already answered"),
        latencies.row(name, "time to read and decode a full 390-record event log",
                      note=f"n={reads}; {placement.describe()}"),
    ]


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(fraction * (len(values) - 1))))]


# -- the child -----------------------------------------------------------------------------------

def _address(number: int) -> str:
    return f"127.1.{number // 250}.{number % 250 + 2}"


def _serve(devices: int, manager_url: str, log_records: int, cpu: int | None) -> None:
    from amtkit.events.subscriptions import AlertFilter, DeliveryMode
    from amtkit.wsman import names
    from amtsim.backends.eventing import eventing_of
    from amtsim.config import DeviceConfig, Timing
    from amtsim.control import DeviceControl
    from amtsim.server import Simulator, free_port

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    address = ADDRESS if devices == 1 else _address(0)
    port = free_port(address)
    timing = Timing(power_transition=0, power_off_phase=0, alert_retry_interval=0.5)
    with Simulator() as simulator:
        controls = []
        for number in range(devices):
            config = DeviceConfig(name=f"bench-{number}", address=ADDRESS if devices == 1 else _address(number),
                                  http_port=port, tls_port=None, username=USERNAME, password=PASSWORD, timing=timing)
            device = simulator.add_device(config)
            controls.append(DeviceControl(device))
            if manager_url:
                with device.lock:
                    eventing_of(device).subscribe(
                        AlertFilter.ALL.value, manager_url, DeliveryMode.PUSH, reference={"Device": config.name},
                        credentials=(LISTENER_USER, LISTENER_PASSWORD), auth_profile=names.DIGEST_SECURITY_PROFILE,
                        expires=None)
        if log_records:
            controls[0].raise_events(log_records)
        print(json.dumps({"address": address, "port": port}), flush=True)
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "fire":
                started = time.time()
                for control in controls:
                    control.raise_events(int(argument))
                print(json.dumps({"started": started}), flush=True)
            elif command == "stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                subscribers = [s for d in simulator.devices for s in eventing_of(d).listeners.values()]
                print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime,
                                  "delivered": sum(s.delivered for s in subscribers),
                                  "dropped": sum(s.dropped for s in subscribers)}), flush=True)
            elif command == "quit":
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="alert manager throughput and event log reads (see module docs)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--devices", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--manager", default="", help=argparse.SUPPRESS)
    parser.add_argument("--log-records", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.devices, args.manager, args.log_records, args.cpu)
        return 0
    print(rows_table(figures(Settings.for_run(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

