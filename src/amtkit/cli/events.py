"""``amtkit events`` and ``amtkit audit``: what machines recorded, and a manager that gathers their alerts.

::

    amtkit events log TARGETS [--since 12h] [--json]        # each machine's event log, decoded
    amtkit audit log TARGETS [--since 2024-05-01] [--json]  # who did what, from where, when
    amtkit events subscribe TARGETS --url http://mgr:16990/events [--url http://mgr2:16990/events]
                            [--filter all|features] [--ack] [--listener-user amt]
    amtkit events subscriptions TARGETS | unsubscribe TARGETS --url URL | --all
    amtkit events listen [--port 16990] [--user amt] [--tls-cert cert.pem]   # the manager
    amtkit events tail [-f] [--host H] [--kind lockout] | query [--since 1d] [--json] | merge OTHER.db

TARGETS works as everywhere: one host, or many (ranges, CIDR, @file, store:amt) for a fleet job.
Passwords come from the environment: ``AMT_PASSWORD`` for the devices, ``AMTKIT_LISTENER_PASSWORD`` for
what devices give the manager.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from .. import exceptions as exc
from .common import (
    connection_options,
    emit,
    handle_errors,
    logged,
    make_connection,
    open_client,
    profile_options,
    store_option,
)
from .fleet import FleetArgs, fleet_options, run_fleet, single_host, task_text

if TYPE_CHECKING:
    from ..fleet.report import HostResult
    from ..fleet.tasks import Task

__all__ = ["audit_group", "events_group"]


@click.group("events")
def events_group() -> None:
    """Event logs, alert subscriptions and the manager that stores alerts."""


@click.group("audit")
def audit_group() -> None:
    """The audit log (Access Monitor): who did what, from where, when."""


def _run(task: Task, targets: tuple[str, ...], operation: str, as_json: bool, profiles_file: str | None,
         profile_name: str | None, fleet: FleetArgs, options: dict[str, Any],
         text: Any) -> None:
    """One host: the task's data printed plainly; several: a fleet job."""
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        run_fleet(task, targets, conn, profiles_file, profile_name, fleet)
        return
    with logged(host, operation, task.shown_parameters()), open_client(conn, host, profiles_file, profile_name) as client:
        data = task(client)
    emit({"ok": True, "host": host, **data}, as_json, lambda d: text(host, d))


def _event_lines(host: str, data: dict[str, Any]) -> str:
    records = data["records"]
    if not records:
        return f"{host}: the event log is empty"
    lines = [f"{host}: {len(records)} record(s), newest first"]
    for number, record in enumerate(records, start=1):
        lines.append(f"{number:>4}  {record['time'] or 'clock not set':<25}  {record['severity']:<15} "
                     f"{record['source']:<12} {record['description']}")
    return "\n".join(lines)


def _audit_lines(host: str, data: dict[str, Any]) -> str:
    records = data["records"]
    if not records:
        return f"{host}: the audit log is empty"
    lines = [f"{host}: {len(records)} record(s), oldest first"]
    for record in records:
        who = record["initiator"] + (f", {record['address']}" if record["address"] else "")
        lines.append(f"{record['time']:<25}  {who:<24} {record['description']}")
    return "\n".join(lines)


def _log_line(result: HostResult, newest_first: bool) -> str:
    records = (result.data or {}).get("records") or []
    if not records:
        return "no records"
    latest = records[0] if newest_first else records[-1]
    return f"{len(records)} record(s); latest: {latest.get('time')} {latest.get('description')}"


task_text("events.log")(lambda result: _log_line(result, newest_first=True))
task_text("audit.log")(lambda result: _log_line(result, newest_first=False))


_SINCE = click.option("--since", default=None, metavar="TIME",
                      help="Only records at or after TIME: 2024-05-01, 2024-05-01T08:00, or a span back (30m, 12h, 7d).")


