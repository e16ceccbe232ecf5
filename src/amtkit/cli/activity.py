"""``amtkit log``: what amtkit did to which machine, when, for whom; ``amtkit log verify``: was it tampered with.

::

    amtkit log --host 10.0.0.7                       # everything done to one machine
    amtkit log --operation defense --since 2024-05-01 [--json|--csv]
    amtkit log verify [--anchor HASH]                # exit 0: intact; 1: names the first bad record
"""

from __future__ import annotations

import csv
import io
import json
import sys

import click

from .. import exceptions as exc
from .common import handle_errors, store_option

__all__ = ["log_group"]

_CSV_FIELDS = ("seq", "at", "operator", "host", "operation", "parameters", "outcome", "category", "return_code", "job",
               "hash")


@click.group("log", invoke_without_command=True)
@click.option("--host", default=None, help="Only this host.")
@click.option("--operation", default=None, help="Only this operation, or family (power matches power.status ...).")
@click.option("--since", default=None, metavar="TIME", help="From this ISO 8601 time (a date: its midnight, UTC).")
@click.option("--until", default=None, metavar="TIME", help="Before this time.")
@click.option("--job", "job_id", type=int, default=None, help="Only the records of this fleet job.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the latest N records.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@store_option
@click.pass_context
@handle_errors
def log_group(ctx: click.Context, host: str | None, operation: str | None, since: str | None, until: str | None,
              job_id: int | None, limit: int | None, as_json: bool, as_csv: bool, store_path: str | None) -> None:
    """The activity log: every operation amtkit performed on a machine (query it; `verify` checks the chain)."""
    ctx.obj = store_path
    if ctx.invoked_subcommand is not None:
        return
    from ..activity import query
    from ..store import Store

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    try:
        with Store.open(store_path) as store:
            records = query(store, host=host, operation=operation, since=since, until=until, job_id=job_id,
                            limit=limit)
    except ValueError as error:
        raise exc.UsageError(f"--since/--until: {error}") from error
    if as_json:
        click.echo(json.dumps({"ok": True, "records": [r.to_dict() for r in records]}))
    elif as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            row = record.to_dict()
            row["parameters"] = record.parameters
            writer.writerow({key: "" if row[key] is None else row[key] for key in _CSV_FIELDS})
        click.echo(out.getvalue(), nl=False)
    else:
        for record in records:
            detail = "" if record.outcome == "ok" else f" {record.category or ''}".rstrip()
            code = f" [AMT {record.return_code:#x}]" if record.return_code is not None else ""
            job = f" job {record.job_id}" if record.job_id is not None else ""
            params = "" if record.parameters == "{}" else f" {record.parameters}"
            click.echo(f"{record.seq:>6} {record.at[:23]} {record.operator} {record.host} {record.operation}"
                       f"{params}: {record.outcome}{detail}{code}{job}")
        if not records:
            click.echo("no matching records", err=True)


@log_group.command("verify")
@click.option("--anchor", default=None, metavar="HASH",
              help="A head printed by an earlier verify: it must still be in the chain.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@handle_errors
def verify_command(store_path: str | None, anchor: str | None, as_json: bool) -> None:
    """Check the hash chain; exit 0 when intact, 1 naming the first record that does not fit."""
    from ..activity import verify
    from ..store import Store

    with Store.open(store_path) as store:
        result = verify(store, anchor=anchor)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    elif result.ok:
        click.echo(f"activity log intact: {result.checked} record(s); head {result.head}")
    else:
        where = f"record {result.first_bad}" if result.first_bad is not None else "the chain"
        click.echo(f"activity log TAMPERED: {where}: {result.reason} ({result.checked} record(s) read; "
                   f"last good head {result.head})")
    sys.exit(0 if result.ok else 1)
