"""The CLI on many targets, run as a subprocess against a simulated fleet: report, exit codes, progress,
jobs in the store, Ctrl-C, and ``kill -9`` followed by ``amtkit job resume`` (nothing lost, nothing twice)."""

from __future__ import annotations

import csv
import io
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fleetsim import POWER_STATUS_TRUTH, fleet_args


def test_power_status_of_a_fleet_reports_each_hosts_truth_and_exits_20(sim_fleet, cli) -> None:
    net = sim_fleet(24, "hung=10%,no-listener=10%,wrong-password=10%,power-unknown=5%,busy=5%,not-provisioned=5%")
    result = cli("power", "status", *fleet_args(net, "--json"))
    assert result.returncode == 20, result.stderr
    report = json.loads(result.stdout)
    assert [r["host"] for r in report["results"]] == net.hosts
    for row in report["results"]:
        assert row["category"] == POWER_STATUS_TRUTH[net.conditions[row["host"]]], row
    assert report["summary"]["total"] == 24 and report["job"] == 1
    assert "Traceback" not in result.stderr


def test_every_host_ok_exits_0_and_prints_a_line_per_host_and_a_summary(sim_fleet, cli) -> None:
    net = sim_fleet(4)
    result = cli("power", "status", *fleet_args(net))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:4]] == [[host, "ok"] for host in net.hosts]
    assert lines[0].split()[2] == "on"
    assert lines[-1].startswith("job 1: power.status on 4 host(s)") and "4 ok, 0 failed" in lines[-1]
    assert "progress: 4/4 hosts, 0 failed" in result.stderr  # plain progress lines: stderr is not a terminal


def test_no_host_ok_exits_21(sim_fleet, cli) -> None:
    net = sim_fleet(2, "wrong-password=100%")
    result = cli("power", "status", *fleet_args(net))
    assert result.returncode == 21
    assert "auth-failed: authentication failed for user 'admin'" in result.stdout


def test_a_device_that_is_not_provisioned_is_reported_so_not_as_a_wrong_password(sim_fleet, cli) -> None:
    net = sim_fleet(2, "not-provisioned=50%,wrong-password=50%")
    result = cli("power", "status", *fleet_args(net, "--json"))
    rows = {row["host"]: row for row in json.loads(result.stdout)["results"]}
    unprovisioned = rows[net.with_condition("not-provisioned")[0]]
    assert (unprovisioned["category"], unprovisioned["return_code"]) == ("not-provisioned", None)
    assert unprovisioned["hint"].startswith("provision it (admin or client control mode)")
    assert rows[net.with_condition("wrong-password")[0]]["category"] == "auth-failed"
    assert json.loads(result.stdout)["summary"]["categories"] == {"auth-failed": 1, "not-provisioned": 1}


def test_a_device_whose_web_ports_stay_closed_until_provisioned_is_not_provisioned(sim_fleet, cli) -> None:
    net = sim_fleet(2, "unprovisioned-closed=50%,no-listener=50%")
    result = cli("power", "status", *fleet_args(net, "--json"))
    rows = {row["host"]: row for row in json.loads(result.stdout)["results"]}
    closed = rows[net.with_condition("unprovisioned-closed")[0]]
    assert closed["category"] == "not-provisioned" and "refused the connection" in closed["message"]
    assert rows[net.with_condition("no-listener")[0]]["category"] == "unreachable"  # no pong: nothing there


def test_telling_an_unprovisioned_device_apart_spends_no_further_login(sim_fleet, cli) -> None:
    net = sim_fleet(2, "not-provisioned=50%,wrong-password=50%")
    cli("power", "status", *fleet_args(net))
    unprovisioned, wrong = net.with_condition("not-provisioned")[0], net.with_condition("wrong-password")[0]
    # The first request draws the digest challenge, the signed one is refused: one login each, nothing more.
    assert net.stats(unprovisioned)["http_requests"] == net.stats(wrong)["http_requests"] == 2


def test_a_refused_login_stays_auth_failed_when_no_presence_pong_answers(sim_fleet, cli) -> None:
    net = sim_fleet(1, "not-provisioned=100%")
    silent = str(net.port + 1)  # no device answers RMCP there
    result = cli("power", "status", *fleet_args(net, "--rmcp-port", silent, "--csv"))
    assert list(csv.DictReader(io.StringIO(result.stdout)))[0]["category"] == "auth-failed"


def test_generation_eoi_makes_every_host_of_a_fleet_job_speak_legacy_soap(sim_fleet, cli) -> None:
    net = sim_fleet(2, amt_version="5.0.1")  # legacy SOAP and WS-Man on one port: auto would take WS-Man
    result = cli("power", "status", *fleet_args(net, "--generation", "eoi", "--json"))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["results"]
    assert [(row["data"]["state"], row["data"]["asf_state"]) for row in rows] == [("on", 0)] * 2  # ASF S0 working
    assert [(net.stats(h)["eoi_requests"] > 0, net.stats(h)["wsman_requests"]) for h in net.hosts] == [(True, 0)] * 2


@pytest.mark.parametrize("speaking", [("--generation", "eoi"), ("--transport", "requests")])
def test_a_challenge_answered_through_requests_keeps_to_the_hosts_deadline(sim_fleet, cli, speaking: tuple[str, str]) -> None:
    net = sim_fleet(1, delay=(0.6, 0.6), amt_version="5.0.1")  # the challenge and the signed request: 1.2 s
    result = cli("power", "status", *fleet_args(net, *speaking, "--retries", "0", "--csv"))  # deadline 1 s
    row = list(csv.DictReader(io.StringIO(result.stdout)))[0]
    assert row["category"] == "timeout", row  # without the cut, the signed request would be answered at 1.2 s: ok


