"""The main job on a simulated site, as ``bash scripts/demo.sh`` shows it.

A small fleet of simulated AMT machines on loopback addresses of their own (no well-known port is
needed: every port is picked free), then the real ``amtkit`` command, as a person would type it:
discovery, a power read over the whole site, a quarantine of one machine (System Defense filters)
checked on the simulated host's own traffic, released, and the record of it all.

    python scripts/demo_site.py [--machines 6]
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from amtkit.codes import PowerState
from amtkit.defense.model import FilterDirection
from amtsim import DeviceConfig, Simulator, Timing
from amtsim.control import DeviceControl
from amtsim.listening import ListenError

PASSWORD = "P@ssw0rd"
TCP, UDP = 6, 17
OUTSIDE = ipaddress.ip_address("203.0.113.80")
"""An address on the internet, as the simulated host would send to it (TEST-NET-3: never routed; the
packet is only offered to the simulated NIC's filters, nothing is sent)."""


def free_ports(address: str) -> tuple[int, int, int]:
    """A TCP port for WS-Man, one for TLS and a UDP port for RMCP, free on ``address`` now."""
    ports = []
    for kind in (socket.SOCK_STREAM, socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind((address if kind == socket.SOCK_STREAM else "0.0.0.0", 0))
            ports.append(int(probe.getsockname()[1]))
    return ports[0], ports[1], ports[2]


def start_site(machines: int, cert_dir: Path) -> tuple[Simulator, list[str], str, tuple[int, int, int]]:
    """The simulated site on a loopback /24 nobody else here uses; a few tries if a port was taken meanwhile."""
    for _attempt in range(5):
        net = f"127.{random.randrange(16, 250)}.{random.randrange(1, 250)}"
        hosts = [f"{net}.{n}" for n in range(1, machines + 1)]
        http, tls, rmcp = free_ports(hosts[0])
        simulator = Simulator(cert_dir=cert_dir)
        for n, host in enumerate(hosts, 1):
            simulator.add_device(DeviceConfig(
                name=f"site-pc-{n:02d}", hostname=f"site-pc-{n:02d}", address=host, http_port=http, tls_port=tls,
                rmcp_port=rmcp, power_state=PowerState.OFF_SOFT if n == machines else PowerState.ON,
                timing=Timing(power_transition=0.2, power_off_phase=0.2)))
        try:
            simulator.start()
        except ListenError as error:
            simulator.stop()
            print(f"(port taken meanwhile: {error}; trying other ports)", file=sys.stderr)
            continue
        return simulator, hosts, net, (http, tls, rmcp)
    raise SystemExit("demo: could not find free loopback ports in 5 tries")


class Shell:
    """Runs ``amtkit`` as a person would, echoing each command and its output."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.amtkit = shutil.which("amtkit", path=str(Path(sys.executable).parent)) or "amtkit"

    def __call__(self, *args: str, expect: tuple[int, ...] = (0,)) -> str:
        print(f"$ amtkit {shlex.join(args)}", flush=True)
        result = subprocess.run([self.amtkit, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, stdin=subprocess.DEVNULL, timeout=120)
        output = result.stdout.rstrip()
        if output:
            print(output)
        if result.returncode not in expect:
            print(f"demo: exit code {result.returncode}, expected {' or '.join(map(str, expect))}", file=sys.stderr)
            raise SystemExit(1)
        print(flush=True)
        return result.stdout


def host_traffic(control: DeviceControl, name: str, manager: str) -> bool:
    """Offer the simulated host's traffic to its NIC's filters; say what passed. True when it is cut off."""
    web = control.offer_flow(FilterDirection.TRANSMIT, TCP, dst=OUTSIDE, dst_port=443, src_port=50000)
    dns = control.offer_flow(FilterDirection.TRANSMIT, UDP, dst=OUTSIDE, dst_port=53, src_port=50001)
    mgmt = control.offer_flow(FilterDirection.TRANSMIT, TCP, dst=ipaddress.ip_address(manager), dst_port=443,
                              src_port=50002)
    for label, flow in (("https to the internet", web), ("dns to the internet", dns),
                        (f"https to the manager {manager}", mgmt)):
        verdict = "passes" if flow.passed > 0 else f"DROPPED ({flow.verdict.rule})"
        print(f"  {name} host traffic: {label}: {verdict}")
    print()
    return web.passed == 0 and dns.passed == 0 and mgmt.passed > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=6, help="simulated machines on the site (2-250)")
    args = parser.parse_args()
    if not 2 <= args.machines <= 250:
        parser.error("--machines: 2 to 250")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="amtkit-demo-") as state:
        simulator, hosts, net, (http, tls, rmcp) = start_site(args.machines, Path(state))
        try:
            env = {**os.environ, "AMT_PASSWORD": PASSWORD, "AMTKIT_STORE": str(Path(state) / "store.db"),
                   "AMTKIT_OPERATOR": "demo", "COLUMNS": "110"}
            env.pop("AMT_USER", None)
            shell = Shell(env)
            port = ["--port", str(http)]
            manager = f"{net}.250"
            suspect = hosts[1]
            print(f"A simulated site: {args.machines} AMT machines on {net}.1-{args.machines} (WS-Man {http}, "
                  f"TLS {tls}, RMCP {rmcp}); the manager is {manager}.\n")
            shell("discover", f"{net}.1-{args.machines + 2}", "--http-port", str(http), "--https-port", str(tls),
                  "--rmcp-port", str(rmcp))
            shell("power", "status", "store:amt", *port)
            shell("power", "on", hosts[-1], "--wait", "10", *port)
            print(f"{suspect} misbehaves: cut it off the network except for the manager, for at most 24 h.\n")
            shell("quarantine", "apply", suspect, "--manager", manager, "--reason", "demo: beaconing to 203.0.113.80",
                  *port)
            control = DeviceControl(simulator.devices[1])
            cut_off = host_traffic(control, "site-pc-02", manager)
            host_traffic(DeviceControl(simulator.devices[0]), "site-pc-01", manager)
            shell("quarantine", "status")
            shell("quarantine", "release", suspect, *port)
            released = not host_traffic(control, "site-pc-02", manager)
            shell("log", "--host", suspect)
        finally:
            simulator.stop()
    seconds = time.monotonic() - started
    ok = cut_off and released
    print(f"demo {'done' if ok else 'FAILED'}: discovery, a power read of the site, a quarantine applied, checked on "
          f"the host's traffic and released, in {seconds:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
