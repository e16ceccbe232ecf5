"""A simulated AMT device in its own process, with its counters readable from the bench.

Client and simulator must not share a GIL: a real console talks to firmware on another
machine, and one interpreter doing both would time their contention, not amtkit. So the bench
starts this module as a child (``python -m bench.simproc``), optionally pinned to one CPU, and
talks to it over its standard streams, one line each way:

* the child prints ``{"address": ..., "port": ..., ...}`` once it listens;
* ``stats`` on its stdin answers the device's counters (``http_requests`` counts every HTTP
  request the simulator received, 401 round trips included) plus the child's CPU seconds;
* ``quit`` or end of input stops it.

Nothing here changes the simulator: it is :class:`amtsim.server.Simulator` as tests use it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, fields
from typing import IO, TypeVar

from .framework import ROOT

USERNAME = "admin"
PASSWORD = "P@ssw0rd"
ADDRESS = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
_C = TypeVar("_C", bound="ChildProcess")


@dataclass(frozen=True)
class SimStats:
    http_requests: int
    wsman_requests: int
    auth_challenges: int
    auth_failures: int
    connections: int
    cpu_seconds: float

    @classmethod
    def zero(cls) -> SimStats:
        return cls(0, 0, 0, 0, 0, 0.0)

    def minus(self, earlier: SimStats) -> SimStats:
        return self._combined(earlier, -1)

    def plus(self, other: SimStats) -> SimStats:
        return self._combined(other, 1)

    def _combined(self, other: SimStats, sign: int) -> SimStats:
        values = {f.name: getattr(self, f.name) + sign * getattr(other, f.name) for f in fields(self)}
        return SimStats(**values)


class ChildProcess:
    """A bench child (a simulator) spoken to over its standard streams, one line each way.

    The child prints one JSON line when ready (kept in :attr:`ready`); ``quit`` stops it.
    """

    def __init__(self, command: list[str], *, start_timeout: float = START_TIMEOUT_SECONDS,
                 stop_timeout: float = 10.0) -> None:
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.pid: int = self._process.pid
        self.ready: dict[str, object] = json.loads(self._line())

    def _line(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait(timeout=self._start_timeout)
            raise RuntimeError(f"the simulator process exited (status {code}) without answering")
        return line

    def _command(self, text: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(text + "\n")
        self._process.stdin.flush()

    def close(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(OSError):  # it may already be gone
                self._command("quit")
            try:
                self._process.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SimProcess(ChildProcess):
    """The parent's handle on the one-device simulator child. Use as a context manager."""

    def __init__(self, cpu: int | None = None, *, amt_version: str | None = None, tls: bool = False) -> None:
        command = [sys.executable, "-m", "bench.simproc"]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        if amt_version is not None:
            command += ["--amt-version", amt_version]
        if tls:
            command += ["--tls"]
        super().__init__(command)
        self.address = str(self.ready["address"])
        self.port = int(str(self.ready["port"]))
        self.tls_port = int(str(self.ready["tls_port"])) if self.ready.get("tls_port") else None
        """The TLS port (``tls=True``), with the certificate's SHA-256 in :attr:`tls_sha256`."""
        self.tls_sha256 = str(self.ready.get("tls_sha256") or "")
        self.username = str(self.ready["username"])
        self.password = str(self.ready["password"])

    def stats(self) -> SimStats:
        self._command("stats")
        data = json.loads(self._line())
        # Only the counters this bench reads: the simulator may grow more without breaking it.
        return SimStats(**{f.name: data[f.name] for f in fields(SimStats)})


# -- the child -----------------------------------------------------------------------------------

def _serve(cpu: int | None, out: IO[str], amt_version: str | None = None, tls: bool = False) -> None:
    from amtsim.config import DeviceConfig, Timing
    from amtsim.control import DeviceControl
    from amtsim.server import Simulator

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})  # before the event loop thread starts, so it inherits the mask
    config = DeviceConfig(name="bench", address=ADDRESS, http_port=0, tls_port=0 if tls else None,
                          username=USERNAME, password=PASSWORD,
                          timing=Timing(power_transition=0, power_off_phase=0))
    if amt_version is not None:
        config.amt_version = amt_version  # e.g. 8.1.40: legacy SOAP and WS-Man on one port
    with tempfile.TemporaryDirectory(prefix="amtkit-bench-cert-") as cert_dir, Simulator(cert_dir=cert_dir) as simulator:
        device = simulator.add_device(config)
        control = DeviceControl(device)
        ready = {"address": ADDRESS, "port": config.http_port, "username": USERNAME, "password": PASSWORD}
        if tls:
            ready.update(tls_port=config.tls_port, tls_sha256=simulator.tls_sha256(device))
        out.write(json.dumps(ready) + "\n")
        out.flush()
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                answer = {**control.stats(), "cpu_seconds": usage.ru_utime + usage.ru_stime}
                out.write(json.dumps(answer) + "\n")
                out.flush()
            elif command == "quit":
                break


def main() -> None:
    parser = argparse.ArgumentParser(description="one simulated AMT device for the bench (see module docs)")
    parser.add_argument("--cpu", type=int, default=None, help="pin the simulator to this CPU")
    parser.add_argument("--amt-version", default=None, help="the firmware version to simulate (default: the simulator's)")
    parser.add_argument("--tls", action="store_true", help="also listen on a TLS port (certificate in a temporary directory)")
    args = parser.parse_args()
    _serve(args.cpu, sys.stdout, args.amt_version, args.tls)


if __name__ == "__main__":
    main()
