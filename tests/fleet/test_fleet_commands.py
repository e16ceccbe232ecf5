"""The commands that used to manage one host, given many targets: ``diagnose``, ``power wait``, ``power request``
run as fleet jobs against a simulated fleet (report per host, exit codes 0/20/21, usage errors before any host)."""

from __future__ import annotations

import json

from fleetsim import fleet_args


def test_diagnose_of_a_fleet_stops_each_host_at_its_own_broken_rung(sim_fleet, cli) -> None:
    net = sim_fleet(3, "not-provisioned=34%,wrong-password=34%")
    result = cli("diagnose", *fleet_args(net, "--json"))
    assert result.returncode == 20, result.stderr
    rows = {row["host"]: row for row in json.loads(result.stdout)["results"]}
    verdicts = {net.conditions[host]: (row["category"], row["data"]["stopped_at"]) for host, row in rows.items()}
    assert verdicts == {"healthy": (None, None), "not-provisioned": ("not-provisioned", "provisioned"),
                        "wrong-password": ("auth-failed", "credentials")}


def test_diagnose_of_a_fleet_prints_a_line_per_host_and_the_summary(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("diagnose", *fleet_args(net))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:3] for line in lines[:2]] == [[host, "ok", "every"] for host in net.hosts]
    assert lines[-1].startswith("job 1: diagnose on 2 host(s)")


def test_power_wait_on_a_fleet_reports_each_host_in_the_state(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("power", "wait", *fleet_args(net, "--json"), "on", "--within", "0.5")
    assert result.returncode == 0, result.stderr
    assert [row["data"] for row in json.loads(result.stdout)["results"]] == [{"state": "on"}] * 2


def test_power_wait_on_a_fleet_that_never_gets_there_is_a_power_timeout_on_every_host(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("power", "wait", *fleet_args(net, "--json"), "off_soft", "--within", "0.3")
    assert result.returncode == 21
    assert [row["category"] for row in json.loads(result.stdout)["results"]] == ["power-timeout"] * 2


def test_power_wait_with_a_deadline_shorter_than_the_wait_is_a_usage_error(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("power", "wait", *fleet_args(net), "on", "--within", "5")  # fleet_args: --deadline 1
    assert result.returncode == 2 and "--deadline" in result.stderr
    assert [net.stats(host)["http_requests"] for host in net.hosts] == [0, 0]


def test_power_request_on_a_fleet_sends_the_raw_code_to_every_host(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("power", "request", *fleet_args(net, "--json"), "8")  # 8: RequestPowerStateChange Off - Soft
    assert result.returncode == 0, result.stderr
    status = json.loads(cli("power", "status", *fleet_args(net, "--json")).stdout)
    assert [row["data"]["state_code"] for row in status["results"]] == [8, 8]  # CIM PowerState 8 = Off - Soft


def test_power_request_of_an_unknown_action_is_a_usage_error_before_any_host(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("power", "request", *fleet_args(net), "offf")
    assert result.returncode == 2 and "offf" in result.stderr
    assert [net.stats(host)["http_requests"] for host in net.hosts] == [0, 0]
