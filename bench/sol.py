"""Issue 10's Serial-over-LAN figures: how long one keystroke takes to come back, and how fast the host's
console output reaches amtkit.

A simulated device runs in a child process (``python -m bench.sol --serve``, pinned to one CPU when
there are two); amtkit's SOL client runs here, logged in to the host's shell over a real session
(digest authentication, ``StartSOLRedirection`` with MeshCommander's settings, heartbeats).

* **keystroke round trip**: one character written (a 0x28 message), timed until the host's echo of it
  is read back (a 0x2A message): wall time p50 and p99 over many keystrokes, client CPU beside it.
  The simulated firmware forwards host output as soon as it is printed; real AMT waits up to the
  console's transmit timeout (100 ms with MeshCommander's settings) to fill its buffer, so on hardware
  that timeout, not amtkit, dominates.
* **console output throughput**: the host prints N bytes at once (the control API's
  ``print_on_host``, as a flood of boot text would); amtkit reads them all: MB/s from the first byte
  printed to the last byte read, and the client CPU per MB.  The SOL byte rate of real AMT is its
  serial line's (115200 baud is 11.5 KB/s): the client must be orders of magnitude faster.

Run alone with ``python -m bench.sol [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

from .framework import Latencies, Placement, Row, Settings, Target, cpu_seconds, goal, pinned
from .record import rows_table
from .simproc import ADDRESS, PASSWORD, USERNAME, ChildProcess

ROUND_TRIP_TARGET = Target.at_most(5.0, goal(10, "a keystroke comes back well within a human's notice (5 ms)"))
THROUGHPUT_TARGET = Target.at_least(10.0, goal(10, "console output at 10 MB/s or more, ~1000x a 115200-baud line"))
MB = 1 << 20
WAIT = 60.0


class SOLDevice(ChildProcess):
    """The simulated device in its child process."""

    def __init__(self, cpu: int | None) -> None:
        command = [sys.executable, "-m", "bench.sol", "--serve"]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        super().__init__(command)
        self.port = int(str(self.ready["port"]))
        self.redirection_port = int(str(self.ready["redirection_port"]))

    def flood(self, size: int) -> float:
        """Make the host print ``size`` bytes; the child's clock when it started (time.perf_counter is
        system-wide monotonic on Linux, so the two processes' readings compare)."""
        self._command(f"flood {size}")
        return float(json.loads(self._line())["started"])


def figures(settings: Settings) -> list[Row]:
    from amtkit.client import Client

    keystrokes = 300 if settings.quick else 2000
    flood = (8 if settings.quick else 64) * MB
    placement = Placement.choose()
    name = "sol.console"
    with SOLDevice(placement.server_cpu) as device, pinned(placement.client_cpu), \
            Client(ADDRESS, port=device.port, username=USERNAME, password=PASSWORD) as client:
        client.sol.port = device.redirection_port
        with client.sol.session() as console:
            _log_in(console)
            latencies = _round_trips(console, keystrokes)
            cpu_before = cpu_seconds()
            started = device.flood(flood)
            received = 0
            while received < flood:
                received += len(console.read(timeout=WAIT))
            seconds = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_before
    return [
        latencies.row(name, "keystroke round trip p50", target=ROUND_TRIP_TARGET,
                      note=f"one key written, its echo read back; n={keystrokes}; {placement.describe()}"),
        Row(name, "keystroke round trip p99", latencies.percentile(0.99) * 1e3, "ms", better="lower",
            note="same keystrokes"),
        Row(name, f"console output throughput, {flood // MB} MB printed", flood / MB / seconds, "MB/s",
            THROUGHPUT_TARGET, note="host prints at once, 10000-byte SOL messages (MeshCommander's MaxTxBuffer)"),
        Row(name, "client CPU per MB of console output", cpu / (flood / MB) * 1e3, "ms",
            note="reader thread and reads of this process"),
    ]


def _log_in(console) -> None:  # type: ignore[no-untyped-def]
    console.write(b"\r")
    console.read_until(b"login: ", WAIT)
    console.write(b"bench\r")
    console.read_until(b"Password: ", WAIT)
    console.write(b"amtsim\r")
    console.read_until(b"$ ", WAIT)


def _round_trips(console, count: int) -> Latencies:  # type: ignore[no-untyped-def]
    latencies = Latencies()
    keys = b"abcdefghij"

    def one(key: bytes) -> None:
        console.write(key)
        console.read_until(key, WAIT)

    for block in range(0, count, 100):
        key = keys[block // 100 % len(keys):][:1]
        latencies.measure(lambda key=key: one(key), min(100, count - block))  # type: ignore[misc]
        console.write(b"\x03")  # Ctrl-C: drop the typed line, back to a clean prompt
        console.read_until(b"$ ", WAIT)
    return latencies


# -- the child -----------------------------------------------------------------------------------

def _serve(cpu: int | None) -> None:
    from amtsim.config import DeviceConfig, Timing
    from amtsim.control import DeviceControl
    from amtsim.server import Simulator

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    config = DeviceConfig(name="bench", address=ADDRESS, http_port=0, tls_port=None, redirection_port=0,
                          username=USERNAME, password=PASSWORD, timing=Timing(power_transition=0, power_off_phase=0))
    with Simulator() as simulator:
        control = DeviceControl(simulator.add_device(config))
        print(json.dumps({"port": config.http_port, "redirection_port": config.redirection_port}), flush=True)
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "flood":
                size = int(argument)
                started = time.perf_counter()
                block = ("amtsim boot text " * 4096)[:65536]
                for _ in range(size // len(block)):
                    control.print_on_host(block)
                control.print_on_host(block[: size % len(block)])
                usage = resource.getrusage(resource.RUSAGE_SELF)
                print(json.dumps({"started": started, "cpu": usage.ru_utime + usage.ru_stime}), flush=True)
            elif command == "quit":
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SOL keystroke round trip and console throughput (see module docs)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.cpu)
        return 0
    print(rows_table(figures(Settings.for_run(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
