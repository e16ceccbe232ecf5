"""Jobs in the store: each host's result committed as it finishes, and resume without redoing a finished host."""

from __future__ import annotations

import threading

import pytest

from amtkit import exceptions as exc
from amtkit import fleet
from amtkit.fleet import Outcome, tasks
from amtkit.fleet.jobs import job_results, list_jobs, load_job
from amtkit.store import Store


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    with Store.open(tmp_path / "amtkit.db") as opened:
        yield opened


def cancel_after(count: int) -> tuple[threading.Event, object]:
    cancel = threading.Event()

    def progress(result, done, total) -> None:  # type: ignore[no-untyped-def]
        if done >= count:
            cancel.set()

    return cancel, progress


def test_a_job_is_recorded_host_by_host(sim_fleet, store) -> None:
    net = sim_fleet(5, "wrong-password=20%")
    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options(), store=store)
    job = load_job(store, report.job_id)
    assert (job.task, job.hosts, job.done, job.state) == ("power.status", 5, 5, "finished")
    assert job.options["port"] == net.port and job.options["login"] == {"username": "admin"}
    assert "P@ssw0rd" not in str(job.to_dict())
    assert [r.verdict() for r in job_results(store, report.job_id)] == report.verdicts()
    assert list_jobs(store)[0].id == report.job_id


def test_resume_runs_only_the_hosts_without_a_result(sim_fleet, store) -> None:
    net = sim_fleet(12, delay=(0.01, 0.01))
    cancel, progress = cancel_after(4)
    first = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options(concurrency=1),
                      store=store, progress=progress, cancel=cancel)
    done_first = [r.host for r in first.results if r.ok]
    assert first.cancelled and 4 <= len(done_first) < 12
    assert load_job(store, first.job_id).state == "cancelled"
    before = {host: net.stats(host)["wsman_requests"] for host in net.hosts}

    report = fleet.resume(first.job_id, store=store, login=net.login())
    assert report.ok and [r.host for r in report.results] == net.hosts
    after = {host: net.stats(host)["wsman_requests"] for host in net.hosts}
    assert all(after[h] == before[h] == 1 for h in done_first)  # finished hosts were not asked again
    assert all(after[h] == 1 for h in net.hosts)
    assert load_job(store, first.job_id).state == "finished"


def test_a_change_in_flight_when_the_job_stopped_is_in_doubt_not_redone(sim_fleet, store) -> None:
    net = sim_fleet(3)
    task = tasks.power_action("off")
    report = fleet.run(task, net.hosts, login=net.login(), options=net.options(), store=store)
    # What a kill -9 in the middle of the second host leaves: it was marked running, no result.
    with store.transaction() as db:
        db.execute("UPDATE job_host SET state = 'running', outcome = NULL WHERE job_id = ? AND position = 1",
                   (report.job_id,))
        db.execute("UPDATE job SET state = 'running', pid = NULL WHERE id = ?", (report.job_id,))
    assert load_job(store, report.job_id).status == "interrupted"
    resumed = fleet.resume(report.job_id, store=store, login=net.login())
    assert [r.outcome for r in resumed.results] == [Outcome.OK, Outcome.IN_DOUBT, Outcome.OK]
    assert len(net.devices[net.hosts[1]].power.history) == 1  # not sent a second time

    again = fleet.resume(report.job_id, store=store, login=net.login(), retry_in_doubt=True)
    assert again.results[1].category == "power"  # sent again: now refused, the machine is already off


def test_resume_refuses_a_job_that_is_still_running(sim_fleet, store) -> None:
    net = sim_fleet(1)
    report = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=net.options(), store=store)
    with store.transaction() as db:
        db.execute("UPDATE job SET state = 'running', pid = ? WHERE id = ?", (__import__("os").getpid(),
                                                                               report.job_id))
    with pytest.raises(exc.UsageError, match="still running"):
        fleet.resume(report.job_id, store=store, login=net.login())


def test_resume_of_an_unknown_job_says_so(store) -> None:
    with pytest.raises(exc.AMTError, match="no job 99"):
        fleet.resume(99, store=store)
