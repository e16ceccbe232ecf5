"""Issue 4's figures: how fast amtkit serves an image over IDE-R, and what that costs the console in memory.

``ider.transfer`` serves sparse image files (made with ``truncate``: 64 MB and 256 MB, or 16 and 64
MB with ``--quick``) from a console in a child process (its own GIL, pinned to one CPU when there
are two) to a simulated device in this process (its event loop pinned to the other CPU), over
loopback, through a real IDE-R session: digest authentication, the 0x40 open (the firmware
announces an 8192-byte read buffer, as AMT does), a one-time IDE-R boot set over WS-Man and a reset.

What the simulated firmware does is **not** a BIOS boot: a BIOS reads a few hundred kilobytes.  The
device is armed through the control API (``DeviceControl.arm_sequential_read``) so that its next
IDE-R "boot" reads the whole drive from block 0 in READ(10) commands of 512 blocks (1 MB), keeping
nothing (:class:`amtsim.bios.SequentialRead`).  Every byte still crosses the wire in 0x54
messages of at most 8 KB that the firmware decodes, checks (sequence, size) and counts.

* **throughput**: image bytes over the firmware's time from its first command to the last reply
  (goal: at least 50 MB/s; real AMT manages about 1.5 MB/s on gigabit, so the console must never be
  the bottleneck); console and simulator CPU per megabyte as context;
* **console peak memory** (``ru_maxrss`` of the console process, a high-water mark) once the session
  is open and after serving the whole image, for both sizes (goal: flat: serving raises the peak by
  no more than a 2 MB allowance for allocator noise, whatever the image size).

Run alone with ``python -m bench.ider [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .framework import ROOT, Placement, Row, Settings, Target, cpu_seconds, goal, pinned
from .record import rows_table

THROUGHPUT_TARGET = Target.at_least(50.0, goal(4, "serve an image over IDE-R at 50 MB/s or more"))
MEMORY_GROWTH_TARGET = Target.at_most(2.0, goal(4, "console memory flat whatever the image size "
                                                   "(2 MB allowance for allocator noise)"))
MB = 1 << 20
SECTORS_PER_READ = 512
WAIT_SECONDS = 600.0


@dataclass(frozen=True)
class Served:
    """One image served end to end: the firmware's record, and the console's own account."""

    size: int
    seconds: float
    """Firmware time from the first command to the last reply."""
    loaded_bytes: int
    booted: bool
    reason: str | None
    simulator_cpu: float
    console_cpu: float
    console_rss_open_kb: int
    console_rss_end_kb: int
    commands: int
    bytes_served: int

    @property
    def rss_growth_mb(self) -> float:
        """How much the console's peak memory rose while serving (ru_maxrss is a high-water mark)."""
        return (self.console_rss_end_kb - self.console_rss_open_kb) / 1024

    @property
    def mb_per_second(self) -> float:
        return self.loaded_bytes / MB / self.seconds if self.seconds > 0 else 0.0


def transfer(settings: Settings) -> list[Row]:
    small, large = (16 * MB, 64 * MB) if settings.quick else (64 * MB, 256 * MB)
    placement = Placement.choose()
    with tempfile.TemporaryDirectory(prefix="amtkit-bench-ider-") as directory:
        results = {size: _serve(_sparse_image(Path(directory), size), size, placement) for size in (small, large)}
    big, little = results[large], results[small]
    name = "ider.transfer"
    failed = [r for r in (little, big) if not r.booted or r.loaded_bytes != r.size]
    if failed:
        raise RuntimeError(f"the firmware did not read the whole image: {failed[0].reason}")
    return [
        Row(name, f"IDE-R throughput, {large // MB} MB image", big.mb_per_second, "MB/s", THROUGHPUT_TARGET,
            note=f"{big.commands} commands, 8192-byte read buffer, READ(10) of {SECTORS_PER_READ} blocks; "
            f"{placement.describe()}"),
        Row(name, f"IDE-R throughput, {small // MB} MB image", little.mb_per_second, "MB/s",
            note="same, smaller image"),
        Row(name, "console CPU per MB served", big.console_cpu / (big.size / MB) * 1e3, "ms",
            note="getrusage of the console process, start-up included"),
        Row(name, "simulator CPU per MB received", big.simulator_cpu / (big.size / MB) * 1e3, "ms",
            note="getrusage of the simulator process during the transfer"),
        Row(name, f"console peak RSS, {small // MB} MB served", little.console_rss_end_kb / 1024, "MB",
            note=f"{little.rss_growth_mb:+.2f} MB while serving"),
        Row(name, f"console peak RSS, {large // MB} MB served", big.console_rss_end_kb / 1024, "MB",
            note=f"{big.rss_growth_mb:+.2f} MB while serving"),
        Row(name, f"console peak RSS growth serving {large // MB} MB", big.rss_growth_mb, "MB",
            MEMORY_GROWTH_TARGET,
            note=f"peak after serving minus peak once open ({small // MB} MB: {little.rss_growth_mb:+.2f} MB); "
            "flat = streamed, never held"),
    ]