def test_csv_report_has_a_row_per_host(sim_fleet, cli) -> None:
    net = sim_fleet(3, "busy=34%")
    result = cli("power", "status", *fleet_args(net, "--csv", "--retries", "0"))
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["host"] for row in rows] == net.hosts
    assert sorted(row["category"] for row in rows) == ["", "", "busy"]


def test_power_action_on_a_fleet_changes_every_machine(sim_fleet, cli) -> None:
    net = sim_fleet(3)
    result = cli("power", "off", *fleet_args(net, "--json"))
    assert result.returncode == 0, result.stderr
    assert [r["data"]["action"] for r in json.loads(result.stdout)["results"]] == ["off"] * 3
    assert all(device.power.reported_state == 8 for device in net.devices.values())  # 8 = Off - Soft


def test_a_target_file_and_a_usage_error(sim_fleet, cli, tmp_path) -> None:
    net = sim_fleet(2)
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("\n".join(net.hosts) + "\n")
    result = cli("power", "status", f"@{hosts}", "--port", str(net.port), "--json")
    assert result.returncode == 0 and len(json.loads(result.stdout)["results"]) == 2
    bad = cli("power", "status", "10.0.0.0/33", "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["category"] == "usage"


def test_job_list_and_show(sim_fleet, cli) -> None:
    net = sim_fleet(2, "wrong-password=50%")
    cli("power", "status", *fleet_args(net))
    listing = cli("job", "list")
    assert listing.returncode == 0
    assert listing.stdout.splitlines()[1].split()[3:7] == ["alice", "power.status", "finished", "2/2"]
    shown = cli("job", "show", "1", "--json")
    assert shown.returncode == 20
    assert [r["category"] for r in json.loads(shown.stdout)["results"]].count("auth-failed") == 1


def done_hosts(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM job_host WHERE state = 'done'").fetchone()[0])
    except sqlite3.OperationalError:  # the job tables are not there yet
        return 0


def wait_for_done(store: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while done_hosts(store) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.02)


def test_kill_9_then_resume_loses_nothing_and_does_nothing_twice(sim_fleet, cli) -> None:
    net = sim_fleet(30, delay=(0.03, 0.03))
    process = cli.start("power", "status", *fleet_args(net, "--concurrency", "2"))
    wait_for_done(cli.store, 6, process)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    with sqlite3.connect(cli.store) as db:
        finished = dict(db.execute("SELECT host, finished_at FROM job_host WHERE state = 'done'").fetchall())
    assert 6 <= len(finished) < 30

    listing = cli("job", "list")
    assert "interrupted" in listing.stdout
    resumed = cli("job", "resume", "1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    results = json.loads(resumed.stdout)["results"]
    assert [r["host"] for r in results] == net.hosts  # 0 lost, none twice in the report
    with sqlite3.connect(cli.store) as db:
        again = dict(db.execute("SELECT host, finished_at FROM job_host").fetchall())
    assert all(again[host] == stamp for host, stamp in finished.items())  # finished results kept as they were
    # Each machine was asked once: those finished before the kill were not asked again. A host that was
    # in flight at the kill may have been asked twice (a read: harmless, and run again on purpose).
    asked = [net.stats(host)["wsman_requests"] for host in net.hosts]
    assert all(count == 1 for host, count in zip(net.hosts, asked, strict=True) if host in finished)
    assert sum(count > 1 for count in asked) <= 2


def test_ctrl_c_prints_the_report_of_what_was_done_and_exits_130(sim_fleet, cli) -> None:
    net = sim_fleet(20, delay=(0.05, 0.05))
    process = cli.start("power", "status", *fleet_args(net, "--concurrency", "1", "--json"))
    wait_for_done(cli.store, 2, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    report = json.loads(out)
    assert report["cancelled"] is True and len(report["results"]) == 20
    assert report["summary"]["ok"] >= 2 and report["summary"]["cancelled"] >= 1
    assert report["summary"]["ok"] + report["summary"]["cancelled"] == 20
    assert "Traceback" not in err


def _one_host_args(net, host: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [host, "--port", str(net.port), "--rmcp-port", str(net.port), "--timeout", "1", "--json"]


def test_one_unprovisioned_machine_is_reported_not_provisioned_with_exit_7(sim_fleet, cli) -> None:
    net = sim_fleet(1, "not-provisioned=100%")
    result = cli("power", "status", *_one_host_args(net, net.hosts[0]))
    assert result.returncode == 7, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["ok"], answer["category"], answer["host"]) == (False, "not-provisioned", net.hosts[0])
    assert "presence pong" in answer["message"] and answer["hint"].startswith("provision it")
    assert net.stats(net.hosts[0])["http_requests"] == 2  # one login, nothing more


def test_one_machine_refusing_a_wrong_password_stays_auth_failed_with_exit_6(sim_fleet, cli) -> None:
    net = sim_fleet(1, "wrong-password=100%")
    result = cli("power", "status", *_one_host_args(net, net.hosts[0]))
    assert result.returncode == 6, result.stderr
    assert json.loads(result.stdout)["category"] == "auth-failed"


def test_one_machine_with_closed_web_ports_before_provisioning_is_not_provisioned(sim_fleet, cli) -> None:
    net = sim_fleet(1, "unprovisioned-closed=100%")
    result = cli("power", "status", *_one_host_args(net, net.hosts[0]))
    assert result.returncode == 7, result.stderr
    assert "refused the connection" in json.loads(result.stdout)["message"]
