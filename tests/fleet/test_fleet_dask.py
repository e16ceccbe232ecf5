"""The same job on Dask distributed (a LocalCluster of processes) against the simulated fleet: the report
equals the local run's, and the store records it the same way."""

from __future__ import annotations

import distributed
import pytest
from fleetsim import POWER_STATUS_TRUTH

from amtkit import fleet
from amtkit.fleet import tasks
from amtkit.fleet.distributed import local_cluster, run_distributed
from amtkit.fleet.jobs import job_results, load_job
from amtkit.store import Store


@pytest.fixture(scope="module")
def dask_client():  # type: ignore[no-untyped-def]
    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        yield client


def test_a_distributed_run_reports_what_the_local_run_reports(sim_fleet, dask_client, tmp_path) -> None:
    net = sim_fleet(20, "hung=10%,no-listener=10%,wrong-password=10%,power-unknown=5%,busy=5%")
    options = net.options(deadline=1.0)
    local = fleet.run(tasks.power_status(), net.hosts, login=net.login(), options=options)
    with Store.open(tmp_path / "amtkit.db") as store:
        remote = run_distributed(tasks.power_status(), net.hosts, dask=dask_client, login=net.login(),
                                 options=options, store=store, shards=6)
        assert remote.verdicts() == local.verdicts()
        assert [r.category for r in remote.results] == [POWER_STATUS_TRUTH[net.conditions[h]] for h in net.hosts]
        job = load_job(store, remote.job_id)
        assert (job.state, job.done, job.options["engine"]) == ("finished", 20, "dask")
        assert [r.verdict() for r in job_results(store, remote.job_id)] == local.verdicts()


def test_a_users_function_runs_on_the_workers(sim_fleet, dask_client) -> None:
    net = sim_fleet(3)
    task = tasks.from_function(lambda amt: amt.get("AMT_GeneralSettings").get("HostName"), name="hostname")
    report = run_distributed(task, net.hosts, dask=dask_client, login=net.login(), options=net.options())
    assert [r.data for r in report.results] == ["pc-0001", "pc-0002", "pc-0003"]
