"""The cost of one call and of TLS (issues #8 and #14), each against a baseline measured in the same run.

``transport.tls``
    Against one simulated device in a child process (HTTP and TLS ports, the certificate pinned):
    a new pinned TLS client to its first answer (the device's session resumed, as for every client
    after the first; and with every session forgotten: a full handshake), next to a new plain-HTTP
    client; the steady Get over TLS next to the plain-HTTP Get (alternating blocks); the client's
    CPU per steady Get on both.
``transport.cli``
    ``amtkit power status HOST`` as a whole process, next to ``python -c pass`` in alternation:
    wall time and CPU (``wait4``) of each, medians.
``transport.fleet_tls``
    Fleet power status of 1,000 simulated devices (the fleet scenario of ``bench.fleet``: 20-80 ms
    answers, 5% hung, 2% nothing listening, 2% wrong password) over TLS, every device with its own
    certificate and the pins in a pin file, next to the same job over plain HTTP, alternating.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from amtkit import tls as amt_tls
from amtkit.client import Client
from amtkit.config import TLSConfig

from .framework import ROOT, Latencies, Placement, Row, Settings, Target, goal, pinned
from .simproc import ChildProcess, SimProcess

CLASS = "AMT_GeneralSettings"
FIRST_ANSWER_TARGET = Target.at_most(3.0, goal(14, "new pinned TLS client to first answer at most 3 ms on loopback"))
TLS_RATIO_TARGET = Target.at_most(1.2, goal(14, "steady Get over TLS at most 1.2x the plain-HTTP Get"))
CPU_PER_GET_TARGET = Target.at_most(100.0, goal(8, "client CPU per steady in-process Get at most 100 us"))
CLI_TARGET = Target.at_most(60.0, goal(8, "amtkit power status HOST as a whole process at most 60 ms"))
FLEET_RATIO_TARGET = Target.at_most(1.5, goal(14, "fleet power status of 1,000 TLS devices at most 1.5x plain HTTP"))


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


# -- transport.tls ---------------------------------------------------------------------------------

def tls(settings: Settings) -> list[Row]:
    placement = Placement.choose()
    firsts = 20 if settings.quick else 60
    block = max(1, settings.calls // settings.rounds)
    with SimProcess(cpu=placement.server_cpu, tls=True) as sim, pinned(placement.client_cpu):
        assert sim.tls_port is not None
        pin = TLSConfig(pin_sha256=sim.tls_sha256)

        def new_client(tls_config: TLSConfig | None) -> Client:
            port = sim.tls_port if tls_config is not None else sim.port
            return Client(sim.address, port=port, username=sim.username, password=sim.password, tls=tls_config)

        def first_answer(tls_config: TLSConfig | None, forget: bool) -> float:
            if forget:
                amt_tls.forget_sessions()
            started = time.perf_counter()
            with new_client(tls_config) as client:
                client.get(CLASS)
            return time.perf_counter() - started

        started = time.perf_counter()
        first_answer(pin, False)  # builds the shared context too
        context_ms = (time.perf_counter() - started) * 1e3
        resumed, full, plain = [], [], []
        for _ in range(firsts):
            plain.append(first_answer(None, False))
            full.append(first_answer(pin, True))
            resumed.append(first_answer(pin, False))

        http_client, tls_client = new_client(None), new_client(pin)
        http_get, tls_get = Latencies(), Latencies()
        try:
            for _ in range(settings.warmup):
                http_client.get(CLASS)
                tls_client.get(CLASS)
            for _ in range(settings.rounds):
                http_get.measure(lambda: http_client.get(CLASS), block)
                tls_get.measure(lambda: tls_client.get(CLASS), block)
        finally:
            http_client.close()
            tls_client.close()
    name = "transport.tls"
    ratio = tls_get.percentile(0.5) / http_get.percentile(0.5)
    return [
        Row(name, "new pinned TLS client to first answer (session resumed, p50)", _median_ms(resumed), "ms",
            FIRST_ANSWER_TARGET, note=f"n={firsts}; every client after the first to a device resumes its session"),
        Row(name, "  same, full handshake (sessions forgotten, p50)", _median_ms(full), "ms",
            note=f"RSA 2048 on the simulator's side; first client of the process: {context_ms:.1f} ms incl. context"),
        Row(name, "  plain-HTTP new client to first answer (p50)", _median_ms(plain), "ms",
            note="the same 401 round trip and Get, no TLS"),
        Row(name, "steady Get over TLS (p50)", tls_get.percentile(0.5) * 1e3, "ms", cpu=tls_get.cpu_per_call * 1e3,
            note=tls_get.describe_ms()),
        Row(name, "steady Get over plain HTTP (p50)", http_get.percentile(0.5) * 1e3, "ms",
            cpu=http_get.cpu_per_call * 1e3, note=http_get.describe_ms()),
        Row(name, "TLS Get / HTTP Get", ratio, "x", TLS_RATIO_TARGET, note="p50 over p50, same run, alternating blocks"),
        Row(name, "client CPU per steady Get (HTTP)", http_get.cpu_per_call * 1e6, "us", CPU_PER_GET_TARGET,
            better="lower", note="getrusage of the bench process over the measured blocks"),
        Row(name, "client CPU per steady Get (TLS)", tls_get.cpu_per_call * 1e6, "us", better="lower",
            note="unsigned on the authenticated connection (AMT 6+ digest session caching)"),
    ]


# -- transport.cli ---------------------------------------------------------------------------------

def _run_process(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    _pid, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def cli_call(settings: Settings) -> list[Row]:
    placement = Placement.choose()
    runs = 7 if settings.quick else 21
    amtkit = str(Path(sys.executable).parent / "amtkit")
    with SimProcess(cpu=placement.server_cpu) as sim:
        env = {**os.environ, "AMT_PASSWORD": sim.password}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's install has its bytecode compiled
        command = [amtkit, "power", "status", sim.address, "--port", str(sim.port)]
        baseline = [sys.executable, "-c", "pass"]
        for _ in range(2):  # warm: bytecode written, files in the page cache
            _run_process(command, env)
            _run_process(baseline, env)
        amtkit_runs, python_runs = [], []
        for _ in range(runs):
            amtkit_runs.append(_run_process(command, env))
            python_runs.append(_run_process(baseline, env))
    failures = sum(1 for _, _, code in amtkit_runs if code != 0)
    if failures:
        raise RuntimeError(f"amtkit power status failed in {failures} of {runs} runs")
    wall = statistics.median(r[0] for r in amtkit_runs) * 1e3
    cpu = statistics.median(r[1] for r in amtkit_runs) * 1e3
    base_wall = statistics.median(r[0] for r in python_runs) * 1e3
    base_cpu = statistics.median(r[1] for r in python_runs) * 1e3
    name = "transport.cli"
    return [
        Row(name, "amtkit power status HOST, whole process (median)", wall, "ms", CLI_TARGET, cpu=cpu,
            note=f"n={runs}, alternating with the baseline; wait4 CPU beside"),
        Row(name, "python -c pass, whole process (median)", base_wall, "ms", cpu=base_cpu,
            note="the interpreter's own start-up, same run"),
        Row(name, "amtkit above the bare interpreter", wall - base_wall, "ms", better="lower",
            note="imports (click, lxml, amtkit), the 401 round trip and the Get"),
    ]


# -- transport.fleet_tls ---------------------------------------------------------------------------

def _serve_fleet(scenario: Path, cert_dir: Path, cpu: int | None, out: IO[str]) -> None:
    from amtsim.scenario import load_scenario
    from amtsim.server import Simulator

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    with Simulator(cert_dir=cert_dir) as simulator:
        devices = [simulator.add_device(config) for config in load_scenario(scenario)]
        pins = {d.address: simulator.tls_sha256(d) for d in devices if d.config.tls_port}
        out.write(json.dumps({"ready": True, "pins": pins}) + "\n")
        out.flush()
        for line in sys.stdin:
            command = line.strip()
            if command == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                out.write(json.dumps({"cpu_seconds": usage.ru_utime + usage.ru_stime}) + "\n")
                out.flush()
            elif command == "quit":
                break


class _TLSFleet(ChildProcess):
    def __init__(self, scenario: Path, cert_dir: Path, cpu: int | None) -> None:
        command = [sys.executable, "-m", "bench.transport", "--serve-fleet", str(scenario), str(cert_dir)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        super().__init__(command, start_timeout=300.0, stop_timeout=60.0)
        self.pins: dict[str, str] = dict(self.ready["pins"])  # type: ignore[call-overload]


def fleet_tls(settings: Settings) -> list[Row]:
    from . import fleet as fleetbench

    placement = Placement.choose()
    count = 300 if settings.quick else fleetbench.COUNT
    rounds = 1 if settings.quick else 2
    with tempfile.TemporaryDirectory(prefix="amtkit-bench-tlsfleet-") as tmp:
        directory = Path(tmp)
        fleet, scenario_path = fleetbench._make_fleet(directory, count, seed=14)
        tls_port = fleetbench._free_port()
        _add_tls(scenario_path, tls_port)
        pin_file = directory / "pins.txt"
        with _TLSFleet(scenario_path, directory / "certs", placement.server_cpu) as sim:
            pin_file.write_text("".join(f"{host} {sha}\n" for host, sha in sim.pins.items()))
            hosts = fleet.file("hosts.txt", fleet.hosts)
            http_args = fleetbench._fleet_args(fleet, hosts)
            tls_args = [*http_args, "--pin-file", str(pin_file)]
            tls_args[tls_args.index("--port") + 1] = str(tls_port)
            http_runs: list[Any] = []
            tls_runs: list[Any] = []
            for index in range(rounds):
                store = directory / f"store-{index}"
                http_runs.append(fleetbench._amtkit_run(["power", "status", *http_args], store / "http",
                                                        placement.client_cpu))
                tls_runs.append(fleetbench._amtkit_run(["power", "status", *tls_args], store / "tls",
                                                       placement.client_cpu))
        wrong = [fleetbench._verdict_errors(fleet, run.report()["results"]) for run in tls_runs + http_runs]
    http_s = statistics.median(run.seconds for run in http_runs)
    tls_s = statistics.median(run.seconds for run in tls_runs)
    name = "transport.fleet_tls"
    errors = sum(len(w) for w in wrong)
    return [
        Row(name, f"fleet power status, {count} devices over TLS (median)", tls_s, "s",
            cpu=statistics.median(run.cpu_seconds for run in tls_runs),
            note=f"per-device certificates, pins from a pin file; {rounds} run(s)"),
        Row(name, f"fleet power status, {count} devices over plain HTTP (median)", http_s, "s",
            cpu=statistics.median(run.cpu_seconds for run in http_runs), note="the same fleet and job, alternating"),
        Row(name, "TLS fleet / HTTP fleet", tls_s / http_s, "x", FLEET_RATIO_TARGET,
            note="wall time of the whole amtkit process, same run"),
        Row(name, "verdicts differing from the scenario's truth", errors, "hosts", better="lower",
            note="both transports, every run" + (f"; first: {wrong[0][:2]}" if errors else "")),
    ]


def _add_tls(scenario: Path, tls_port: int) -> None:
    """Give every device of a rendered fleet scenario a TLS port and a certificate of its own."""
    text = scenario.read_text()
    marker = "\ntls_port = -1\n"
    if marker not in text:
        raise RuntimeError("the fleet scenario's [defaults] no longer says tls_port = -1")
    scenario.write_text(text.replace(marker, f"\ntls_port = {tls_port}\nown_certificate = true\n", 1))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--serve-fleet"]:
        cpu = int(args[args.index("--cpu") + 1]) if "--cpu" in args else None
        _serve_fleet(Path(args[1]), Path(args[2]), cpu, sys.stdout)
        return 0
    print("run through python -m bench --only transport", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())