def _log_command(group: click.Group, operation: str, summary: str, text: Any) -> None:
    """``events log`` and ``audit log``: the same options, another task and layout."""

    @group.command("log", help=summary)
    @click.argument("targets", nargs=-1, required=True)
    @_SINCE
    @connection_options
    @profile_options
    @fleet_options
    @handle_errors
    def command(targets: tuple[str, ...], since: str | None, as_json: bool, profiles_file: str | None,
                profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
        from ..events import tasks

        task = tasks.events_log(since=since) if operation == "events.log" else tasks.audit_log(since=since)
        _run(task, targets, operation, as_json, profiles_file, profile_name, fleet, options, text)


_log_command(events_group, "events.log",
             "Read TARGETS' event logs (AMT_MessageLog), decoded: time, severity, source, what happened.",
             _event_lines)
_log_command(audit_group, "audit.log",
             "Read TARGETS' audit logs (AMT_AuditLog): who (user, address), what (application, event), when.",
             _audit_lines)


def _subscription_lines(host: str, data: dict[str, Any]) -> str:
    subscriptions = data.get("subscriptions", data.get("removed", []))
    verb = "removed" if "removed" in data else "subscribed"
    if not subscriptions:
        return f"{host}: no subscriptions" + (" removed" if "removed" in data else "")
    return "\n".join(f"{host}: {verb} {s['destination']} ({s['filter']}, {s['mode'].replace('_', ' ')})"
                     for s in subscriptions)


@task_text("events.subscribe", "events.subscriptions", "events.unsubscribe")
def _subscriptions_line(result: HostResult) -> str:
    data = result.data or {}
    subscriptions = data.get("subscriptions", data.get("removed", []))
    return ", ".join(s["destination"] for s in subscriptions) or "none"


@events_group.command("subscribe")
@click.argument("targets", nargs=-1, required=True)
@click.option("--url", "urls", multiple=True, required=True, metavar="URL",
              help="Listener (a manager: http://host:16990/events); twice for a fallback manager.")
@click.option("--filter", "alert_filter", default="all", show_default=True,
              help="Which alerts: all, features (AMT feature alerts), or a filter collection InstanceID.")
@click.option("--ack", is_flag=True, help="PushWithAck: the device waits for the listener's Ack of each alert.")
@click.option("--listener-user", default=None,
              help="User the listener asks the device for (password from AMTKIT_LISTENER_PASSWORD).")
@click.option("--listener-auth", type=click.Choice(["digest", "basic"]), default="digest", show_default=True)
@click.option("--expires", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="End the subscription after this long (AMT keeps it until removed otherwise).")
@connection_options
@profile_options
@fleet_options
@handle_errors
def events_subscribe(targets: tuple[str, ...], urls: tuple[str, ...], alert_filter: str, ack: bool,
                     listener_user: str | None, listener_auth: str, expires: float | None, as_json: bool,
                     profiles_file: str | None, profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Subscribe listener URLs to TARGETS' alerts (each alert goes to every URL)."""
    from ..events.tasks import events_subscribe as task

    _run(task(urls, alert_filter=alert_filter, ack=ack, listener_user=listener_user, auth=listener_auth,
              expires=expires), targets, "events.subscribe", as_json, profiles_file, profile_name, fleet, options,
         _subscription_lines)


@events_group.command("unsubscribe")
@click.argument("targets", nargs=-1, required=True)
@click.option("--url", "urls", multiple=True, metavar="URL", help="The listener to remove (repeatable).")
@click.option("--all", "every", is_flag=True, help="Remove every subscription.")
@connection_options
@profile_options
@fleet_options
@handle_errors
def events_unsubscribe(targets: tuple[str, ...], urls: tuple[str, ...], every: bool, as_json: bool,
                       profiles_file: str | None, profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Remove listeners from TARGETS' alert subscriptions."""
    from ..events.tasks import events_unsubscribe as task

    _run(task(urls, every=every), targets, "events.unsubscribe", as_json, profiles_file, profile_name, fleet,
         options, _subscription_lines)


@events_group.command("subscriptions")
@click.argument("targets", nargs=-1, required=True)
@connection_options
@profile_options
@fleet_options
@handle_errors
def events_subscriptions(targets: tuple[str, ...], as_json: bool, profiles_file: str | None,
                         profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """List the listeners TARGETS push alerts to."""
    from ..events.tasks import events_subscriptions as task

    _run(task(), targets, "events.subscriptions", as_json, profiles_file, profile_name, fleet, options,
         _subscription_lines)


# -- the manager ---------------------------------------------------------------------------------------

@events_group.command("listen")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [16990].")
@click.option("--user", "users", multiple=True, metavar="NAME",
              help="Device credentials to accept (password from AMTKIT_LISTENER_PASSWORD); repeatable.")
@click.option("--auth", type=click.Choice(["digest", "basic", "none"]), default=None,
              help="How devices authenticate [digest with --user, else none]; basic needs --tls-cert.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve HTTPS with this PEM certificate (and key, or --tls-key).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--quiet", is_flag=True, help="Do not print each alert stored.")
@click.option("--json", "as_json", is_flag=True, help="Print each alert stored as a JSON line.")
@store_option
@handle_errors
def events_listen(host: str, port: int | None, users: tuple[str, ...], auth: str | None, tls_cert: str | None,
                  tls_key: str | None, quiet: bool, as_json: bool, store_path: str | None) -> None:
    """Receive the alerts devices push and store each once (until Ctrl-C or SIGTERM)."""
    import asyncio

    from ..events.manager import DEFAULT_PORT, Manager, tls_context
    from ..events.tasks import LISTENER_PASSWORD_ENV
    from ..store import Store

    if tls_key and not tls_cert:
        raise click.UsageError("--tls-key goes with --tls-cert")
    credentials = {}
    if users:
        password = os.environ.get(LISTENER_PASSWORD_ENV)
        if not password:
            raise click.UsageError(f"--user needs the devices' password in {LISTENER_PASSWORD_ENV}")
        credentials = {user: password for user in users}
    _require_aiohttp()

    def printed(device: str, row: Any) -> None:
        if as_json:
            click.echo(json.dumps({"device": device, "time": row[3], "kind": row[5], "severity": row[8],
                                   "description": row[9], "message_id": row[6]}))
        elif not quiet:
            click.echo(f"{row[3] or '-'}  {device}  {row[5]:<14} {row[8]:<11} {row[9]}")

    async def serve() -> None:
        with Store.open(store_path) as store:
            manager = Manager(store, host=host, port=DEFAULT_PORT if port is None else port, users=credentials,
                              auth=auth, ssl_context=tls_context(tls_cert, tls_key) if tls_cert else None,
                              on_stored=printed)
            try:
                await manager.start()
            except OSError as error:
                raise exc.UsageError(f"cannot listen on {host}:{manager.port}: {error.strerror or error}") from error
            click.echo(f"amtkit: listening on {manager.url} ({manager.auth.scheme} authentication), storing in "
                       f"{store.path}", err=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            await manager.stop()
            stats = manager.stats
            click.echo(f"amtkit: stopped: {stats.stored} stored, {stats.duplicates} duplicates, {stats.refused} "
                       f"refused, {stats.malformed} malformed", err=True)

    asyncio.run(serve())


def _require_aiohttp() -> None:
    try:
        import aiohttp  # noqa: F401
    except ImportError as error:
        raise exc.FeatureUnavailableError("the manager needs aiohttp: pip install 'amtkit[manager]'") from error


def _query_options(command: Any) -> Any:
    options = [
        click.option("--host", "devices", multiple=True, metavar="DEVICE", help="Only this device (repeatable)."),
        click.option("--kind", "kinds", multiple=True,
                     help="Only this kind: lockout, login, power, boot, system-defense, redirection, ... (repeatable)."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON lines."),
        store_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _print_alerts(alerts: Sequence[Any], as_json: bool) -> None:
    for alert in alerts:
        click.echo(json.dumps(alert.to_dict()) if as_json else alert.line())


@events_group.command("query")
@_query_options
@click.option("--since", default=None, metavar="TIME", help="From TIME (2024-05-01, or a span back: 12h, 7d).")
@click.option("--until", default=None, metavar="TIME", help="Before TIME.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the latest N alerts.")
@handle_errors
def events_query(devices: tuple[str, ...], kinds: tuple[str, ...], as_json: bool, store_path: str | None,
                 since: str | None, until: str | None, limit: int | None) -> None:
    """Alerts the manager stored, by device, time and kind (oldest first)."""
    from ..events import storage
    from ..events.tasks import parse_since
    from ..store import Store

    with Store.open(store_path) as store:
        alerts = storage.query(store, devices=devices, kinds=kinds, since=parse_since(since),
                               until=parse_since(until), limit=limit, newest=limit is not None)
    _print_alerts(alerts, as_json)


@events_group.command("tail")
@_query_options
@click.option("-n", "--lines", type=click.IntRange(min=0), default=20, show_default=True,
              help="Show the last N alerts first.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing alerts as the manager stores them.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=0.5, show_default=True,
              help="Seconds between looks at the store when following.")
@handle_errors
def events_tail(devices: tuple[str, ...], kinds: tuple[str, ...], as_json: bool, store_path: str | None, lines: int,
                follow: bool, interval: float) -> None:
    """The latest alerts stored; with -f, follow the store (another process, the manager, writes it)."""
    import time

    from ..events import storage
    from ..store import Store

    with Store.open(store_path) as store:
        shown = storage.query(store, devices=devices, kinds=kinds, limit=lines, newest=True) if lines else []
        _print_alerts(shown, as_json)
        last = shown[-1].seq if shown else max((a.seq for a in storage.query(store, limit=1, newest=True)), default=0)
        try:
            while follow:
                time.sleep(interval)
                new = storage.query(store, devices=devices, kinds=kinds, after=last)
                _print_alerts(new, as_json)
                sys.stdout.flush()
                if new:
                    last = new[-1].seq
        except KeyboardInterrupt:
            return


@events_group.command("merge")
@click.argument("other", type=click.Path(exists=True, dir_okay=False))
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def events_merge(other: str, store_path: str | None, as_json: bool) -> None:
    """Copy the alerts of OTHER (a second manager's store) into the store, each alert once."""
    from ..events import storage
    from ..store import Store

    with Store.open(store_path) as store, Store.open(other) as source:
        added, known = storage.merge(store, source)
    emit({"ok": True, "added": added, "already_stored": known}, as_json,
         lambda d: f"{d['added']} alert(s) added, {d['already_stored']} already stored")
