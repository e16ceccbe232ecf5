"""``amtkit defense``: System Defense - quarantine a machine at its network card, keep its manager reachable.

::

    amtkit defense check FILE --manager 10.0.0.5              # offline: would FILE lock the manager out?
    amtkit defense apply HOST --filters default --manager 10.0.0.5 [--timeout 14400]
    amtkit defense ping HOST --manager 10.0.0.5               # manager, ARP and ping only
    amtkit defense show HOST                                  # the policy in force and its counters
    amtkit defense remove HOST                                # full network again

``--filters`` takes a file or the name of a shipped set (``default``, ``ping``, ``quarantine-strict``,
``quarantine-with-packages``). A set the lockout check refuses exits with code 14 (``lockout``)
and lists which rule blocks which flow; ``--force`` applies it anyway. Bad files or arguments exit
with 2. Every command takes ``--json``.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import exceptions as exc
from ..defense.cbfilters import SHIPPED, load
from ..defense.client import ApplyResult, DefenseStatus
from ..defense.model import DefenseError, LimitError
from ..defense.plan import prepare
from ..text import printable
from .common import (
    connection_options,
    emit,
    handle_errors,
    logged,
    make_connection,
    open_client,
    profile_options,
    report_error,
)
from .fleet import FleetArgs, fleet_options, run_fleet, single_host, task_text

if TYPE_CHECKING:
    from ..fleet.report import HostResult

F = TypeVar("F", bound=Callable[..., Any])

_USAGE_EXIT = exc.EXIT_CODES["usage"]


def _defense_errors(command: F) -> F:
    """Filter files and arguments amtkit cannot use exit with 2 (usage), one line, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return command(*args, **kwargs)
        except LimitError as error:
            sys.exit(report_error(exc.DefenseLimitError(str(error), what=error.what, limit=error.limit,
                                                        actual=error.actual), as_json))
        except DefenseError as error:
            hint = "check the file against docs/filters.md; `amtkit defense check FILE` checks it offline"
            if as_json:
                click.echo(json.dumps({"ok": False, "error": type(error).__name__, "category": "usage",
                                       "message": str(error), "host": None, "hint": hint,
                                       "exit_code": _USAGE_EXIT}))
            else:
                click.echo(f"amtkit: {error}", err=True)
                click.echo(f"  hint: {hint}", err=True)
            sys.exit(_USAGE_EXIT)

    return wrapper  # type: ignore[return-value]


def _policy_options(command: F) -> F:
    """``--manager --anti-spoofing/--no-anti-spoofing --timeout --force --interface`` of apply and ping."""
    options = [
        click.option("--manager", "managers", multiple=True, metavar="ADDR[:PORTS]",
                     help="Management server the host must keep reaching (repeatable); replaces the set's "
                          "management peer. Ports default to 443,50120-50124."),
        click.option("--anti-spoofing/--no-anti-spoofing", "anti_spoofing", default=None,
                     help="Drop packets the host sends from addresses not its own [default: as the set says]."),
        click.option("--timeout", "policy_timeout", type=click.IntRange(min=0), default=None, metavar="SECONDS",
                     help="AMT lifts the policy after this long (whole minutes, rounded up; 0: never) "
                          "[default: as the set says]. (--answer-timeout is how long to wait for the device.)"),
        click.option("--force", is_flag=True,
                     help="Apply even if the lockout check refuses the set, and replace the current set in place "
                          "when AMT's limits leave no room to write the new one beside it first."),
        click.option("--interface", "interface", type=click.IntRange(0, 1), default=0, show_default=True,
                     help="AMT network interface: 0 wired, 1 wireless."),
    ]
    # Here --timeout is the policy's; the connection option of that name is spelled --answer-timeout.
    for param in getattr(command, "__click_params__", []):
        if isinstance(param, click.Option) and param.name == "timeout":
            param.opts = ["--answer-timeout"]
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
def defense() -> None:
    """System Defense: filter a machine's network in its NIC, keep its manager reachable."""


def _apply_text(result: ApplyResult) -> str:
    if result.changed:
        head = (f"{result.host}: applied {result.policy_name!r} ({len(result.filter_ids)} filters) on port "
                f"{result.port}" + (f", replacing {result.replaced_policies} earlier set" if result.replaced_policies
                                    else ""))
    else:
        head = f"{result.host}: {result.policy_name!r} is already in place on port {result.port}"
    lines = [head + (f"; lifts itself after {result.timeout_minutes} min" if result.timeout_minutes else "")]
    if result.forced:
        lines.append(f"  forced past {len(result.forced)} finding(s):")
        lines += [f"    {line}" for line in result.forced]
    if result.outranked_by:
        lines.append(f"  warning: policy {printable(repr(result.outranked_by))} has a higher precedence and is the "
                     "one in force")
    return "\n".join(lines)


