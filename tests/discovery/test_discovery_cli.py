"""``amtkit discover`` as a user runs it: a subprocess against simulated devices on 127.54.0.x."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from amtkit.codes import ControlMode, ProvisioningState
from amtkit.discovery import Classification
from amtkit.store import Store
from amtsim import DeviceConfig, Simulator


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def ports(amt_simulator: Simulator) -> Iterator[dict[str, int]]:
    chosen = {"rmcp": free_port(socket.SOCK_DGRAM), "http": free_port(socket.SOCK_STREAM),
              "https": free_port(socket.SOCK_STREAM)}
    devices = [
        amt_simulator.add_device(DeviceConfig(address="127.54.0.1", http_port=chosen["http"],
                                              tls_port=chosen["https"], rmcp_port=chosen["rmcp"])),
        amt_simulator.add_device(DeviceConfig(address="127.54.0.2", http_port=chosen["http"], tls_port=None,
                                              rmcp_port=chosen["rmcp"], amt_version="12.0.67",
                                              provisioning_state=ProvisioningState.PRE,
                                              control_mode=ControlMode.NONE)),
    ]
    yield chosen
    for device in devices:
        amt_simulator.remove_device(device)


def amtkit(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMTKIT_STORE": str(store)}
    return subprocess.run([sys.executable, "-m", "amtkit.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def port_args(ports: dict[str, int]) -> list[str]:
    return ["--rmcp-port", str(ports["rmcp"]), "--http-port", str(ports["http"]), "--https-port",
            str(ports["https"]), "--timeout", "0.3"]


def test_json_lists_every_host_with_its_classification(ports: dict[str, int], tmp_path: Path) -> None:
    done = amtkit("discover", "127.54.0.1-3", *port_args(ports), "--json", store=tmp_path / "s.db")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    by_host = {r["host"]: r for r in data["records"]}
    assert by_host["127.54.0.1"]["classification"] == "amt_present" and by_host["127.54.0.1"]["version"] == "16.1.25"
    assert by_host["127.54.0.2"]["provisioning_state"] == "pre" and by_host["127.54.0.2"]["version"] == "12.0.67"
    assert by_host["127.54.0.3"]["classification"] == "ports_closed"
    assert data["summary"]["amt_present"] == 2 and data["count"] == 3


def test_records_are_saved_to_the_store(ports: dict[str, int], tmp_path: Path) -> None:
    store_path = tmp_path / "fleet.db"
    done = amtkit("discover", "127.54.0.1", *port_args(ports), "--json", "--store", str(store_path),
                  store=tmp_path / "unused.db")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["store"] == str(store_path)
    with Store.open(store_path) as store:
        assert store.hosts(Classification.AMT_PRESENT) == ["127.54.0.1"]


def test_csv_has_a_header_and_one_row_per_host(ports: dict[str, int], tmp_path: Path) -> None:
    done = amtkit("discover", "127.54.0.1", "127.54.0.2", *port_args(ports), "--csv", "--no-store",
                  store=tmp_path / "s.db")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["host"], r["classification"]) for r in rows] == [("127.54.0.1", "amt_present"),
                                                               ("127.54.0.2", "amt_present")]
    assert not (tmp_path / "s.db").exists()


def test_table_for_people_has_a_summary_line(ports: dict[str, int], tmp_path: Path) -> None:
    done = amtkit("discover", "127.54.0.1-3", *port_args(ports), store=tmp_path / "s.db")
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["HOST", "STATUS", "VERSION"]
    assert lines[-1] == "3 host(s): 2 AMT, 0 not AMT, 1 ports closed, 0 no response"


def test_bad_target_is_a_usage_error(tmp_path: Path) -> None:
    done = amtkit("discover", "10.0.0.0/8", "--json", store=tmp_path / "s.db")
    assert done.returncode == 2 and json.loads(done.stdout)["category"] == "usage"
