"""``amtkit events`` and ``amtkit audit`` as a user runs them: subprocesses against simulated devices and a
real manager process, JSON or text out, usage errors as one line with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from amtsim.server import free_port


def script() -> str:
    found = shutil.which("amtkit", path=str(Path(sys.executable).parent))
    assert found is not None, "the amtkit console script is not installed in this environment"
    return found


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AMT_PASSWORD", "AMT_USER")}
    env.update(AMT_PASSWORD="P@ssw0rd", AMTKIT_STORE=str(tmp_path / "amtkit.db"), **extra)
    return env


def amtkit(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script(), *args], capture_output=True, text=True, env=environment(tmp_path, **extra),
                          stdin=subprocess.DEVNULL, timeout=60)


def test_events_log_prints_one_host_s_records_as_json(make_device, tmp_path) -> None:
    device = make_device()
    device.control.raise_events(2)
    result = amtkit(tmp_path, "events", "log", device.host, "--port", str(device.port), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and [r["sensor_type"] for r in data["records"]] == [0x12, 0x12]


def test_audit_log_says_who_did_what_from_where(make_device, connect, tmp_path) -> None:
    device = make_device()
    connect(device).power.request("cycle")
    result = amtkit(tmp_path, "audit", "log", device.host, "--port", str(device.port))
    assert result.returncode == 0, result.stderr
    assert "admin, 127.0.0.1" in result.stdout and "Remote Control: Power Cycle" in result.stdout


def test_events_log_runs_as_a_fleet_job_on_many_targets(new_device, tmp_path) -> None:
    port = free_port("127.0.0.21")
    devices = [new_device(address=f"127.0.0.{n}", http_port=port) for n in (21, 22)]
    from amtsim.control import DeviceControl

    DeviceControl(devices[0]).raise_events(3)
    result = amtkit(tmp_path, "events", "log", "127.0.0.21", "127.0.0.22", "--port", str(port), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    counts = {r["host"]: len(r["data"]["records"]) for r in report["results"]}
    assert counts == {"127.0.0.21": 3, "127.0.0.22": 0}


def test_a_since_that_is_no_time_is_a_usage_error(make_device, tmp_path) -> None:
    device = make_device()
    result = amtkit(tmp_path, "events", "log", device.host, "--port", str(device.port), "--since", "yesterday")
    assert result.returncode == 2
    assert result.stderr.startswith("amtkit: ") and "--since" in result.stderr and "Traceback" not in result.stderr


def test_listen_subscribe_query_and_tail_end_to_end(make_device, tmp_path) -> None:
    device = make_device()
    port = free_port()
    store = tmp_path / "manager.db"
    manager = subprocess.Popen([script(), "events", "listen", "--host", "127.0.0.1", "--port", str(port), "--user",
                                "amt", "--store", str(store), "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=environment(tmp_path, AMTKIT_LISTENER_PASSWORD="listener-pw"))
    try:
        assert "listening on" in (manager.stderr.readline() if manager.stderr else "")
        url = f"http://127.0.0.1:{port}/events"
        subscribed = amtkit(tmp_path, "events", "subscribe", device.host, "--port", str(device.port), "--url", url,
                            "--listener-user", "amt", AMTKIT_LISTENER_PASSWORD="listener-pw")
        assert subscribed.returncode == 0, subscribed.stderr
        assert f"subscribed {url} (Intel(r) AMT:All, push)" in subscribed.stdout
        listed = amtkit(tmp_path, "events", "subscriptions", device.host, "--port", str(device.port), "--json")
        assert [s["destination"] for s in json.loads(listed.stdout)["subscriptions"]] == [url]

        device.control.raise_events(3)
        assert manager.stdout is not None
        printed = [json.loads(manager.stdout.readline()) for _ in range(3)]
        assert [line["kind"] for line in printed] == ["platform"] * 3
        assert {line["device"] for line in printed} == {device.host}

        query = amtkit(tmp_path, "events", "query", "--store", str(store), "--host", device.host, "--json")
        assert [json.loads(line)["kind"] for line in query.stdout.splitlines()] == ["platform"] * 3
        tail = amtkit(tmp_path, "events", "tail", "--store", str(store), "-n", "2")
        assert len(tail.stdout.splitlines()) == 2 and device.host in tail.stdout
    finally:
        manager.send_signal(signal.SIGTERM)
        _, err = manager.communicate(timeout=30)
    assert manager.returncode == 0
    assert "3 stored, 0 duplicates" in err


def test_listen_refuses_a_user_without_a_password(tmp_path) -> None:
    env_free = amtkit(tmp_path, "events", "listen", "--port", str(free_port()), "--user", "amt")
    assert env_free.returncode == 2 and "AMTKIT_LISTENER_PASSWORD" in env_free.stderr


def test_listen_with_a_certificate_file_that_is_not_pem_is_a_tls_configuration_error(tmp_path) -> None:
    not_pem = tmp_path / "cert.pem"
    not_pem.write_text("not a certificate\n")
    result = amtkit(tmp_path, "events", "listen", "--port", str(free_port()), "--tls-cert", str(not_pem), "--json")
    assert result.returncode == 4, result.stdout + result.stderr
    error = json.loads(result.stdout)
    assert (error["error"], error["reason"]) == ("TLSError", "configuration")
    assert "cert.pem" in error["message"] and "internal error" not in error["message"]


@pytest.mark.parametrize("args", [["events", "unsubscribe", "127.0.0.1"], ["events", "subscribe", "127.0.0.1"]])
def test_subscription_commands_need_their_listener(tmp_path, args: list[str]) -> None:
    result = amtkit(tmp_path, *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