def _sparse_image(directory: Path, size: int) -> Path:
    """A file of ``size`` zero bytes that takes no disk space (``truncate``)."""
    path = directory / f"image-{size // MB}mb.iso"
    path.touch()
    os.truncate(path, size)
    return path


def _serve(image: Path, size: int, placement: Placement) -> Served:
    """Serve ``image`` from a console child process to a fresh simulated device in this process."""
    from amtsim import DeviceConfig, Simulator, Timing
    from amtsim.control import DeviceControl

    with pinned(placement.server_cpu):
        simulator = Simulator().start()  # its event loop thread inherits the pinning
    try:
        config = DeviceConfig(name="bench-ider", http_port=0, tls_port=None, redirection_port=0,
                              timing=Timing(power_transition=0, power_off_phase=0))
        control = DeviceControl(simulator.add_device(config))
        control.arm_sequential_read(sectors_per_read=SECTORS_PER_READ)
        command = [sys.executable, "-m", "bench.ider", "console", config.address, str(config.http_port),
                   str(config.redirection_port), config.username, str(image)]
        if placement.client_cpu is not None:
            command += ["--cpu", str(placement.client_cpu)]
        with subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "AMT_PASSWORD": config.password}) as child:
            assert child.stdin is not None and child.stdout is not None
            ready = _line(child.stdout, child)
            cpu_before = cpu_seconds()
            record = control.wait_for_boot(1, timeout=WAIT_SECONDS)
            simulator_cpu = cpu_seconds() - cpu_before
            child.stdin.write("quit\n")
            child.stdin.flush()
            final = _line(child.stdout, child)
    finally:
        simulator.stop()
    result = record.result
    assert result is not None
    return Served(
        size=size, seconds=record.finished_at - record.started_at, loaded_bytes=result.loaded_bytes,
        booted=result.booted, reason=result.reason, simulator_cpu=simulator_cpu, console_cpu=final["cpu_seconds"],
        console_rss_open_kb=int(ready["maxrss_kb"]), console_rss_end_kb=int(final["maxrss_kb"]),
        commands=int(final["commands"]), bytes_served=int(final["bytes_served"]),
    )


def _line(stream: IO[str], child: subprocess.Popen[str]) -> dict[str, int | float]:
    line = stream.readline()
    if not line:
        raise RuntimeError(f"the console process exited (status {child.wait()}) without answering")
    data: dict[str, int | float] = json.loads(line)
    return data


# -- the console child -----------------------------------------------------------------------------

def _console(host: str, port: int, redirection_port: int, username: str, image: str, cpu: int | None) -> None:
    """Open an IDE-R session serving ``image``, start the IDE-R boot, serve until told to quit."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    from amtkit.client import Client

    def report(**values: int | float) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        values.update(maxrss_kb=usage.ru_maxrss, cpu_seconds=usage.ru_utime + usage.ru_stime)
        sys.stdout.write(json.dumps(values) + "\n")
        sys.stdout.flush()

    with Client(host, port=port, username=username, password=os.environ["AMT_PASSWORD"]) as client:
        client.ider.port = redirection_port
        with client.ider.session(image, "cd") as session:
            client.boot.boot_once("ider-cd", then="reset")
            report(ready=1)
            sys.stdin.readline()  # the parent says "quit" once the firmware has read everything
            stats = session.stats
        report(commands=stats.commands, bytes_served=stats.bytes_served, seconds=time.monotonic())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ider", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="measure and print the figures (the default)").add_argument(
        "--quick", action="store_true", help="16 and 64 MB instead of 64 and 256 MB")
    console = sub.add_parser("console", help="internal: the console process of one measurement")
    for name in ("host", "port", "redirection_port", "username", "image"):
        console.add_argument(name)
    console.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "console":
        _console(args.host, int(args.port), int(args.redirection_port), args.username, args.image, args.cpu)
        return 0
    print(rows_table(transfer(Settings.for_run(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