def _run_apply(targets: tuple[str, ...], filters: str, managers: tuple[str, ...], anti_spoofing: bool | None,
               policy_timeout: int | None, force: bool, interface: int, as_json: bool, profiles_file: str | None,
               profile_name: str | None, fleet: FleetArgs, options: dict[str, Any]) -> None:
    filter_set = load(filters)
    from ..defense.notes import apply_notes

    for note in apply_notes(filter_set, managers=managers, timeout=policy_timeout):  # before anything is written
        click.echo(f"amtkit: note: {note}", err=True)
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        plan = prepare(filter_set, managers, anti_spoofing=anti_spoofing, timeout=policy_timeout)
        if not plan.safe and not force:  # refused for every host before anything is written anywhere
            raise exc.LockoutError(f"refusing to apply {plan.policy.name!r} to any host: it would cut them off from "
                                   "their management server\n" + "\n".join(f"  {r}" for r in plan.refusal()),
                                   blocked=plan.refusal())
        from ..fleet import tasks

        task = tasks.defense_apply(filters, manager=managers, anti_spoofing=anti_spoofing, timeout=policy_timeout,
                                   force=force, port=interface)
        run_fleet(task, targets, conn, profiles_file, profile_name, fleet, _apply_line)
        return
    parameters = {"filters": filters, "manager": list(managers), "anti_spoofing": anti_spoofing,
                  "timeout": policy_timeout, "force": force, "port": interface}
    with logged(host, "defense.apply", parameters), open_client(conn, host, profiles_file, profile_name) as client:
        result = client.defense.apply(filter_set, manager=managers, anti_spoofing=anti_spoofing,
                                      timeout=policy_timeout, force=force, port=interface)
    emit(result.to_dict(), as_json, lambda _: _apply_text(result))


@task_text("defense.apply")
def _apply_line(result: HostResult) -> str:
    data = result.data or {}
    done = "applied" if data.get("changed") else "already in place"
    return f"{data.get('policy')} {done} ({data.get('filters')} filters)" + (
        "" if data.get("active") else f", outranked by {data.get('outranked_by')}")


@defense.command("apply")
@click.argument("targets", nargs=-1, required=True)
@click.option("--filters", "filters", default="default", show_default=True, metavar="FILE|NAME",
              help=f"CBFilters file, or a shipped set: {', '.join(SHIPPED)}.")
