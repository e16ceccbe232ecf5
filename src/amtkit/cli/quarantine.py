"""``amtkit quarantine``: cut machines off at their NIC (System Defense), keep the manager, release them later.

::

    amtkit quarantine apply TARGETS --filters FILE --manager ADDR [--exclude FILE] [--grace 2h]
                                    [--safety-timeout 24h] [--reason TEXT]
    amtkit quarantine status [TARGETS] [--all] [--live] [--json|--csv]
    amtkit quarantine release TARGETS
    amtkit quarantine run [--watch SECONDS]          # apply due quarantines, keep AMT's timers fresh

Without ``--grace`` the quarantine is applied at once (a fleet job: lockout check per host, apply,
read-back) and the command's exit code is the job's (0, 20, 21, 130); with it the quarantines are
recorded as due and ``quarantine run`` (from cron, or staying up with ``--watch``) applies them.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from typing import Any

import click

from .common import connection_options, handle_errors, make_connection, profile_options, store_option
from .defense import _defense_errors
from .fleet import FleetArgs, fleet_options, login_for, options_for, print_report, progress_for

__all__ = ["quarantine_group"]


@click.group("quarantine")
def quarantine_group() -> None:
    """Quarantine machines with System Defense, with exclusions, grace periods, a record and a release."""


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    from ..quarantine import parse_duration

    try:
        return parse_duration(value)
    except Exception as error:  # noqa: BLE001 - UsageError with the value in it
        raise click.BadParameter(str(error)) from error


@quarantine_group.command("apply")
@click.argument("targets", nargs=-1, required=True)
@click.option("--filters", "filters", default="quarantine-strict", show_default=True, metavar="FILE|NAME",
              help="CBFilters file, or a shipped set's name.")
@click.option("--manager", "managers", multiple=True, required=True, metavar="ADDR[:PORTS]",
              help="Management server every machine must keep reaching (repeatable; never quarantined itself).")
@click.option("--exclude", "exclude_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Machines that must never be cut off: addresses, networks, ranges, names (repeatable).")
@click.option("--grace", default=None, callback=_duration, metavar="DURATION",
              help="Wait this long (90s, 15m, 2h, 1d) before the filters go on; `quarantine run` applies them.")
@click.option("--safety-timeout", "safety", default="24h", show_default=True, callback=_duration,
              metavar="DURATION", help="AMT lifts the filters by itself after this unless amtkit refreshes them "
                                       "(0: never; AMT's maximum is about 45 days).")
@click.option("--reason", default=None, help="Why (kept in the record).")
@connection_options
@profile_options
@fleet_options
@handle_errors
@_defense_errors
def apply_command(targets: tuple[str, ...], filters: str, managers: tuple[str, ...], exclude_files: tuple[str, ...],
                  grace: int | None, safety: int | None, reason: str | None, as_json: bool, profiles_file: str | None,
                  profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Quarantine TARGETS: record who, why and since when; apply now or after --grace."""
    from ..defense import load
    from ..defense.notes import apply_notes
    from ..quarantine import Exclusions, request, run_due
    from ..store import Store

    for note in apply_notes(load(filters), managers=managers, timeout=safety or None):  # before anything is written
        click.echo(f"amtkit: note: {note}", err=True)
    conn = make_connection(as_json=as_json, **options)
    fleet_options_ = options_for(conn, fleet)
    with Store.open(fleet.store_path) as store:
        requested = request(store, targets, filters=filters, managers=managers,
                            exclusions=Exclusions.from_files(exclude_files), grace=grace or 0,
                            safety_timeout=safety if safety is not None else 0, reason=reason, options=fleet_options_)
        summary = {"scheduled": requested.scheduled, "excluded": requested.excluded, "refused": requested.refused,
                   "due_at": requested.due_at}
        if grace or not requested.scheduled:
            _say_requested(summary, as_json)
            sys.exit(0 if not requested.refused else 20)
        login = login_for(conn, profiles_file, profile_name)
        with progress_for(as_json and not sys.stderr.isatty()) as progress:
            reports = run_due(store, login=login, options=fleet_options_, progress=progress,
                              hosts=requested.scheduled)
    if not as_json:
        _say_requested(summary, False, applied=True)
    report = reports[0]
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "excluded": requested.excluded, "refused": requested.refused}))
    else:
        print_report(report, False, fleet.as_csv)
    code = report.exit_code
    sys.exit(code if not requested.refused or code else 20)


def _say_requested(summary: dict[str, Any], as_json: bool, applied: bool = False) -> None:
    if as_json:
        click.echo(json.dumps({"ok": not summary["refused"], **summary}))
        return
    if not applied:
        click.echo(f"{len(summary['scheduled'])} quarantine(s) recorded, due {summary['due_at']} "
                   "(`amtkit quarantine run` applies them)")
    for host in summary["excluded"]:
        click.echo(f"{host}: excluded, never cut off", err=True)
    for host, why in summary["refused"].items():
        click.echo(f"{host}: refused by the lockout check, nothing written: {why}", err=True)


_STATUS_FIELDS = ("host", "state", "requested_by", "requested_at", "applied_at", "due_at", "filters", "managers",
                  "safety_timeout", "reason", "released_by", "released_at", "last_category", "last_error", "device")


@quarantine_group.command("status")
@click.argument("targets", nargs=-1)
@click.option("--all", "include_closed", is_flag=True, help="Also released and cancelled quarantines.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--live", is_flag=True,
              help="Also read each machine (a fleet job) and say whether amtkit's policy is in force there; "
                   "exit 20 when an active quarantine is not, or a machine cannot be read.")
