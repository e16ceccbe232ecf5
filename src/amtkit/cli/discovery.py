"""``amtkit discover``, ``amtkit inventory``, ``amtkit diagnose``: know what is out there and why a call fails.

Registered on the ``amtkit`` group by :mod:`amtkit.cli.main`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from ..discovery.identify import WsmanIdentify
from ..discovery.probe import Classification, HostRecord, ProbeSettings
from ..discovery.rmcp import RMCP_PORT
from ..store import StoreError
from ..text import printable, printable_data, terminal_safe
from ..wsman import names
from .common import (
    Connection,
    connection_options,
    emit,
    handle_errors,
    logged,
    make_connection,
    open_client,
    open_store_quietly,
    profile_options,
)
from .fleet import (
    FleetArgs,
    fleet_options,
    fleet_options_own_rmcp_port,
    login_for,
    run_fleet,
    single_host,
    task_text,
)

if TYPE_CHECKING:
    from ..fleet.report import HostResult

__all__ = ["diagnose_command", "discover_command", "inventory_command"]

_CSV_FIELDS = ("host", "address", "classification", "version", "provisioning_state", "control_mode", "ports_open",
               "tls_only", "rmcp_answered", "dash", "server", "seen_at", "detail")
_STATUS = {Classification.AMT_PRESENT: "AMT", Classification.NOT_AMT: "not AMT",
           Classification.PORTS_CLOSED: "ports closed", Classification.NO_RESPONSE: "no response"}


def _probe_port_options(command: Any) -> Any:
    for option in reversed([
        click.option("--rmcp-port", type=int, default=RMCP_PORT, show_default=True, help="UDP port of RMCP pings."),
        click.option("--http-port", type=int, default=names.PORT_HTTP, show_default=True,
                     help="AMT's plain WS-Man port."),
        click.option("--https-port", type=int, default=names.PORT_TLS, show_default=True, help="AMT's TLS port."),
    ]):
        command = option(command)
    return command


# ------------------------------------------------------------------------------------------ discover


@click.command("discover")
@click.argument("targets", nargs=-1, required=True)
@_probe_port_options
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Seconds to wait for a pong or a TCP connection (reads get twice as long).")
@click.option("--concurrency", type=int, default=256, show_default=True, help="Hosts probed over TCP at once.")
@click.option("--no-rmcp", is_flag=True, help="Do not send RMCP presence pings.")
@click.option("--no-identify", is_flag=True, help="Do not send WS-Man Identify to open ports.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (all hosts).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (all hosts).")
@click.option("--all", "show_all", is_flag=True, help="List silent hosts in the table too.")
@click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
              help="Local store to save the records in [$AMTKIT_STORE, else the user data directory].")
@click.option("--no-store", is_flag=True, help="Do not save the records.")
@handle_errors
def discover_command(targets: tuple[str, ...], rmcp_port: int, http_port: int, https_port: int, timeout: float,
                     concurrency: int, no_rmcp: bool, no_identify: bool, as_json: bool, as_csv: bool,
                     show_all: bool, store_path: str | None, no_store: bool) -> None:
    """Find Intel AMT machines in TARGETS: addresses, names, CIDR networks, a-b ranges, @files.

    Each host gets an RMCP presence ping, a look at the Server header of ports 16992/16993 and a WS-Man
    Identify, and is classified: AMT (with version and provisioning state), not AMT, ports closed, or
    no response. The records are saved in the local store.
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if timeout <= 0 or concurrency < 1:
        raise click.UsageError("--timeout must be positive and --concurrency at least 1")
    from ..discovery.probe import discover

    settings = ProbeSettings(rmcp_port=rmcp_port, http_port=http_port, https_port=https_port, rmcp=not no_rmcp,
                             rmcp_timeout=timeout, connect_timeout=timeout, read_timeout=2 * timeout,
                             identify_timeout=4 * timeout, concurrency=concurrency)
    identify = None if no_identify else WsmanIdentify(connect_timeout=timeout, read_timeout=2 * timeout)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        records = discover(list(targets), settings=settings, identify=identify, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    saved_to = None
    if not no_store:
        store = open_store_quietly(store_path)
        if store is not None:
            with store:
                try:
                    store.save_discovery(records)
                    saved_to = store.path
                except StoreError as error:  # the results are printed all the same
                    click.echo(terminal_safe(f"amtkit: warning: {error}; the results were not saved"), err=True)
    if as_json:
        click.echo(json.dumps({"ok": True, "count": len(records), "summary": _summary(records), "store": saved_to,
                               "records": [r.as_dict() for r in records]}))
    elif as_csv:
        click.echo(_csv(records), nl=False)
    else:
        click.echo(_table(records, show_all))
        if saved_to is not None:
            click.echo(f"saved {len(records)} record(s) to {saved_to}", err=True)


class _Progress:
    """``done/total`` on one stderr line, redrawn at most every 1 % of the hosts."""

    def __init__(self) -> None:
        self.amt = 0
        self._shown = -1

    def __call__(self, done: int, total: int, record: HostRecord) -> None:
        self.amt += record.is_amt
        step = max(1, total // 100)
        if done == total or done // step != self._shown:
            self._shown = done // step
            click.echo(f"\rprobed {done}/{total}, {self.amt} AMT", nl=False, err=True)

    def close(self) -> None:
        if self._shown >= 0:
            click.echo("", err=True)


def _summary(records: Sequence[HostRecord]) -> dict[str, int]:
    counts = Counter(r.classification.value for r in records)
    return {c.value: counts.get(c.value, 0) for c in Classification}


def _csv(records: Sequence[HostRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = record.as_dict()
        row["ports_open"] = " ".join(str(p) for p in row["ports_open"])
        writer.writerow({key: "" if row[key] is None else printable_data(row[key], None) for key in _CSV_FIELDS})
    return out.getvalue()


def _table(records: Sequence[HostRecord], show_all: bool) -> str:
    shown = [r for r in records if show_all or r.classification is not Classification.NO_RESPONSE]
    header = ("HOST", "STATUS", "VERSION", "PROVISIONING", "MODE", "PORTS", "NOTE")
    rows = [header] + [(
        r.host, _STATUS[r.classification], printable(r.version or "", 40), r.provisioning_state.name.lower()
        if r.provisioning_state is not None else "", r.control_mode.value if r.is_amt else "",
        ",".join(map(str, r.ports_open)) + (" (TLS only)" if r.tls_only else ""), printable(_note(r)),
    ) for r in shown]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows]
    counts = _summary(records)
    summary = (f"{len(records)} host(s): {counts['amt_present']} AMT, {counts['not_amt']} not AMT, "
               f"{counts['ports_closed']} ports closed, {counts['no_response']} no response")
    if not shown:
        return summary
    return "\n".join(line.rstrip() for line in lines) + "\n" + summary


def _note(record: HostRecord) -> str:
    if record.classification is Classification.NOT_AMT and record.server:
        return f"Server: {record.server}"
    return record.detail


# ------------------------------------------------------------------------------------------ inventory


@click.command("inventory")
@click.argument("targets", nargs=-1, required=True)
@connection_options
@profile_options
@fleet_options
@handle_errors
def inventory_command(targets: tuple[str, ...], as_json: bool, profiles_file: str | None, profile_name: str | None,
                      fleet: FleetArgs, **options: Any) -> None:
    """Show what TARGETS are: firmware, names, network, hardware, setup, features (one host, or a fleet job)."""
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        from ..fleet import tasks

        run_fleet(tasks.inventory(), targets, conn, profiles_file, profile_name, fleet, _inventory_line)
        return
    with logged(host, "inventory"), open_client(conn, host, profiles_file, profile_name) as client:
        inventory = client.inventory.collect()
    emit({"ok": True, **inventory.as_dict()}, as_json, _inventory_text)


@task_text("inventory")
def _inventory_line(result: HostResult) -> str:
    data = result.data or {}
    versions, general = data.get("versions", {}), data.get("general", {})
    chassis = (data.get("hardware") or {}).get("chassis") or {}
    return (f"AMT {versions.get('amt') or '?'}, {general.get('fqdn') or '?'}, "
            f"{chassis.get('manufacturer') or '?'} {chassis.get('model') or ''}, serial {chassis.get('serial_number') or '?'}")


def _gib(value: int | None) -> str:
    return "?" if value is None else f"{value / (1 << 30):g} GiB"


def _inventory_text(d: dict[str, Any]) -> str:
    v, g, hw, setup, f = d["versions"], d["general"], d["hardware"], d["setup"], d["features"]
    lines = [f"{d['host']}:",
             f"  AMT          {v['amt'] or '?'} (build {v['build_number'] or '?'}, SKU {v['sku'] or '?'})",
             f"  setup        {setup['provisioning_state'] or '?'}, control mode {setup['control_mode'] or '?'}",
             f"  name         {g['fqdn'] or '?'}"]
    for port in d["network"]:
        ip = f"{port['ip_address']}/{port['subnet_mask']}" if port["ip_address"] else "no address"
        flags = ["DHCP" if port["dhcp_enabled"] else "static", "link up" if port["link_up"] else "link down"]
        kind = "wireless" if port["wireless"] else "wired"
        lines.append(f"  network      {kind} {port['mac_address'] or '?'} {ip} ({', '.join(flags)})")
    chassis, bios = hw["chassis"], hw["bios"]
    if chassis:
        lines.append(f"  chassis      {chassis['manufacturer'] or '?'} {chassis['model'] or ''}, "
                     f"serial {chassis['serial_number'] or '?'}")
    lines.append(f"  platform     GUID {hw['platform_guid'] or '?'}")
    if bios:
        date = (bios["release_date"] or "")[:10]
        lines.append(f"  BIOS         {bios['vendor'] or '?'} {bios['version'] or '?'}" + (f" ({date})" if date else ""))
    for cpu in hw["processors"]:
        lines.append(f"  processor    {cpu['device_id'] or '?'}: {cpu['current_mhz'] or '?'} MHz "
                     f"(max {cpu['max_mhz'] or '?'} MHz)")
    if hw["memory"]:
        modules = ", ".join(f"{m['bank_label'] or '?'} {_gib(m['capacity_bytes'])}" for m in hw["memory"])
        lines.append(f"  memory       {_gib(hw['total_memory_bytes'])} ({modules})")
    lines.append(f"  features     IDE-R {f['ider']}, SOL {f['sol']}, KVM {f['kvm']}, "
                 f"System Defense {'available' if f['system_defense'] == 'enabled' else 'not available'}")
    if d["absent"]:
        lines.append(f"  absent       {', '.join(d['absent'])}")
    lines.append(f"  round trips  {d['round_trips']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ diagnose


_MARKS = {"passed": " ok ", "warning": "warn", "failed": "FAIL", "skipped": " -- "}


@click.command("diagnose")
@click.argument("targets", nargs=-1, required=True)
@connection_options
@profile_options
@_probe_port_options
@click.option("--probe-timeout", type=float, default=1.0, show_default=True,
              help="Seconds to wait for an RMCP pong or a TCP connection while probing.")
@click.option("--feature", type=click.Choice(["power", "defense", "ider", "sol", "kvm"]), default=None,
              help="Also check that this feature is available.")
@fleet_options_own_rmcp_port
@handle_errors
def diagnose_command(targets: tuple[str, ...], as_json: bool, profiles_file: str | None, profile_name: str | None,
                     rmcp_port: int, http_port: int, https_port: int, probe_timeout: float, feature: str | None,
                     fleet: FleetArgs, **options: Any) -> None:
    """Find out why TARGETS cannot be managed: walk the ladder, stop at the first broken rung.

    reachable? -> AMT ports / RMCP? -> Identify? -> TLS? -> which credentials log in? -> provisioned?
    -> power state known? -> FEATURE available? One host: every rung, and the exit status of the
    failure's category. Many (a fleet job): a line per host with the broken rung's category and
    finding (--json: every host's ladder), exit 0, 20, 21 or 130.
    """
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        from ..fleet import Login, tasks

        try:
            login = login_for(conn, profiles_file, profile_name)
        except click.UsageError:
            login = Login(conn.username)  # diagnose anyway: the lower rungs need no password
        task = tasks.diagnose(feature=feature, rmcp_port=rmcp_port, http_port=http_port, https_port=https_port,
                              probe_timeout=probe_timeout)
        run_fleet(task, targets, conn, profiles_file, profile_name, fleet, login=login)
        return
    _diagnose_one(host, conn, profiles_file, profile_name, rmcp_port, http_port, https_port, probe_timeout, feature)


def _diagnose_one(host: str, conn: Connection, profiles_file: str | None, profile_name: str | None, rmcp_port: int,
                  http_port: int, https_port: int, probe_timeout: float, feature: str | None) -> None:
    from ..diagnose import diagnose
    from ..http.digest import Credentials
    from ..profiles import ProfileSet

    as_json = conn.as_json
    settings = ProbeSettings.for_diagnosis(rmcp_port=rmcp_port, http_port=http_port, https_port=https_port,
                                           timeout=probe_timeout)
    credentials = profiles = store = None
    if profile_name is not None:
        credentials = ProfileSet.load(profiles_file)[profile_name].credentials()
    elif profiles_file is not None:
        profiles = ProfileSet.load(profiles_file)
        store = open_store_quietly()
    else:
        try:
            credentials = Credentials(conn.username, conn.password())
        except click.UsageError:
            credentials = None  # diagnose anyway: the lower rungs need no password
    try:
        result = diagnose(host, credentials=credentials, profiles=profiles, store=store, tls=conn.tls, port=conn.port,
                          settings=settings, feature=feature, timeout=conn.timeout)
    finally:
        if store is not None:
            store.close()
    data = result.as_dict()
    failed = result.failed
    if failed is not None:  # the keys of every JSON error, beside the ladder
        data.update(error=type(failed.error).__name__ if failed.error is not None else "AMTError",
                    message=failed.finding, hint=failed.action or None, exit_code=result.exit_code)
    emit(data, as_json, _diagnosis_text)
    sys.exit(result.exit_code)


@task_text("diagnose")
def _diagnosis_line(result: HostResult) -> str:
    steps = (result.data or {}).get("steps", [])
    found = {step["rung"]: step["finding"] for step in steps if step["outcome"] in ("passed", "warning")}
    warnings = sum(step["outcome"] == "warning" for step in steps)
    shown = "; ".join(found[rung] for rung in ("provisioned", "power-state", "feature") if rung in found)
    return ("every check passed" + (f" ({warnings} warning(s))" if warnings else "")
            + (f": {shown}" if shown else ""))


def _diagnosis_text(d: dict[str, Any]) -> str:
    lines = [f"{d['host']}: " + ("every check passed" if d["ok"] else f"stopped at '{d['stopped_at']}'")]
    width = max(len(step["question"]) for step in d["steps"])
    for step in d["steps"]:
        lines.append(f"  [{_MARKS[step['outcome']]}] {step['question'].ljust(width)}  {step['finding']}")
        if step["action"]:
            label = "what to do" if step["outcome"] == "failed" else "note"
            lines.append(f"         {'':{width}}  {label}: {step['action']}")
    return "\n".join(lines)
