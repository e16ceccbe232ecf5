"""``amtkit``: manage Intel AMT machines out of band.

Exit codes (one per error category, see docs/cli.md and amtkit.exceptions.EXIT_CODES): 0 ok,
1 other error, 2 usage, 3 unreachable/timeout, 4 TLS, 5 AMT not detected, 6 authentication
failed, 7 not provisioned, 8 WS-Man fault, 9 feature not available, 10 AMT status code,
11 protocol error, 12 power error, 13 power state unknown, 14 lockout check refused,
15 image not bootable, 16 power state not reached in time, 17 AMT busy, 130 cancelled.
A fleet job (a command given many targets, see amtkit.cli.fleet): 0 every host succeeded,
20 some failed, 21 none succeeded, 130 cancelled.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from ..codes import PowerAction, PowerState
from .common import (
    connection_options,
    emit,
    handle_errors,
    logged,
    make_connection,
    open_client,
    profile_options,
)
from .fleet import FleetArgs, fit_deadline, fleet_options, run_fleet, single_host, task_text
from .trace import trace_from_environment, trace_option, with_trace_option

if TYPE_CHECKING:
    from ..fleet.report import HostResult


class _LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when asked for.

    One call of ``amtkit power status HOST`` should not pay for importing System Defense, IDE-R
    and discovery (their imports were most of the start-up time); ``--help`` still lists all.
    """

    def __init__(self, *args: Any, lazy: Mapping[str, str | Callable[[], click.Command]], path: str = "",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy
        self._path = path
        """The group's own names below ``amtkit`` (``power``), for its commands' trace option and examples."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """With ``--json``, errors found while parsing the command line are JSON too (the usual keys)."""
        if args is None:  # the program itself (console script, ``python -m``): the process ends after this
            try:
                return self._main(args, prog_name, complete_var, standalone_mode, **extra)
            finally:
                _spare_final_collection()
        return self._main(args, prog_name, complete_var, standalone_mode, **extra)

    def _main(self, args: Any, prog_name: str | None, complete_var: str | None, standalone_mode: bool,
              **extra: Any) -> Any:
        import sys

        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            from ..exceptions import UsageError
            from .common import report_error

            report_error(UsageError(error.format_message()), True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("amtkit: interrupted", err=True)
            sys.exit(130)
        sys.exit(0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self._lazy:
            where = self._lazy[name]
            if callable(where):  # built on demand (the power actions: ten commands of twenty options)
                self.add_command(where(), name)
            else:
                import importlib

                module, attribute = where.split(":")
                self.add_command(getattr(importlib.import_module(module, __package__), attribute), name)
        command = super().get_command(ctx, name)
        if command is not None:
            with_trace_option(command, f"{self._path} {name}".lstrip())
        return command


def _spare_final_collection() -> None:
    """Freeze the heap when the program is about to exit, so the interpreter's last garbage collection
    skips it (``gc.freeze``).

    That collection walks every object of every module imported (click, lxml, amtkit): 10 ms of the
    90 ms a ``power status HOST`` took, a tenth of the whole call, to free memory the exit returns
    anyway. Nothing is lost: the streams are flushed, files closed by their ``with`` blocks and the
    store committed before this point; objects outside reference cycles are still freed one by one.
    Only for the program itself, never when ``main`` is called in a longer-lived process (tests).
    """
    import gc

    gc.freeze()


_ELSEWHERE = {
    "identify": ".device:identify",
    "fingerprint": ".device:fingerprint",
    "boot": ".boot:boot_command",
    "ider": ".boot:ider_group",
    "defense": ".defense:defense",
    "discover": ".discovery:discover_command",
    "inventory": ".discovery:inventory_command",
    "diagnose": ".discovery:diagnose_command",
    "job": ".jobs:job_group",
    "log": ".activity:log_group",
    "sol": ".sol:sol_command",
    "quarantine": ".quarantine:quarantine_group",
    "events": ".events:events_group",
    "audit": ".events:audit_group",
    "wsman": ".wsman:wsman_group",
}


@click.group(cls=_LazyGroup, lazy=_ELSEWHERE, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amtkit")
@trace_option
def main() -> None:
    """Out-of-band management of Intel AMT / vPro machines."""
    trace_from_environment()
    import warnings

    warnings.showwarning = _show_warning


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """amtkit's warnings (a profile file others can read) as one line, not Python's ``file:line: UserWarning``."""
    click.echo(f"amtkit: warning: {message}", err=True)


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (commands, options, choices, file names).

    Load it now with `eval "$(amtkit completion bash)"`, or save it where your shell looks for
    completions (docs/cli.md, "Shell completion").
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None  # the choice admits only shells click supports
    click.echo(completer(main, {}, "amtkit", "_AMTKIT_COMPLETE").source())


@task_text("identify")
def _identify_line(result: HostResult) -> str:
    data = result.data or {}
    return f"{data.get('product_vendor') or ''} {data.get('product_version') or ''}".strip()


@task_text("power.request")
def _request_line(result: HostResult) -> str:
    return f"{(result.data or {}).get('action')} requested"


@task_text("power.wait")
def _wait_line(result: HostResult) -> str:
    return f"now {(result.data or {}).get('state')}"


@task_text("power.action")
def _action_line(result: HostResult) -> str:
    data = result.data or {}
    return f"{data.get('action')} requested" + (f", now {data['state']}" if data.get("state") else "")


_POWER_COMMANDS: dict[str, Callable[[], click.Command]] = {}
"""``amtkit power on|off|...|request|wait``: built when looked up, so ``amtkit power status`` does not build
twelve commands of twenty options each (4 ms of every call)."""


@main.group(cls=_LazyGroup, lazy=_POWER_COMMANDS, path="power")
def power() -> None:
    """Read and change the host's power state (of one machine or many: see TARGETS)."""


@power.command("status")
@click.argument("targets", nargs=-1, required=True)
@connection_options
@profile_options
@fleet_options
@handle_errors
def power_status(targets: tuple[str, ...], as_json: bool, profiles_file: str | None, profile_name: str | None,
                 fleet: FleetArgs, **options: Any) -> None:
    """Show the power state and the actions offered now.

    TARGETS: one host, or many (addresses, names, 10.0.0.0/24, 10.0.0.1-40, @file, store:amt) for a
    fleet job with a progress bar, a per-host report and exit code 0 (all ok), 20 (some failed),
    21 (all failed) or 130 (cancelled).
    """
    conn = make_connection(as_json=as_json, **options)
    host = single_host(targets, fleet)
    if host is None:
        from ..fleet import tasks

        run_fleet(tasks.power_status(), targets, conn, profiles_file, profile_name, fleet)
        return
    with logged(host, "power.status"), open_client(conn, host, profiles_file, profile_name) as client:
        status = client.power.status()
    data = {"ok": True, "host": host, **status.to_dict()}
    emit(data, as_json, lambda d: f"{host}: {d['state']} (can: {', '.join(d['available']) or 'nothing'})")


def _power_action_command(name: str, action: PowerAction, summary: str) -> click.Command:
    @click.command(name, help=summary + " TARGETS: one host or many (a fleet job).")
    @click.argument("targets", nargs=-1, required=True)
    @click.option("--wait", "wait_seconds", type=float, default=None, metavar="SECONDS",
                  help="Wait up to SECONDS for the resulting state.")
    @connection_options
    @profile_options
    @fleet_options
    @handle_errors
    def command(targets: tuple[str, ...], wait_seconds: float | None, as_json: bool, profiles_file: str | None,
                profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
        conn = make_connection(as_json=as_json, **options)
        host = single_host(targets, fleet)
        if host is None:
            from ..fleet import tasks

            run_fleet(tasks.power_action(action.cli_name, wait=wait_seconds), targets, conn, profiles_file,
                      profile_name, fit_deadline(fleet, wait_seconds, conn.timeout))
            return
        parameters: dict[str, Any] = {"action": action.cli_name, **({"wait": wait_seconds} if wait_seconds else {})}
        with logged(host, "power.action", parameters), open_client(conn, host, profiles_file, profile_name) as client:
            client.power.request(action)
            state = None
            if wait_seconds is not None:
                from ..codes import ACTION_RESULT
                from ..exceptions import PowerWaitTimeout

                try:
                    state = client.power.wait_for(ACTION_RESULT[action], timeout=wait_seconds, interval=0.2)
                except PowerWaitTimeout as error:
                    error.hint = ("the request was accepted; the machine may still be changing state: check "
                                  f"`amtkit power status {host}`, or wait longer (--wait)")
                    raise
        data: dict[str, Any] = {"ok": True, "host": host, "action": action.cli_name, "code": int(action)}
        if state is not None:
            data["state"] = state.name.lower()
        emit(data, as_json, lambda d: f"{host}: {d['action']} requested" + (
            f", now {d['state']}" if "state" in d else ""))

    return command


_POWER_ACTIONS = [
    ("on", PowerAction.ON, "Power the host on."),
    ("off", PowerAction.OFF, "Power off (soft off, S5)."),
    ("off-hard", PowerAction.OFF_HARD, "Power off hard (G3). Few AMT machines offer it (`amtkit power status` "
                                       "lists what is offered); `amtkit power off` (soft off, S5) is what AMT offers."),
    ("off-graceful", PowerAction.OFF_GRACEFUL, "Ask the OS to shut down (needs a host agent)."),
    ("cycle", PowerAction.CYCLE, "Power cycle: off, then on."),
    ("reset", PowerAction.RESET, "Hardware reset (master bus reset)."),
    ("reset-graceful", PowerAction.RESET_GRACEFUL, "Ask the OS to restart (needs a host agent)."),
    ("sleep", PowerAction.SLEEP, "Sleep (S3), where offered."),
    ("hibernate", PowerAction.HIBERNATE, "Hibernate (S4), where offered."),
    ("nmi", PowerAction.NMI, "Send a diagnostic interrupt (NMI)."),
]
_POWER_COMMANDS.update({name: functools.partial(_power_action_command, name, action, summary)
                        for name, action, summary in _POWER_ACTIONS})


def _power_request_command() -> click.Command:
    @click.command("request")
    @click.argument("targets", nargs=-1, required=True, metavar="TARGETS...")
    @click.argument("action")
    @click.option("--no-check", is_flag=True, help="Send even if the device does not list the action as offered.")
    @connection_options
    @profile_options
    @fleet_options
    @handle_errors
    def power_request(targets: tuple[str, ...], action: str, no_check: bool, as_json: bool,
                      profiles_file: str | None, profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
        """Request ACTION by name or raw RequestPowerStateChange code (the escape hatch).

        TARGETS: one host, or many (a fleet job: exit 0, 20, 21 or 130; a request is never sent twice).
        """
        conn = make_connection(as_json=as_json, **options)
        host = single_host(targets, fleet)
        if host is None:
            from ..fleet import tasks

            run_fleet(tasks.power_request(action, check=not no_check), targets, conn, profiles_file, profile_name,
                      fleet)
            return
        with logged(host, "power.request", {"action": action, "check": not no_check}), \
                open_client(conn, host, profiles_file, profile_name) as client:
            client.power.request(int(action) if action.isascii() and action.isdigit() else action,
                                 check_offered=not no_check)
        emit({"ok": True, "host": host, "action": action}, as_json, lambda d: f"{host}: {action} requested")

    return power_request


#: The states a machine settles in and reports (DSP1027 PowerState as AMT reports it), the ones worth waiting for.
_WAITABLE = [PowerState.ON, PowerState.OFF_SOFT, PowerState.OFF_HARD, PowerState.SLEEP_LIGHT, PowerState.SLEEP_DEEP,
             PowerState.HIBERNATE]


def _power_wait_command() -> click.Command:
    @click.command("wait")
    @click.argument("targets", nargs=-1, required=True, metavar="TARGETS...")
    @click.argument("state", metavar="STATE",
                    type=click.Choice([s.name.lower() for s in _WAITABLE], case_sensitive=False))
    @click.option("--within", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                  help="Seconds to wait.")
    @connection_options
    @profile_options
    @fleet_options
    @handle_errors
    def power_wait(targets: tuple[str, ...], state: str, within: float, as_json: bool, profiles_file: str | None,
                   profile_name: str | None, fleet: FleetArgs, **options: Any) -> None:
        """Wait until TARGETS report STATE: on, off_soft, off_hard, sleep_light, sleep_deep or hibernate.

        Nothing is requested: this only reads the state until it is reached (exit 16 if not in time).
        TARGETS: one host, or many (a fleet job, each host waited for at once: exit 0, 20, 21 or 130; a
        host not there in time is `power-timeout`). A default --deadline grows to hold the wait.
        """
        conn = make_connection(as_json=as_json, **options)
        host = single_host(targets, fleet)
        if host is None:
            from ..fleet import tasks

            run_fleet(tasks.power_wait(state, within=within), targets, conn, profiles_file, profile_name,
                      fit_deadline(fleet, within, conn.timeout))
            return
        with logged(host, "power.wait", {"state": state, "within": within}), \
                open_client(conn, host, profiles_file, profile_name) as client:
            reached = client.power.wait_for(PowerState[state.upper()], timeout=within, interval=0.2)
        emit({"ok": True, "host": host, "state": reached.name.lower()}, as_json, lambda d: f"{host}: {d['state']}")

    return power_wait


_POWER_COMMANDS.update(request=_power_request_command, wait=_power_wait_command)


if __name__ == "__main__":  # pragma: no cover
    main()
