"""Many targets on the commands users know: ``amtkit power status 10.0.0.0/24 @hosts.txt`` runs a fleet job.

A command given one plain host behaves as it always did (its output, its exit code). Given several
targets, a range, a network, a file or ``store:amt``, it runs a fleet job (:mod:`amtkit.fleet`):
a progress bar on a terminal (plain progress lines otherwise), then one line per host and a summary,
or the whole report with ``--json`` / ``--csv``. The job is recorded in the store as hosts finish
(``amtkit job resume ID`` after a crash).

Exit codes of a fleet job: 0 every host succeeded, 20 some hosts failed, 21 every host failed,
130 cancelled (Ctrl-C; the report of what was done is still printed), 2 usage errors.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..text import printable, printable_data, terminal_safe
from .common import STORE_HELP, Connection, open_store_quietly

if TYPE_CHECKING:
    from ..fleet.engine import FleetOptions, Login
    from ..fleet.report import FleetReport, HostResult
    from ..fleet.tasks import Task
    from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["FleetArgs", "fit_deadline", "fleet_options", "one_host_argument", "run_fleet", "single_host"]

TASK_TEXT: dict[str, Callable[[HostResult], str]] = {}
"""How a successful host's data reads in the text report, by task name (registered by the command modules)."""


def task_text(*names: str) -> Callable[[Callable[[HostResult], str]], Callable[[HostResult], str]]:
    """Register the text of a task's successful results (for fleet reports, ``job show`` and ``job resume``)."""
    def register(text: Callable[[HostResult], str]) -> Callable[[HostResult], str]:
        for name in names:
            TASK_TEXT[name] = text
        return text

    return register


_FLEET_KEYS = ("concurrency", "deadline", "retries", "as_csv", "store_path", "no_store", "dask", "rmcp_port")


@dataclass(frozen=True)
class FleetArgs:
    """The fleet options of a command line."""

    concurrency: int = 64
    deadline: float = 60.0
    retries: int = 2
    as_csv: bool = False
    store_path: str | None = None
    no_store: bool = False
    dask: str | None = None
    rmcp_port: int = 623
    """UDP port of the presence ping asked why a login was refused (AMT's RMCP port)."""


def fleet_options(command: F) -> F:
    """Add ``--concurrency --deadline --retries --csv --store --no-store --dask --rmcp-port``; the command gets
    ``fleet: FleetArgs``."""
    return _fleet_options(command, rmcp_port=True)


def fleet_options_own_rmcp_port(command: F) -> F:
    """:func:`fleet_options` for a command with an ``--rmcp-port`` of its own (diagnose's probe): that one stays
    the command's, and ``FleetArgs.rmcp_port`` keeps its default."""
    return _fleet_options(command, rmcp_port=False)


