"""amtkit.fleet as a library: a task over a simulated fleet, each host's verdict against the scenario's truth,
bounded deadlines, retries only where they are safe, cancellation, user functions, targets."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import datetime, timezone

import pytest
from fleetsim import POWER_STATUS_TRUTH

from amtkit import fleet
from amtkit.fleet import FleetOptions, Outcome, tasks

MIX = "hung=10%,no-listener=10%,wrong-password=10%,power-unknown=5%,busy=5%,goes-silent=5%,not-provisioned=5%"


def test_power_status_verdict_of_every_host_equals_the_scenario_truth(sim_fleet) -> None:
    net = sim_fleet(40, MIX)
    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options())
    assert [r.host for r in report.results] == net.hosts
    for result in report.results:
        assert result.category == POWER_STATUS_TRUTH[net.conditions[result.host]], result
    healthy = report.result(net.with_condition("healthy")[0])
    assert healthy.outcome is Outcome.OK and healthy.data["state"] == "on"
    assert healthy.data["state_code"] == 2  # CIM PowerState 2 = On


def test_summary_counts_outcomes_and_categories(sim_fleet) -> None:
    net = sim_fleet(20, "hung=10%,wrong-password=5%")
    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options())
    summary = report.summary()
    assert (summary["total"], summary["ok"], summary["failed"]) == (20, 17, 3)
    assert summary["categories"] == {"auth-failed": 1, "timeout": 2}
    assert report.exit_code == 20 and not report.ok


def test_json_and_csv_exports_carry_every_host(sim_fleet) -> None:
    net = sim_fleet(6, "busy=20%")
    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options(retries=0))
    document = json.loads(report.to_json())
    assert [r["host"] for r in document["results"]] == net.hosts
    assert document["summary"]["total"] == 6
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert [row["host"] for row in rows] == net.hosts
    busy = next(row for row in rows if row["category"])
    assert (busy["category"], busy["return_code"], busy["outcome"]) == ("busy", "2", "failed")
    ok = next(row for row in rows if not row["category"])
    assert json.loads(ok["data"])["state"] == "on"


def test_a_hung_host_ends_at_its_deadline(sim_fleet) -> None:
    net = sim_fleet(3, "hung=34%")
    (hung,) = net.with_condition("hung")
    started = time.monotonic()
    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(),
                       options=net.options(deadline=0.6, timeout=5.0))
    assert time.monotonic() - started < 2.0
    result = report.result(hung)
    assert result.category == "timeout" and 0.55 <= result.duration < 1.0


def test_a_dropped_connection_is_retried_for_a_read(sim_fleet) -> None:
    net = sim_fleet(1)
    (host,) = net.hosts
    net.devices[host].faults.drop_connections = 1
    result = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options()).results[0]
    assert result.ok and result.attempts == 2


def test_wrong_credentials_are_never_retried(sim_fleet) -> None:
    net = sim_fleet(2, "wrong-password=50%")
    (host,) = net.with_condition("wrong-password")
    result = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options(retries=5)).result(host)
    assert (result.category, result.attempts) == ("auth-failed", 1)
    assert net.stats(host)["auth_failures"] == 1  # one failed login: AMT's anti-hammering stays far away


def test_a_power_action_is_not_retried_after_the_device_stopped_answering(sim_fleet) -> None:
    net = sim_fleet(2, "goes-silent=50%")
    (host,) = net.with_condition("goes-silent")
    report = fleet.run(tasks.power_action("cycle"), net.hosts, login=net.login(), options=net.options(retries=3))
    assert (report.result(host).category, report.result(host).attempts) == ("timeout", 1)


def test_a_busy_engine_is_retried_even_for_a_change(sim_fleet) -> None:
    net = sim_fleet(1, "busy=100%")
    result = fleet.run(tasks.power_action("off"), net.hosts, login=net.login(),
                       options=net.options(retries=2)).results[0]
    assert (result.category, result.attempts, result.return_code) == ("busy", 3, 2)


def test_each_host_runs_once_even_when_targets_repeat_it(sim_fleet) -> None:
    net = sim_fleet(3)
    report = fleet.run(tasks.power_status(), [*net.hosts, net.hosts[0], f"{net.hosts[0]},{net.hosts[1]}"],
                       login=net.login(), options=net.options())
    assert len(report) == 3
    assert [net.stats(h)["wsman_requests"] for h in net.hosts] == [1, 1, 1]


def test_cancelling_leaves_every_host_with_exactly_one_result(sim_fleet) -> None:
    net = sim_fleet(30, delay=(0.02, 0.02))
    cancel = threading.Event()

    def progress(result, done, total) -> None:  # type: ignore[no-untyped-def]
        if done == 5:
            cancel.set()

    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options(concurrency=2),
                       progress=progress, cancel=cancel)
    assert report.cancelled and report.exit_code == 130
    assert [r.host for r in report.results] == net.hosts
    outcomes = {r.outcome for r in report.results}
    assert outcomes == {Outcome.OK, Outcome.CANCELLED}
    assert 5 <= sum(r.ok for r in report.results) <= 7


def test_a_user_function_is_a_task_and_its_failure_fails_only_its_host(sim_fleet) -> None:
    net = sim_fleet(3)

    def hostname(client):  # type: ignore[no-untyped-def]
        if client.host == net.hosts[1]:
            raise RuntimeError("boom")
        return client.get("AMT_GeneralSettings").get("HostName")

    report = fleet.run(tasks.from_function(hostname, name="hostname"), net.hosts, login=net.login(),
                       options=net.options())
    assert report.result(net.hosts[0]).data == "pc-0001"
    failed = report.result(net.hosts[1])
    assert (failed.category, failed.message) == ("error", "the task raised RuntimeError: boom")
    assert report.result(net.hosts[2]).ok


def test_a_sequence_stops_a_host_at_its_first_failing_step(sim_fleet) -> None:
    net = sim_fleet(1)
    steps = tasks.sequence(tasks.power_action("off"), tasks.power_action("off"), tasks.power_status())
    result = fleet.run(steps, net.hosts, login=net.login(), options=net.options()).results[0]
    assert result.category == "power" and "off" in (result.message or "")
    assert net.devices[net.hosts[0]].power.reported_state == 8  # CIM PowerState 8 = Off - Soft


def test_built_in_tasks_are_rebuilt_from_their_spec() -> None:
    original = tasks.sequence(tasks.power_action("cycle", wait=5), tasks.defense_apply("ping", manager=["10.0.0.5"]))
    again = tasks.build(original.name, original.parameters)
    assert again.spec() == original.spec() and again.idempotent is False


def test_options_survive_the_store_round_trip() -> None:
    from amtkit.config import TLSConfig

    options = FleetOptions(concurrency=7, deadline=3, tls=TLSConfig(pin_sha256="ab" * 32, allow_old_tls=True), port=16993)
    assert FleetOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options


def test_targets_come_from_ranges_files_discovery_results_and_the_store(tmp_path) -> None:
    from amtkit.discovery.probe import Classification, HostRecord
    from amtkit.store import Store

    hosts_file = tmp_path / "hosts.txt"
    hosts_file.write_text("10.1.0.9  # the printer room\n10.1.0.1\n")
    discovered = tmp_path / "found.json"
    discovered.write_text(json.dumps({"records": [{"host": "10.2.0.1", "classification": "amt_present"},
                                                  {"host": "10.2.0.2", "classification": "not_amt"}]}))
    with Store.open(tmp_path / "s.db") as store:
        seen = datetime.now(timezone.utc)
        store.save_discovery([HostRecord("10.3.0.1", "10.3.0.1", Classification.AMT_PRESENT, seen),
                              HostRecord("10.3.0.2", "10.3.0.2", Classification.NO_RESPONSE, seen)])
        hosts = fleet.resolve_targets(["10.1.0.1-3", f"@{hosts_file}", f"@{discovered}", "store:amt"], store=store)
    assert hosts == ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.9", "10.2.0.1", "10.3.0.1"]


def test_a_json_file_that_is_not_a_discovery_result_is_a_target_error(tmp_path) -> None:
    from amtkit.discovery.targets import TargetError

    bogus = tmp_path / "other.json"
    bogus.write_text('{"hosts": []}')
    with pytest.raises(TargetError, match="discover --json"):
        fleet.resolve_targets(f"@{bogus}")
