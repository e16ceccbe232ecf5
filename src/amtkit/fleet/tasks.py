"""Fleet tasks: what a job does to each host, as a function taking a :class:`~amtkit.client.Client`.

A :class:`Task` is a name, a function ``(client) -> result`` and whether running it twice is harmless
(``idempotent``: reads, System Defense apply and remove). The built-in tasks are rebuilt from their
name and parameters (:func:`build`), which is how a job is resumed from the store and how Dask
workers get them; a user's own function becomes a task with :func:`from_function`::

    from amtkit import fleet

    fleet.tasks.power_status()
    fleet.tasks.power_action("cycle", wait=60)
    fleet.tasks.defense_apply("quarantine-strict", manager=["10.0.0.5"])
    fleet.tasks.sequence(fleet.tasks.boot("pxe"), fleet.tasks.power_action("reset"))
    fleet.tasks.from_function(lambda amt: amt.get("AMT_GeneralSettings").get("HostName"), name="hostname")

A task's result is made JSON-ready for the report: objects with ``to_dict()`` or ``as_dict()`` are
converted, dataclasses too.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc

if TYPE_CHECKING:
    from ..client import Client
    from ..defense.cbfilters import FilterSet
    from ..defense.model import IPAddress
    from .engine import Host

__all__ = ["Task", "build", "from_function", "names", "to_jsonable"]

Parameters = Mapping[str, Any]


@dataclass(frozen=True)
class Task:
    """What to do on each host. ``parameters`` are JSON data without secrets (stored with the job)."""

    name: str
    run: Callable[[Client], Any] = field(repr=False, compare=False)
    idempotent: bool = True
    """Running it twice on a host is harmless: a transient failure may be retried, and a host that was in
    flight when the job was killed is simply run again on resume."""
    parameters: Parameters = field(default_factory=dict)
    builtin: bool = True
    """Whether :func:`build` can make it again from ``name`` and ``parameters`` (resume, Dask)."""
    logs_in: Callable[[Host], Any] | None = field(default=None, repr=False, compare=False)
    """Instead of ``run`` with a logged-in client: the task gets the :class:`~amtkit.fleet.engine.Host` and logs
    in by itself (``diagnose``: it spends no login on a device it finds unprovisioned, and reports every rung)."""
    retry: bool = True
    """Whether a transient failure is tried again (see :mod:`amtkit.fleet.engine`)."""

    def __call__(self, client: Client) -> Any:
        return to_jsonable(self.run(client))

    def on_host(self, host: Host) -> Any:
        """Run a task that logs in by itself (:attr:`logs_in`)."""
        assert self.logs_in is not None
        return to_jsonable(self.logs_in(host))

    def spec(self) -> dict[str, Any]:
        return {"task": self.name, "parameters": dict(self.parameters)}

    def shown_parameters(self) -> dict[str, Any]:
        """The parameters for reports and logs: without bulky payloads (a filter set's XML text)."""
        return {k: v for k, v in self.parameters.items() if not k.endswith("_xml")}


def to_jsonable(value: Any) -> Any:
    """Task results as JSON data: ``to_dict()``/``as_dict()`` objects, dataclasses, enums, containers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, (int, str)) else value.name
    for method in ("to_dict", "as_dict"):
        convert = getattr(value, method, None)
        if callable(convert):
            return to_jsonable(convert())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return str(value)


# -- built-in tasks --------------------------------------------------------------------------------


def power_status() -> Task:
    """Read the power state and the actions offered now."""
    return Task("power.status", lambda client: client.power.status())


def power_action(action: str, *, wait: float | None = None) -> Task:
    """Request a power action by name (``on``, ``off``, ``cycle``, ``reset`` ...); with ``wait``, wait up
    to that many seconds for the resulting state."""
    from ..codes import ACTION_RESULT, PowerAction

    try:
        chosen = PowerAction.from_name(action)
    except ValueError as error:
        raise exc.UsageError(str(error)) from error

    def run(client: Client) -> dict[str, Any]:
        client.power.request(chosen)
        data: dict[str, Any] = {"action": chosen.cli_name, "code": int(chosen)}
        if wait is not None:
            data["state"] = client.power.wait_for(ACTION_RESULT[chosen], timeout=wait, interval=0.5).name.lower()
        return data

    parameters: dict[str, Any] = {"action": chosen.cli_name}
    if wait is not None:
        parameters["wait"] = wait
    return Task("power.action", run, idempotent=False, parameters=parameters)


def power_request(action: str, *, check: bool = True) -> Task:
    """Request ``action`` by name or raw RequestPowerStateChange code (the escape hatch for codes amtkit does not
    name); with ``check``, only if the device offers it now."""
    from ..codes import PowerAction

    text = action.strip()
    raw = text.isascii() and text.isdigit()
    if not raw:
        try:
            PowerAction.from_name(text)  # a misspelt name fails once, before any host is asked
        except ValueError as error:
            raise exc.UsageError(str(error)) from error

    def run(client: Client) -> dict[str, Any]:
        client.power.request(int(text) if raw else text, check_offered=check)
        return {"action": text}

    return Task("power.request", run, idempotent=False, parameters={"action": text, "check": check})


def power_wait(state: str, *, within: float = 60.0) -> Task:
    """Read the power state until it is ``state`` (``on``, ``off_soft`` ...), at most ``within`` seconds;
    nothing is requested."""
    from ..codes import PowerState

    try:
        wanted = PowerState[state.upper()]
    except KeyError as error:
        raise exc.UsageError(f"{state!r} is not a power state (on, off_soft, off_hard, sleep_light, sleep_deep, "
                             "hibernate)") from error

    def run(client: Client) -> dict[str, Any]:
        return {"state": client.power.wait_for(wanted, timeout=within, interval=0.5).name.lower()}

    return Task("power.wait", run, parameters={"state": wanted.name.lower(), "within": within})


def diagnose(*, feature: str | None = None, rmcp_port: int = 623, http_port: int = 16992, https_port: int = 16993,
             probe_timeout: float = 1.0) -> Task:
    """Walk :func:`amtkit.diagnose.diagnose`'s ladder on each host. A host passes when every rung does; else it
    fails with the broken rung's category, finding and what to do, and keeps the whole ladder as its data.
    It logs in by itself (never on a device the RMCP pong says is unprovisioned) and is never retried."""

    def run(host: Host) -> Any:
        return _diagnose(host, feature, rmcp_port, http_port, https_port, probe_timeout)

    parameters = {"feature": feature, "rmcp_port": rmcp_port, "http_port": http_port, "https_port": https_port,
                  "probe_timeout": probe_timeout}
    return Task("diagnose", _logs_in_by_itself, parameters=parameters, logs_in=run, retry=False)


def _logs_in_by_itself(client: Client) -> Any:
    raise TypeError("this task logs in by itself: run it with Task.on_host")


def _diagnose(host: Host, feature: str | None, rmcp_port: int, http_port: int, https_port: int,
              probe_timeout: float) -> Any:
    import time

    from ..diagnose import diagnose as walk
    from ..discovery.probe import ProbeSettings
    from ..http.digest import Credentials
    from .report import HostFailed

    login, options = host.login, host.options
    settings = ProbeSettings.for_diagnosis(rmcp_port=rmcp_port, http_port=http_port, https_port=https_port,
                                           timeout=probe_timeout)
    credentials = None if login.password is None else Credentials(login.username, login.password)
    left = max(0.1, host.deadline - time.monotonic())
    result = walk(host.name, credentials=credentials, profiles=login.profiles, store=host.store, tls=options.tls,
                  port=options.port, settings=settings, feature=feature, timeout=min(options.timeout, left))
    data = result.as_dict()
    failed = result.failed
    if failed is not None:
        raise HostFailed(failed.error or exc.AMTError(failed.finding, hint=failed.action), data)
    return data


def inventory() -> Task:
    """Firmware, names, network, hardware, setup and features (:mod:`amtkit.inventory`)."""
    return Task("inventory", lambda client: client.inventory.collect())


def identify() -> Task:
    """WS-Man Identify (no credentials needed)."""
    return Task("identify", lambda client: client.identify())


def boot(target: str, *, then: str | None = None) -> Task:
    """One-time boot to ``target`` (``pxe``, ``disk``, ``cd``, ``bios``; ``clear`` removes one), optionally
    followed by the power action ``then`` (``auto``, ``on``, ``reset`` ...) that makes it happen now."""

    def run(client: Client) -> Any:
        if target == "clear":
            return {"target": "clear", "settings": to_jsonable(client.boot.clear())}
        return client.boot.boot_once(target, then=then)

    parameters: dict[str, Any] = {"target": target}
    if then is not None:
        parameters["then"] = then
    return Task("boot", run, idempotent=then is None, parameters=parameters)


@lru_cache(maxsize=8)
def filter_set_of(xml: str, source: str) -> FilterSet:
    """The filter set of a CBFilters text, parsed once per process (the same text for every host)."""
    from ..defense.cbfilters import parse_bytes

    return parse_bytes(xml.encode("utf-8"), source)


def read_filters(name_or_path: str) -> tuple[str, str]:
    """The text of a CBFilters file or shipped set, and the name it goes by; checked by parsing it once.

    Raises :class:`~amtkit.defense.model.DefenseError` (a ``ValueError``) for an unusable file.
    """
    from ..defense.cbfilters import SHIPPED, load, shipped_path

    load(name_or_path)  # refuses unusable files with their line, before any host is touched
    path = shipped_path(name_or_path) if name_or_path in SHIPPED else name_or_path
    with open(path, encoding="utf-8") as handle:
        return handle.read(), name_or_path


def defense_apply(filters: str, *, manager: Sequence[str] = (), anti_spoofing: bool | None = None,
                  timeout: int | None = None, force: bool = False, port: int = 0,
                  filters_xml: str | None = None) -> Task:
    """Apply a System Defense filter set (a file or a shipped set's name) with the lockout check, then read it
    back (:meth:`amtkit.defense.client.DefenseControl.apply`). ``timeout`` is AMT's own policy timeout in
    seconds: the safety net that lifts the filters if nobody does. The set's text travels with the task
    (``filters_xml``), so a resumed or distributed job applies exactly what was asked."""
    xml, source = (filters_xml, filters) if filters_xml is not None else read_filters(filters)
    managers = tuple(manager)

    def run(client: Client) -> Any:
        addresses = _host_addresses(client.host)
        return client.defense.apply(filter_set_of(xml, source), manager=managers, anti_spoofing=anti_spoofing,
                                    timeout=timeout, force=force, port=port, host_addresses=addresses)

    parameters = {"filters": source, "filters_sha256": hashlib.sha256(xml.encode()).hexdigest(),
                  "filters_xml": xml, "manager": list(managers), "anti_spoofing": anti_spoofing,
                  "timeout": timeout, "force": force, "port": port}
    return Task("defense.apply", run, parameters=parameters)


def _host_addresses(host: str) -> list[IPAddress]:
    """The host's own address for anti-spoofing, when the target is an address."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return []


def defense_remove() -> Task:
    """Remove amtkit's System Defense policy and filters: full network again."""
    return Task("defense.remove", lambda client: client.defense.remove())


def defense_show(*, port: int = 0) -> Task:
    """The System Defense policy in force and its counters."""
    return Task("defense.show", lambda client: client.defense.show(port=port), parameters={"port": port})


def sequence(*steps: Task) -> Task:
    """The steps one after the other on each host; the first failing step fails the host (later ones do not
    run). The data is a list of the steps' results."""
    if not steps:
        raise exc.UsageError("a sequence needs at least one step")

    def run(client: Client) -> list[Any]:
        return [step(client) for step in steps]

    return Task("sequence", run, idempotent=all(s.idempotent for s in steps),
                parameters={"steps": [s.spec() for s in steps]}, builtin=all(s.builtin for s in steps))


def from_function(function: Callable[[Client], Any], *, name: str | None = None, idempotent: bool = False) -> Task:
    """A user's own function ``(client) -> result`` as a task. Not idempotent unless said: a host in flight
    when a job is killed is then reported in doubt rather than run twice."""
    label = name or f"function:{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
    return Task(label, function, idempotent=idempotent, builtin=False)


_BUILDERS: dict[str, Callable[..., Task]] = {
    "power.status": power_status,
    "power.action": power_action,
    "power.request": power_request,
    "power.wait": power_wait,
    "diagnose": diagnose,
    "inventory": inventory,
    "identify": identify,
    "boot": boot,
    "defense.apply": defense_apply,
    "defense.remove": defense_remove,
    "defense.show": defense_show,
}


def _events_builders() -> dict[str, Callable[..., Task]]:
    """The events area's tasks (:mod:`amtkit.events.tasks`), imported when a task is looked up."""
    from ..events import tasks as events

    return {"events.log": events.events_log, "audit.log": events.audit_log,
            "events.subscribe": events.events_subscribe, "events.unsubscribe": events.events_unsubscribe,
            "events.subscriptions": events.events_subscriptions}


_EVENTS_TASKS = ("events.log", "audit.log", "events.subscribe", "events.unsubscribe", "events.subscriptions")


def names() -> list[str]:
    """The built-in tasks' names."""
    return [*_BUILDERS, *_EVENTS_TASKS, "sequence"]


def build(name: str, parameters: Parameters | None = None) -> Task:
    """The built-in task ``name`` with ``parameters`` (as :meth:`Task.spec` gives them)."""
    parameters = dict(parameters or {})
    if name == "sequence":
        return sequence(*(build(step["task"], step.get("parameters")) for step in parameters.get("steps", [])))
    builder = _BUILDERS.get(name) or (_events_builders().get(name) if name in _EVENTS_TASKS else None)
    if builder is None:
        raise exc.UsageError(f"no built-in fleet task named {name!r} (known: {', '.join(names())})")
    if name == "defense.apply":
        parameters.pop("filters_sha256", None)
        return builder(parameters.pop("filters"), **parameters)
    if name in ("power.action", "power.request"):
        return builder(parameters.pop("action"), **parameters)
    if name == "power.wait":
        return builder(parameters.pop("state"), **parameters)
    if name == "boot":
        return builder(parameters.pop("target"), **parameters)
    return builder(**parameters)