def _fleet_options(command: F, *, rmcp_port: bool) -> F:
    options = [
        click.option("--concurrency", type=click.IntRange(1, 4096), default=64, show_default=True,
                     help="Hosts worked on at once (with several targets)."),
        click.option("--deadline", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                     metavar="SECONDS", help="Time one host may take in all, retries included."),
        click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
                     help="Further attempts after a transient failure (never after an authentication failure)."),
        click.option("--csv", "as_csv", is_flag=True, help="Print the fleet report as CSV."),
        click.option("--store", "store_path", type=click.Path(dir_okay=False), default=None,
                     help="Store for the job record and activity log " + STORE_HELP[len("The store "):]),
        click.option("--no-store", is_flag=True, help="Do not record the job (it cannot be resumed then)."),
        click.option("--dask", default=None, metavar="ADDRESS|local[:N]",
                     help="Run the job on Dask distributed: a scheduler's address, or a local cluster of N "
                          "processes (needs amtkit[dask]); --concurrency is then per worker."),
    ]
    if rmcp_port:
        options.append(click.option(
            "--rmcp-port", type=click.IntRange(1, 65535), default=623, show_default=True,
            help="UDP port of AMT's RMCP presence ping, sent to a host that refused the login: its pong says whether "
                 "it is provisioned (no login spent)."))
    keys = _FLEET_KEYS if rmcp_port else tuple(key for key in _FLEET_KEYS if key != "rmcp_port")

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fleet = FleetArgs(**{key: kwargs.pop(key) for key in keys})
        return command(*args, fleet=fleet, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def single_host(targets: Sequence[str], fleet: FleetArgs) -> str | None:
    """The host, when the command line names exactly one plain host (the single-machine behaviour)."""
    if len(targets) != 1 or fleet.as_csv:
        return None
    token = targets[0].strip()
    if not token or any(mark in token for mark in ("@", "/", ",", " ", "store:")):
        return None
    if "-" in token:
        from ..discovery.targets import expand_targets

        try:
            if len(expand_targets(token)) != 1:
                return None
        except ValueError:
            return None
    return token


def fit_deadline(fleet: FleetArgs, waiting: float | None, timeout: float) -> FleetArgs:
    """The fleet arguments of a command that waits up to ``waiting`` seconds on each host (``power wait``,
    ``--wait``): a ``--deadline`` left at its default grows to hold the wait and one more request; one given
    shorter than the wait is a usage error (every host would end as a timeout, not as the wait's answer)."""
    if waiting is None or waiting + timeout <= fleet.deadline:
        return fleet
    source = click.get_current_context().get_parameter_source("deadline")
    if source is click.core.ParameterSource.DEFAULT:
        return dataclasses.replace(fleet, deadline=waiting + timeout)
    if waiting >= fleet.deadline:
        raise click.BadParameter(f"{fleet.deadline:g} s leaves no host time to wait {waiting:g} s: give a deadline "
                                 "longer than the wait", param_hint="--deadline")
    return fleet


def one_host_argument(why: str) -> Callable[[F], F]:
    """The ``HOST`` argument of a command that works on one machine at a time (``why``: an interactive console
    ...): several targets, a range, a network, a file or ``store:`` are a usage error saying so."""

    def check(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> str:
        tokens = [token for token in value if token.strip()]
        host = single_host(tokens, FleetArgs()) if tokens else None
        if host is None:
            named = " ".join(value) if len(value) <= 3 else f"{' '.join(value[:3])} ..."
            raise click.BadParameter(f"{ctx.command_path} works on one machine at a time ({why}); {named!r} names "
                                     f"{'several' if len(tokens) != 1 else 'many'}: give one host name or address")
        return host

    return click.argument("host", nargs=-1, required=True, metavar="HOST", callback=check)


def login_for(conn: Connection, profiles_file: str | None, profile_name: str | None) -> Login:
    from ..fleet.engine import Login
    from ..profiles import ProfileSet

    if profile_name is not None:
        credentials = ProfileSet.load(profiles_file)[profile_name].credentials()
        return Login(credentials.username, credentials.password)
    if profiles_file is not None:
        return Login(profiles=ProfileSet.load(profiles_file))
    return Login(conn.username, conn.password())


def options_for(conn: Connection, fleet: FleetArgs) -> FleetOptions:
    from ..fleet.engine import FleetOptions

    return FleetOptions(concurrency=fleet.concurrency, deadline=fleet.deadline, timeout=min(conn.timeout, fleet.deadline),
                        retries=fleet.retries, port=conn.port, tls=conn.tls, rmcp_port=fleet.rmcp_port,
                        generation=conn.generation, transport=conn.transport)


def run_fleet(task: Task, targets: Sequence[str], conn: Connection, profiles_file: str | None,
              profile_name: str | None, fleet: FleetArgs, text: Callable[[HostResult], str] | None = None, *,
              login: Login | None = None) -> None:
    """Run ``task`` as a fleet job, print the report, exit with the fleet's code."""
    from ..fleet.engine import run

    if conn.as_json and fleet.as_csv:
        raise click.UsageError("choose one of --json and --csv")
    login = login or login_for(conn, profiles_file, profile_name)
    store = None if fleet.no_store else open_store_quietly(fleet.store_path)
    try:
        with progress_for((conn.as_json or fleet.as_csv) and not sys.stderr.isatty()) as progress:
            if fleet.dask is None:
                report = run(task, targets, login=login, options=options_for(conn, fleet), store=store,
                             progress=progress)
            else:
                report = _run_on_dask(fleet.dask, task, targets, login, options_for(conn, fleet), store, progress)
    finally:
        if store is not None:
            store.close()
    print_report(report, conn.as_json, fleet.as_csv, text)
    sys.exit(report.exit_code)


def _run_on_dask(address: str, task: Task, targets: Sequence[str], login: Login, options: FleetOptions,
                 store: Store | None, progress: Callable[[HostResult, int, int], None] | None) -> FleetReport:
    from contextlib import ExitStack

    from ..fleet.distributed import import_distributed, local_cluster, run_distributed

    distributed = import_distributed()
    with ExitStack() as stack:
        if address == "local" or address.startswith("local:"):
            count = address.partition(":")[2] or "2"
            if not count.isdigit() or int(count) < 1:
                raise click.BadParameter(f"{address!r}: local:N with N a number of worker processes",
                                         param_hint="--dask")
            target: Any = stack.enter_context(local_cluster(int(count)))
        else:
            target = address
        dask = stack.enter_context(distributed.Client(target))
        return run_distributed(task, targets, dask=dask, login=login, options=options, store=store,
                               progress=progress)


def print_report(report: FleetReport, as_json: bool, as_csv: bool,
                 text: Callable[[HostResult], str] | None = None) -> None:
    if as_json:
        click.echo(report.to_json())
    elif as_csv:
        click.echo(report.to_csv(), nl=False)
    else:
        click.echo(report_text(report, text))


def report_text(report: FleetReport, text: Callable[[HostResult], str] | None = None) -> str:
    """One line per host, then the summary."""
    width = max((len(r.host) for r in report.results), default=4)
    lines = []
    for result in report.results:
        if result.ok:
            shown = text or TASK_TEXT.get(report.task)
            detail = printable(shown(result), None) if shown is not None else _data_text(printable_data(result.data))
            lines.append(f"{result.host.ljust(width)}  ok      {detail}".rstrip())
        else:
            code = f" [AMT {result.return_code:#x}]" if result.return_code is not None else ""
            lines.append(f"{result.host.ljust(width)}  {result.outcome.value:<7} {result.category}: "
                         f"{result.message or ''}{code}".rstrip())
    lines.append(summary_line(report))
    return terminal_safe("\n".join(lines))


def summary_line(report: FleetReport) -> str:
    summary = report.summary()
    parts = [f"{summary['ok']} ok", f"{summary['failed']} failed"]
    parts += [f"{summary[key]} {key}" for key in ("cancelled", "in-doubt") if summary[key]]
    categories = ", ".join(f"{name} {count}" for name, count in summary["categories"].items())
    job = f"job {report.job_id}: " if report.job_id is not None else ""
    return (f"{job}{report.task} on {summary['total']} host(s) in {report.elapsed:.1f} s: " + ", ".join(parts)
            + (f" ({categories})" if categories else ""))


def _data_text(data: Any) -> str:
    if isinstance(data, dict):
        if "state" in data and "available" in data:
            return f"{data['state']} (can: {', '.join(data['available']) or 'nothing'})"
        shown = [f"{k}={v}" for k, v in data.items() if isinstance(v, (str, int, float, bool)) and v is not None]
        return ", ".join(shown[:6])
    if data is None:
        return ""
    return str(data)


class _ProgressBar:
    """tqdm on a terminal; plain lines on stderr every tenth of the job otherwise; nothing for scripts."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        self.failed = 0
        self._shown = -1

    def __enter__(self) -> Callable[[HostResult, int, int], None] | None:
        return None if self.quiet else self

    def __call__(self, result: HostResult, done: int, total: int) -> None:
        self.failed += not result.ok
        if sys.stderr.isatty():
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="host", file=sys.stderr, dynamic_ncols=True, leave=False)
            self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(1)
            return
        step = max(1, total // 10)
        if done == total or done // step != self._shown:
            self._shown = done // step
            click.echo(f"progress: {done}/{total} hosts, {self.failed} failed", err=True)

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_for(quiet: bool) -> _ProgressBar:
    return _ProgressBar(quiet)


def open_job_store(path: str | None) -> Store:
    """The store jobs live in; an error (not a warning) when it cannot be opened."""
    from ..store import Store

    return Store.open(path)
