"""The activity log: every operation on a machine recorded (who, when, what, outcome, return code, no secrets),
queried by host, time and operation, and hash-chained so an edit, a deletion or an insertion is named."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from fleetsim import amtkit_path, fleet_args

from amtkit import activity
from amtkit.store import Store


class LoggedFleet:
    """One simulated fleet and one store whose log holds a fleet job and a single-host command; each test
    works on its own copy of the store."""

    def __init__(self, net, store: Path) -> None:  # type: ignore[no-untyped-def]
        self.net = net
        self.original = store
        self.healthy = net.with_condition("healthy")[0]

    def __call__(self, *args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "AMT_PASSWORD": "P@ssw0rd", "AMTKIT_STORE": str(store or self.original),
               "AMTKIT_OPERATOR": "alice"}
        return subprocess.run([amtkit_path(), *args], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=60)


@pytest.fixture(scope="module")
def logged(module_fleet, tmp_path_factory):  # type: ignore[no-untyped-def]
    net = module_fleet(4, "busy=25%,wrong-password=25%")
    fleet = LoggedFleet(net, tmp_path_factory.mktemp("activity") / "amtkit.db")
    fleet("power", "status", *fleet_args(net, "--retries", "0"))
    fleet("power", "off", fleet.healthy, "--port", str(net.port))
    return fleet


@pytest.fixture
def cli(logged, tmp_path):  # type: ignore[no-untyped-def]
    """The CLI on a private copy of the logged store (tests that tamper with it)."""
    copy = tmp_path / "amtkit.db"
    shutil.copy(logged.original, copy)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return logged(*args, store=copy)

    run.store = copy  # type: ignore[attr-defined]
    return run


@pytest.fixture
def logged_fleet(logged):  # type: ignore[no-untyped-def]
    return logged.net, logged.healthy


def test_every_operation_is_recorded_with_who_what_and_how_it_ended(logged_fleet, cli) -> None:
    net, healthy = logged_fleet
    records = json.loads(cli("log", "--json").stdout)["records"]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    by_host = {r["host"]: r for r in records if r["operation"] == "power.status"}
    assert set(by_host) == set(net.hosts)
    busy = by_host[net.with_condition("busy")[0]]
    assert (busy["outcome"], busy["category"], busy["return_code"], busy["job"]) == ("failed", "busy", 2, 1)
    assert by_host[net.with_condition("wrong-password")[0]]["category"] == "auth-failed"
    last = records[-1]
    assert (last["host"], last["operation"], last["parameters"], last["outcome"], last["operator"]) == (
        healthy, "power.action", {"action": "off"}, "ok", "alice")
    assert last["job"] is None


def test_the_store_never_holds_the_password(logged) -> None:
    for path in logged.original.parent.iterdir():  # the database and its WAL
        assert b"P@ssw0rd" not in path.read_bytes(), path


def test_queries_by_host_operation_and_time(logged_fleet, logged, cli) -> None:
    net, healthy = logged_fleet
    mine = json.loads(cli("log", "--host", healthy, "--json").stdout)["records"]
    assert [r["operation"] for r in mine] == ["power.status", "power.action"]
    with Store.open(logged.original) as store:
        assert [r.host for r in activity.query(store, operation="power.action")] == [healthy]
        assert len(activity.query(store, operation="power")) == 5  # the family: power.status and power.action
        assert activity.query(store, since="2999-01-01") == []
        assert [r.seq for r in activity.query(store, until="2999-01-01", limit=2)] == [4, 5]
        assert len(activity.query(store, job_id=1)) == 4
    bad = cli("log", "--since", "last tuesday")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def tamper(store, *statements: str) -> None:  # type: ignore[no-untyped-def]
    with sqlite3.connect(store) as db:
        for statement in statements:
            db.execute(statement)


def test_an_intact_log_verifies(logged_fleet, cli) -> None:
    result = cli("log", "verify", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["checked"] == 5


def test_an_edited_record_is_named(logged_fleet, cli) -> None:
    tamper(cli.store, "UPDATE activity SET outcome = 'ok', operation = 'identify' WHERE seq = 3")
    result = cli("log", "verify")
    assert result.returncode == 1
    assert "record 3: its contents do not match its hash (edited)" in result.stdout


def test_a_deleted_record_is_named(logged_fleet, cli) -> None:
    tamper(cli.store, "DELETE FROM activity WHERE seq = 2")
    report = json.loads(cli("log", "verify", "--json").stdout)
    assert (report["ok"], report["first_bad"]) == (False, 3)
    assert report["reason"] == "record 2 is missing (deleted)"


def test_an_inserted_record_is_named(logged_fleet, cli) -> None:
    tamper(cli.store, "UPDATE activity SET seq = seq + 100 WHERE seq >= 4", "UPDATE activity SET seq = seq - 99 WHERE seq > 100",
           "INSERT INTO activity (seq, at, operator, host, operation, parameters, outcome, prev_hash, hash) "
           "SELECT 4, at, operator, host, 'defense.remove', '{}', 'ok', hash, hash FROM activity WHERE seq = 3")
    report = json.loads(cli("log", "verify", "--json").stdout)
    assert (report["ok"], report["first_bad"]) == (False, 4)


def test_a_rewritten_tail_is_caught_by_the_anchor(logged_fleet, cli) -> None:
    with Store.open(cli.store) as store:
        head = activity.verify(store).head
    tamper(cli.store, "DELETE FROM activity WHERE seq = 5")  # the last record: the rest still chains
    with Store.open(cli.store) as store:
        assert activity.verify(store).ok
    result = cli("log", "verify", "--anchor", head)
    assert result.returncode == 1 and "anchor is not in the chain" in result.stdout


def test_appends_from_the_library_chain_on(tmp_path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        activity.append(store, [activity.Entry("10.0.0.1", "power.status", "ok", operator="carol")])
        activity.append(store, [activity.Entry("10.0.0.2", "defense.apply", "failed", {"filters": "ping"},
                                               "lockout", operator="carol")])
        records = activity.query(store)
        assert records[1].prev_hash == records[0].hash and records[0].prev_hash == activity.GENESIS
        assert activity.verify(store).ok