@click.option("--user", "-u", "username", envvar="AMT_USER", default="admin", show_default=True,
              help="Digest user for --live (the password from AMT_PASSWORD or --profiles).")
@profile_options
@store_option
@handle_errors
def status_command(targets: tuple[str, ...], include_closed: bool, as_json: bool, as_csv: bool, live: bool,
                   username: str, profiles_file: str | None, profile_name: str | None, store_path: str | None) -> None:
    """Who is quarantined, since when, by whom, and what is due (from the store; --live: and on the machines)."""
    from ..fleet.targets import resolve_targets
    from ..quarantine import check_devices, status
    from ..store import Store
    from .common import Connection

    with Store.open(store_path) as store:
        hosts = resolve_targets(targets, store=store) if targets else None
        records = status(store, hosts, include_closed=include_closed)
        devices: dict[str, str] = {}
        if live:
            conn = Connection(username=username, port=None, tls=None, timeout=30.0, as_json=as_json)
            login = login_for(conn, profiles_file, profile_name)
            with progress_for((as_json or as_csv) and not sys.stderr.isatty()) as progress:
                devices = check_devices(store, [r for r in records if r.state in ("active", "failed")],
                                        login=login, progress=progress)
    rows = [{**record.to_dict(), **({"device": devices.get(record.host)} if live else {})} for record in records]
    mismatch = any(row["state"] == "active" and devices.get(row["host"]) != "in force" for row in rows) or any(
        (state or "").startswith("unknown") for state in devices.values())
    if as_json:
        click.echo(json.dumps({"ok": not (live and mismatch), "quarantines": rows}))
        sys.exit(20 if live and mismatch else 0)
    if as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=_STATUS_FIELDS, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: " ".join(v) if isinstance(v, list) else ("" if v is None else v)
                             for k, v in row.items()})
        click.echo(out.getvalue(), nl=False)
        sys.exit(20 if live and mismatch else 0)
    if not rows:
        click.echo("no quarantines" + ("" if include_closed else " open"))
        return
    for row in rows:
        since = {"active": f"since {row['applied_at']}", "pending": f"due {row['due_at']}",
                 "expired": f"lifted by AMT's safety timeout (applied {row['applied_at']})"}.get(
                     row["state"], f"({row['last_category'] or ''} {row['last_error'] or ''})".replace("( )", ""))
        if row["state"] in ("released", "cancelled"):
            since = f"by {row['released_by']} at {row['released_at']}"
        device = f"; on the machine: {row['device']}" if row.get("device") else ""
        click.echo(f"{row['host']}  {row['state']:<9} {since}; requested by {row['requested_by']} at "
                   f"{row['requested_at']}, {row['filters']}" + (f", {row['reason']}" if row["reason"] else "")
                   + device)
    sys.exit(20 if live and mismatch else 0)


@quarantine_group.command("release")
@click.argument("targets", nargs=-1, required=True)
@connection_options
@profile_options
@fleet_options
@handle_errors
def release_command(targets: tuple[str, ...], as_json: bool, profiles_file: str | None, profile_name: str | None,
                    fleet: FleetArgs, **options: Any) -> None:
    """Release TARGETS: amtkit's filters removed (full network), the record closed with who and when."""
    from ..quarantine import release
    from ..store import Store

    conn = make_connection(as_json=as_json, **options)
    with Store.open(fleet.store_path) as store:
        login = login_for(conn, profiles_file, profile_name)
        with progress_for(as_json and not sys.stderr.isatty()) as progress:
            report, cancelled = release(store, targets, login=login, options=options_for(conn, fleet),
                                        progress=progress)
    for host in cancelled:
        if not as_json:
            click.echo(f"{host}: pending quarantine cancelled (it was never applied)", err=True)
    if report is None:
        if as_json:
            click.echo(json.dumps({"ok": True, "cancelled": cancelled, "results": []}))
        sys.exit(0)
    print_report(report, as_json, fleet.as_csv)
    sys.exit(report.exit_code)


@quarantine_group.command("run")
@click.option("--watch", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Stay running: look for due quarantines every SECONDS (otherwise once, for cron).")
@click.option("--user", "-u", "username", envvar="AMT_USER", default="admin", show_default=True, help="Digest user.")
@profile_options
@click.option("--json", "as_json", is_flag=True, help="Print each job's report as JSON (one line each).")
@store_option
@handle_errors
def run_command(watch: float | None, username: str, profiles_file: str | None, profile_name: str | None,
                as_json: bool, store_path: str | None) -> None:
    """Apply the quarantines that are due, and restart AMT's safety timer of active ones before it runs out.

    Exit code (once): 0 when every due quarantine was applied (or none was due), 20 otherwise.
    """
    from ..quarantine import run_due
    from ..store import Store
    from .common import Connection

    conn = Connection(username=username, port=None, tls=None, timeout=30.0, as_json=as_json)
    login = login_for(conn, profiles_file, profile_name)
    while True:
        with Store.open(store_path) as store:
            reports = run_due(store, login=login)
        failed = False
        for report in reports:
            print_report(report, as_json, False)
            failed = failed or not report.ok
        if watch is None:
            if not reports and not as_json:
                click.echo("no quarantine due")
            sys.exit(20 if failed else 0)
        time.sleep(watch)
