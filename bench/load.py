"""``python -m bench.load [--quick] [--only concurrent|drip|pipeline|idle]``: the simulator under load and attack.

* **concurrent**: 500 clients (each an :class:`amtkit.Client` of its own, threads in 4 processes)
  make 50 authenticated Gets each against one simulated device (its own process): errors (issue
  #9 goal: 0; authentication failures with the right password included), p50/p99 latency.
* **drip**, **pipeline**, **idle**: one unauthenticated attacker in a process of its own drips
  chunked bodies on 200 connections, pipelines requests on 8 connections and never reads the
  replies, or opens and holds 10,000 idle connections. Meanwhile a normal client makes 200 Gets;
  its p50/p99/max latency (goal: under 50 ms) and the simulator's peak RSS (goal: under 150 MB),
  sampled every 50 ms from ``/proc``, are reported.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import socket
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .framework import Row, Settings, Target, goal
from .simproc import SimProcess

GENERAL = "AMT_GeneralSettings"


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


# --- 500 concurrent clients ------------------------------------------------------------------------


def _client_worker(address: str, port: int, username: str, password: str, clients: int, gets: int,
                   start_at: float) -> tuple[list[float], list[str]]:
    from amtkit.client import Client

    _raise_fd_limit()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        mine: list[float] = []
        with Client(address, port=port, username=username, password=password, timeout=30.0) as client:
            time.sleep(max(0.0, start_at - time.time()))
            for _ in range(gets):
                started = time.perf_counter()
                try:
                    client.get(GENERAL)
                except Exception as error:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
                    continue
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def concurrent_gets(clients: int, gets: int, processes: int = 4) -> dict[str, Any]:
    with SimProcess() as sim:
        start_at = time.time() + 3.0
        per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
        started = time.perf_counter()
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_client_worker, sim.address, sim.port, sim.username, sim.password, n, gets,
                                   start_at) for n in per if n]
            results = [future.result() for future in futures]
        elapsed = time.perf_counter() - started - 3.0
        stats = sim.stats()
    latencies = [value for values, _ in results for value in values]
    errors = [error for _, values in results for error in values]
    return {"calls": len(latencies) + len(errors), "errors": len(errors), "first_error": errors[0] if errors else "",
            "p50_ms": _percentile(latencies, 0.5) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
            "rate": len(latencies) / elapsed, "auth_failures": stats.auth_failures}


# --- attacks ---------------------------------------------------------------------------------------


def _attacker(kind: str, address: str, port: int, ready: Any, stop: Any, scale: float) -> None:
    _raise_fd_limit()
    sockets: list[socket.socket] = []
    try:
        if kind == "idle":
            for _ in range(int(10000 * scale)):
                try:
                    sockets.append(socket.create_connection((address, port), timeout=5))
                except OSError:
                    time.sleep(0.001)
            ready.set()
            stop.wait()
        elif kind == "drip":
            for _ in range(int(200 * scale)):
                sock = socket.create_connection((address, port), timeout=5)
                sock.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                sock.setblocking(False)
                sockets.append(sock)
            ready.set()
            while not stop.wait(0.05):
                for index, sock in enumerate(sockets):
                    try:
                        sock.send(b"1\r\nx\r\n")
                    except OSError:  # cut off by a deadline: come back, as an attacker would
                        sock.close()
                        sockets[index] = socket.create_connection((address, port), timeout=5)
                        sockets[index].sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                        sockets[index].setblocking(False)
        elif kind == "pipeline":
            burst = b"GET /logon.htm HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
            for _ in range(8):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect((address, port))
                sock.setblocking(False)
                sockets.append(sock)
            ready.set()
            while not stop.wait(0.01):
                for sock in sockets:
                    try:
                        sock.send(burst)
                    except (BlockingIOError, OSError):
                        pass
    finally:
        for sock in sockets:
            sock.close()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def under_attack(kind: str, calls: int = 200, scale: float = 1.0) -> dict[str, Any]:
    from amtkit.client import Client

    context = multiprocessing.get_context("spawn")
    with SimProcess() as sim:
        peak = [0.0]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.05):
                peak[0] = max(peak[0], _rss_mb(sim.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        ready, stop = context.Event(), context.Event()
        attacker = context.Process(target=_attacker, args=(kind, sim.address, sim.port, ready, stop, scale))
        attacker.start()
        try:
            ready.wait(120)
            time.sleep(1.0)  # let the attack reach its steady state
            latencies: list[float] = []
            errors = 0
            with Client(sim.address, port=sim.port, username=sim.username, password=sim.password,
                        timeout=10.0) as client:
                for _ in range(calls):
                    started = time.perf_counter()
                    try:
                        client.get(GENERAL)
                        latencies.append(time.perf_counter() - started)
                    except Exception:  # noqa: BLE001 - counted
                        errors += 1
                    time.sleep(0.01)
        finally:
            stop.set()
            attacker.join(30)
            if attacker.is_alive():
                attacker.kill()
            sampling.set()
            sampler.join()
    return {"p50_ms": _percentile(latencies, 0.5) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
            "max_ms": max(latencies, default=float("nan")) * 1000, "errors": errors, "peak_rss_mb": peak[0]}


# --- the bench harness's view ------------------------------------------------------------------------


def figures(settings: Settings) -> list[Row]:
    clients, gets = (100, 10) if settings.quick else (500, 50)
    result = concurrent_gets(clients, gets)
    name = "hardening.load"
    rows = [
        Row(name, f"{clients} clients x {gets} Gets: errors", result["errors"], "count",
            Target.at_most(0, goal(9, "500 concurrent clients x 50 authenticated Gets: 0 errors")),
            note=result["first_error"][:80]),
        Row(name, f"{clients} clients x {gets} Gets: p50", result["p50_ms"], "ms"),
        Row(name, f"{clients} clients x {gets} Gets: p99", result["p99_ms"], "ms"),
        Row(name, f"{clients} clients x {gets} Gets: rate", result["rate"], "/s"),
    ]
    calls = 50 if settings.quick else 200
    scale = 0.2 if settings.quick else 1.0
    latency = Target.at_most(50, goal(9, "a normal call under 50 ms while one attacker attacks"))
    memory = Target.at_most(150, goal(9, "the simulator under 150 MB while one attacker attacks"))
    for kind in ("drip", "pipeline", "idle"):
        attack = under_attack(kind, calls, scale)
        rows += [
            Row(name, f"under {kind} attack: normal Get p99", attack["p99_ms"], "ms", latency,
                note=f"p50 {attack['p50_ms']:.1f} ms, max {attack['max_ms']:.1f} ms, errors {attack['errors']}"),
            Row(name, f"under {kind} attack: simulator peak RSS", attack["peak_rss_mb"], "MB", memory),
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 clients x 10 Gets, attacks at a fifth of their size")
    parser.add_argument("--only", nargs="+", choices=["concurrent", "drip", "pipeline", "idle"])
    args = parser.parse_args(argv)
    only = args.only or ["concurrent", "drip", "pipeline", "idle"]
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.2f}")
    if "concurrent" in only:
        clients, gets = (100, 10) if args.quick else (500, 50)
        result = concurrent_gets(clients, gets)
        print(f"concurrent: {clients} clients x {gets} Gets: {result['calls']} calls, {result['errors']} errors "
              f"({result['auth_failures']} auth failures at the device), p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms, {result['rate']:.0f} Gets/s")
        if result["first_error"]:
            print(f"    first error: {result['first_error'][:200]}")
    for kind in ("drip", "pipeline", "idle"):
        if kind in only:
            attack = under_attack(kind, 50 if args.quick else 200, 0.2 if args.quick else 1.0)
            print(f"{kind:>8} attack: normal Get p50 {attack['p50_ms']:.1f} ms, p99 {attack['p99_ms']:.1f} ms, "
                  f"max {attack['max_ms']:.1f} ms, errors {attack['errors']}; simulator peak RSS "
                  f"{attack['peak_rss_mb']:.1f} MB")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
