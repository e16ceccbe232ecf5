"""``amtkit job list|show|resume``: the fleet jobs in the store.

::

    amtkit job list                      # newest first: id, when, who, task, state, hosts done
    amtkit job show 12 [--json|--csv]    # the report as the store has it
    amtkit job resume 12                 # finish a job that was cancelled, killed or crashed

A resumed job keeps the results of finished hosts and runs the others, with the job's own task,
options and user; the password comes from ``AMT_PASSWORD`` (or a prompt, or the job's profile file)
again, since it is never stored. A host whose change was in flight when the job stopped is
``in-doubt`` and left alone unless ``--retry-in-doubt``.
"""

from __future__ import annotations

import sys

import click

from .common import Connection, handle_errors, store_option
from .fleet import print_report

__all__ = ["job_group"]


@click.group("job")
def job_group() -> None:
    """Fleet jobs recorded in the store: list, show, resume."""


@job_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
@handle_errors
def list_command(limit: int, as_json: bool, store_path: str | None) -> None:
    """List the latest fleet jobs."""
    import json

    from ..fleet.jobs import list_jobs
    from ..store import Store

    with Store.open(store_path) as store:
        jobs = list_jobs(store, limit)
    if as_json:
        click.echo(json.dumps({"ok": True, "jobs": [job.to_dict() for job in jobs]}))
        return
    if not jobs:
        click.echo("no jobs in the store")
        return
    rows = [("ID", "CREATED", "OPERATOR", "TASK", "STATE", "DONE")]
    rows += [(str(j.id), j.created_at[:19].replace("T", " "), j.operator, j.task, j.status, f"{j.done}/{j.hosts}")
             for j in jobs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@job_group.command("show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the report as CSV.")
@store_option
@handle_errors
def show_command(job_id: int, as_json: bool, as_csv: bool, store_path: str | None) -> None:
    """Show a job's report as the store has it; the exit code is the job's (0, 20, 21, 130)."""
    from ..fleet.jobs import job_results, load_job
    from ..fleet.report import FleetReport
    from ..store import Store

    with Store.open(store_path) as store:
        job = load_job(store, job_id)
        results = job_results(store, job_id)
    report = FleetReport(job.task, results, job_id=job.id, cancelled=job.status != "finished",
                         parameters={k: v for k, v in job.parameters.items() if not k.endswith("_xml")})
    if not as_json and not as_csv:
        click.echo(f"job {job.id}: {job.task} by {job.operator}, created {job.created_at}, {job.status}")
    print_report(report, as_json, as_csv)
    sys.exit(report.exit_code)


@job_group.command("resume")
@click.argument("job_id", type=int)
@click.option("--retry-in-doubt", is_flag=True,
              help="Also run again the hosts whose change was in flight when the job stopped.")
@click.option("--profiles", "profiles_file", type=click.Path(dir_okay=False), default=None,
              help="Credential profile file [the job's own, if it used one].")
@click.option("--concurrency", type=click.IntRange(1, 4096), default=None, help="Override the job's concurrency.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the report as CSV.")
@store_option
@handle_errors
def resume_command(job_id: int, retry_in_doubt: bool, profiles_file: str | None, concurrency: int | None,
                   as_json: bool, as_csv: bool, store_path: str | None) -> None:
    """Finish job JOB_ID: hosts with a result keep it, the others run now."""
    import dataclasses

    from ..fleet.engine import FleetOptions, Login, resume
    from ..fleet.jobs import load_job
    from ..profiles import ProfileSet
    from ..store import Store
    from .fleet import progress_for

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    with Store.open(store_path) as store:
        job = load_job(store, job_id)
        recorded = job.options.get("login", {})
        if profiles_file is None and recorded.get("profiles"):
            profiles_file = str(recorded["profiles"])
        if profiles_file is not None:
            login = Login(profiles=ProfileSet.load(profiles_file))
        else:
            login = Login(recorded.get("username", "admin"), _password(recorded.get("username", "admin")))
        options = FleetOptions.from_dict({k: v for k, v in job.options.items() if k not in ("login", "builtin")})
        if concurrency is not None:
            options = dataclasses.replace(options, concurrency=concurrency)
        with progress_for((as_json or as_csv) and not sys.stderr.isatty()) as progress:
            report = resume(job_id, store=store, login=login, options=options, progress=progress,
                            retry_in_doubt=retry_in_doubt)
    print_report(report, as_json, as_csv)
    sys.exit(report.exit_code)


def _password(username: str) -> str:
    """``AMT_PASSWORD`` or a prompt, as every command asks (never stored with a job)."""
    return Connection(username=username, port=None, tls=None, timeout=30.0, as_json=False).password()
