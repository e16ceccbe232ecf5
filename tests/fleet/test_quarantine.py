"""The quarantine workflow through the CLI against a simulated fleet: exclusions, the lockout check before
anything is written, AMT's timeout as a safety net, grace periods, the due runner, the record, release."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fleetsim import fleet_args

from amtkit.fleet import Login
from amtkit.quarantine import parse_duration, run_due, status
from amtkit.store import Store
from amtsim.backends.defense import defense_of

MANAGER = "10.0.0.5"
FILTERS = Path(__file__).resolve().parents[2] / "filters"


def policy_on(device) -> object:  # type: ignore[no-untyped-def]
    with device.lock:
        return defense_of(device).active_policy(0)


def timeout_minutes_on(device) -> int:  # type: ignore[no-untyped-def]
    with device.lock:
        backend = defense_of(device)
        active = backend.active_policy(0)
        return backend.get_timeout(active.handle)


def test_apply_quarantines_all_but_the_excluded_and_records_who_and_since_when(sim_fleet, cli, tmp_path) -> None:
    net = sim_fleet(6, "hung=17%")
    (hung,) = net.with_condition("hung")
    keep = [h for h in net.hosts if h != hung][:2]
    exclude = tmp_path / "never.txt"
    exclude.write_text(f"{keep[0]}  # the domain controller\n{keep[1]}/32\n")
    result = cli("quarantine", "apply", *fleet_args(net), "--manager", MANAGER, "--exclude", str(exclude),
                 "--reason", "CVE-2024-0001 unpatched", "--json")
    assert result.returncode == 20, result.stderr  # the hung machine could not be reached
    report = json.loads(result.stdout)
    assert sorted(report["excluded"]) == sorted(keep)
    assert report["result" + "s"][0]["data"]["policy"] == "quarantine-strict"
    quarantined = [h for h in net.hosts if h not in keep and h != hung]
    for host in net.hosts:
        assert (policy_on(net.devices[host]) is not None) == (host in quarantined), host
    assert {timeout_minutes_on(net.devices[h]) for h in quarantined} == {1440}  # 24 h safety net, in minutes

    shown = {q["host"]: q for q in json.loads(cli("quarantine", "status", "--json").stdout)["quarantines"]}
    assert set(shown) == {*quarantined, hung}
    assert {shown[h]["state"] for h in quarantined} == {"active"}
    assert (shown[hung]["state"], shown[hung]["last_category"]) == ("failed", "timeout")
    first = shown[quarantined[0]]
    assert (first["requested_by"], first["applied_by"], first["reason"]) == (
        "alice", "alice", "CVE-2024-0001 unpatched")
    assert first["applied_at"] >= first["requested_at"]


def test_a_set_that_would_cut_the_manager_off_touches_no_machine(sim_fleet, cli, tmp_path) -> None:
    net = sim_fleet(3)
    bad = tmp_path / "bad.xml"
    bad.write_bytes((FILTERS / "quarantine-strict.xml").read_bytes().replace(
        b'<ping allow="false"/>',
        b'<ping allow="false"/>\n  <ipFilter direction="transmit" profile="drop" protocol="tcp" dstPorts="443"/>'))
    result = cli("quarantine", "apply", *fleet_args(net), "--manager", MANAGER, "--filters", str(bad), "--json")
    assert result.returncode == 14
    assert "blocked by filters[0]" in json.loads(result.stdout)["blocked"][0]
    assert all(net.stats(h)["connections"] == 0 for h in net.hosts)
    assert json.loads(cli("quarantine", "status", "--json").stdout)["quarantines"] == []


def test_the_manager_itself_is_never_quarantined(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("quarantine", "apply", *fleet_args(net), "--manager", net.hosts[0], "--json")
    assert json.loads(result.stdout)["excluded"] == [net.hosts[0]]
    assert policy_on(net.devices[net.hosts[0]]) is None and policy_on(net.devices[net.hosts[1]]) is not None


def test_a_grace_period_records_the_quarantine_and_the_runner_applies_it_when_due(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    result = cli("quarantine", "apply", *fleet_args(net), "--manager", MANAGER, "--grace", "2h", "--json")
    assert result.returncode == 0 and len(json.loads(result.stdout)["scheduled"]) == 2
    assert all(net.stats(h)["connections"] == 0 for h in net.hosts)  # nothing written before it is due
    assert "no quarantine due" in cli("quarantine", "run").stdout

    later = datetime.now(timezone.utc) + timedelta(hours=2, seconds=1)
    with Store.open(cli.store) as store:
        (report,) = run_due(store, login=Login(password="P@ssw0rd"), now=later)
        assert report.ok and [q.state for q in status(store)] == ["active", "active"]
    assert all(policy_on(net.devices[h]) is not None for h in net.hosts)


def test_the_runner_restarts_amts_timer_before_it_runs_out(sim_fleet, cli) -> None:
    net = sim_fleet(1)
    cli("quarantine", "apply", *fleet_args(net), "--manager", MANAGER, "--safety-timeout", "1h")
    with Store.open(cli.store) as store:
        assert run_due(store, login=Login(password="P@ssw0rd")) == []  # fresh: nothing to do
        half_way = datetime.now(timezone.utc) + timedelta(minutes=31)
        (report,) = run_due(store, login=Login(password="P@ssw0rd"), now=half_way)
        assert report.ok and status(store)[0].refreshed_at is not None


def test_release_lifts_active_quarantines_and_cancels_pending_ones_without_contact(sim_fleet, cli) -> None:
    net = sim_fleet(2)
    active, pending = net.hosts
    cli("quarantine", "apply", active, "--port", str(net.port), "--manager", MANAGER)
    cli("quarantine", "apply", pending, "--port", str(net.port), "--manager", MANAGER, "--grace", "1d")
    before = net.stats(pending)["connections"]
    result = cli("quarantine", "release", *fleet_args(net), "--json")
    assert result.returncode == 0, result.stderr
    assert policy_on(net.devices[active]) is None
    assert net.stats(pending)["connections"] == before
    records = {q["host"]: q for q in json.loads(cli("quarantine", "status", "--all", "--json").stdout)["quarantines"]}
    assert (records[active]["state"], records[active]["released_by"]) == ("released", "alice")
    assert records[pending]["state"] == "cancelled"
    operations = [r["operation"] for r in json.loads(cli("log", "--host", active, "--json").stdout)["records"]]
    assert operations == ["defense.apply", "defense.remove"]


def test_status_live_finds_a_quarantine_amts_safety_timeout_has_lifted(sim_fleet, cli) -> None:
    from amtsim.control import DeviceControl

    net = sim_fleet(2)
    kept, lifted = net.hosts
    cli("quarantine", "apply", *fleet_args(net), "--manager", MANAGER, "--safety-timeout", "1h")
    DeviceControl(net.devices[lifted]).advance_defense_clock(3601)  # nobody refreshed it: AMT lifts it
    result = cli("quarantine", "status", "--live", "--json")
    assert result.returncode == 20, result.stderr
    devices = {q["host"]: q["device"] for q in json.loads(result.stdout)["quarantines"]}
    assert devices == {kept: "in force", lifted: "not in force"}


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400),
                                               ("1.5h", 5400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_is_a_usage_error(cli) -> None:
    result = cli("quarantine", "apply", "10.0.0.1", "--manager", MANAGER, "--grace", "soon")
    assert result.returncode == 2 and "soon" in result.stderr