@_policy_options
@connection_options
@profile_options
@fleet_options
@handle_errors
@_defense_errors
def apply_command(targets: tuple[str, ...], filters: str, managers: tuple[str, ...], anti_spoofing: bool | None,
                  policy_timeout: int | None, force: bool, interface: int, as_json: bool, profiles_file: str | None,
                  profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Make a filter set the System Defense policy of TARGETS (one host, or a fleet job); replaces amtkit's
    previous one."""
    _run_apply(targets, filters, managers, anti_spoofing, policy_timeout, force, interface, as_json, profiles_file,
               profile_name, fleet, options)


@defense.command("ping")
@click.argument("targets", nargs=-1, required=True)
@_policy_options
@connection_options
@profile_options
@fleet_options
@handle_errors
@_defense_errors
def ping_command(targets: tuple[str, ...], managers: tuple[str, ...], anti_spoofing: bool | None,
                 policy_timeout: int | None, force: bool, interface: int, as_json: bool, profiles_file: str | None,
                 profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Apply the ping preset: only the manager, ARP and ping (ICMP) pass."""
    _run_apply(targets, "ping", managers, anti_spoofing, policy_timeout, force, interface, as_json, profiles_file,
               profile_name, fleet, options)


@defense.command("remove")
@click.argument("targets", nargs=-1, required=True)
@connection_options
@profile_options
@fleet_options
@handle_errors
@_defense_errors
def remove_command(targets: tuple[str, ...], as_json: bool, profiles_file: str | None, profile_name: str | None,
                   fleet: FleetArgs, **options: Any) -> None:
    """Remove amtkit's filters and policy from TARGETS: full network again (foreign policies stay)."""
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        from ..fleet import tasks

        run_fleet(tasks.defense_remove(), targets, conn, profiles_file, profile_name, fleet)
        return
    with logged(host, "defense.remove"), open_client(conn, host, profiles_file, profile_name) as client:
        result = client.defense.remove()
    emit(result.to_dict(), as_json, lambda _: (
        f"{host}: removed {result.policies} policy(ies) and {result.filters} filter(s); amtkit's quarantine is lifted"
        if result.changed else f"{host}: no System Defense policy of amtkit's to remove"))


def _show_text(status: DefenseStatus) -> str:
    active = status.active
    if active is None:
        lines = [f"{status.host} port {status.port}: no System Defense policy in force (full network)"]
    else:
        policy = active.model()
        timeout = f"lifts itself after {status.timeout_minutes} min" if status.timeout_minutes else "no timeout"
        lines = [
            f"{status.host} port {status.port}: {printable(active.name)} in force (precedence {active.precedence}"
            f"{', amtkit' if active.ours else ', foreign'}; {timeout})",
            f"  default: transmit {'drop' if policy.transmit_default.drop else 'pass'}, receive "
            f"{'drop' if policy.receive_default.drop else 'pass'}; anti-spoofing {'on' if policy.anti_spoofing else 'off'}",
        ]
        if status.counters:
            lines.append(f"  {'filter':>6} {'count':>8} {'':<7} rule")
        for counter in status.counters:
            count = "-" if counter.count is None else str(counter.count)
            hit = "matched" if counter.matched else ""
            lines.append(f"  {counter.handle:>6} {count:>8} {hit:<7} {printable(counter.rule)}")
    others = [p for p in status.policies if active is None or p.instance_id != active.instance_id]
    for p in others:
        where = f"enabled on port {', '.join(map(str, p.ports))}" if p.ports else "not enabled"
        lines.append(f"  also on the device: {printable(p.name)} (precedence {p.precedence}, {where}"
                     f"{', amtkit' if p.ours else ''})")
    return "\n".join(lines)


@task_text("defense.remove")
def _remove_line(result: HostResult) -> str:
    return "amtkit's policy removed (full network)" if (result.data or {}).get("changed") else \
        "nothing of amtkit's to remove"


@defense.command("show")
@click.argument("targets", nargs=-1, required=True)
@click.option("--interface", "interface", type=click.IntRange(0, 1), default=0, show_default=True,
              help="AMT network interface: 0 wired, 1 wireless.")
@click.option("--reset", is_flag=True, help="Reset the counters after reading them.")
@connection_options
@profile_options
@fleet_options
@handle_errors
@_defense_errors
def show_command(targets: tuple[str, ...], interface: int, reset: bool, as_json: bool, profiles_file: str | None,
                 profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
    """Show the policy in force on TARGETS with its filters' counters."""
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        if reset:
            raise click.UsageError("--reset works on one host at a time")
        from ..fleet import tasks

        run_fleet(tasks.defense_show(port=interface), targets, conn, profiles_file, profile_name, fleet,
                  _show_line)
        return
    with logged(host, "defense.show", {"port": interface, "reset": reset}), \
            open_client(conn, host, profiles_file, profile_name) as client:
        status = client.defense.show(port=interface, reset=reset)
    emit(status.to_dict(), as_json, lambda _: _show_text(status))


@task_text("defense.show")
def _show_line(result: HostResult) -> str:
    active = (result.data or {}).get("active")
    return "no policy in force (full network)" if not active else f"{active.get('name')} in force"


@defense.command("check")
@click.argument("filters", metavar="FILE|NAME")
@click.option("--manager", "managers", multiple=True, metavar="ADDR[:PORTS]",
              help="Management server the host must keep reaching (repeatable).")
@click.option("--anti-spoofing/--no-anti-spoofing", "anti_spoofing", default=None,
              help="Check with anti-spoofing forced on or off.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@handle_errors
@_defense_errors
def check_command(filters: str, managers: tuple[str, ...], anti_spoofing: bool | None, as_json: bool) -> None:
    """Offline: would FILE lock the manager out? Exit 0 if safe, 14 (lockout) if not."""
    plan = prepare(load(filters), managers, anti_spoofing=anti_spoofing)
    data = {
        "ok": plan.safe, "file": filters, "policy": plan.policy.name, "filters": len(plan.policy.filters),
        "managers": [str(m) for m in plan.managers], "flows_checked": len(plan.flows),
        "problems": list(plan.problems), "blocked": [str(b) for b in plan.blocked],
    }
    if not plan.safe:  # the same keys as every JSON error
        data.update(error="LockoutError", category="lockout", message=f"{filters} would cut the host off from its "
                    "manager", host=None, hint=exc.LockoutError.default_hint, exit_code=exc.EXIT_CODES["lockout"])

    def text(_: dict[str, Any]) -> str:
        managers_text = ", ".join(data["managers"]) or "the set's own management peer"  # type: ignore[arg-type]
        if plan.safe:
            return (f"{filters}: safe - {len(plan.policy.filters)} filters keep {managers_text} reachable "
                    f"({len(plan.flows)} flows checked)")
        return "\n".join([f"{filters}: would cut the host off ({len(plan.refusal())} finding(s)):",
                          *(f"  {line}" for line in plan.refusal())])

    emit(data, as_json, text)
    if not plan.safe:
        sys.exit(exc.EXIT_CODES["lockout"])
