"""Quarantine at scale: cut non-compliant machines off the network at their NIC, keep the manager reachable,
know who is quarantined since when and by whom, and release them later.

The workflow (what Symantec/Altiris ITMS users know), on top of System Defense (:mod:`amtkit.defense`)
and fleet jobs (:mod:`amtkit.fleet`):

* **request** (:func:`request`): the targets minus the exclusion list (machines that must never be cut
  off) and minus the managers themselves; each host's quarantine is recorded in the store with the
  filter set's text, the managers, the safety timeout, the reason, who asked and when it is due
  (now, or after a grace period).
* **lockout check for every host before anything is written**: each host's policy is planned offline
  (its own address for anti-spoofing) and a host whose manager flows would be blocked is refused
  without being contacted; then :meth:`~amtkit.defense.client.DefenseControl.apply` checks again,
  applies and reads back.
* **AMT's own policy timeout is the safety net**: every quarantine is applied with a timeout (24 h
  unless said otherwise), so a machine whose manager is gone comes back by itself. While amtkit's
  runner (:func:`run_due`, ``amtkit quarantine run`` from cron or ``--watch``) runs, it re-applies
  active quarantines before half their timeout has passed, which restarts AMT's timer.
* **release** (:func:`release`): amtkit's policy removed, the record closed with who and when; a
  quarantine still waiting for its grace period is cancelled without touching the machine.

Every change also lands in the activity log, through the fleet jobs that carry it out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from . import exceptions as exc
from .activity import current_operator

if TYPE_CHECKING:
    from .fleet.engine import FleetOptions, Login, Progress
    from .fleet.report import FleetReport
    from .store import Store

__all__ = ["DEFAULT_SAFETY_TIMEOUT", "Exclusions", "Quarantine", "Requested", "check_devices", "parse_duration",
           "release", "request", "run_due", "status"]

DEFAULT_SAFETY_TIMEOUT = 24 * 3600
"""AMT's own policy timeout for a quarantine unless said otherwise: the machine comes back by itself a day
after its manager stops refreshing it."""

PENDING, ACTIVE, FAILED, RELEASED, CANCELLED = "pending", "active", "failed", "released", "cancelled"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """``"90"``, ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"`` -> seconds. Raises :class:`UsageError`."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise exc.UsageError(f"{text!r} is not a duration (like 90s, 15m, 2h, 1d)")
    return round(float(match.group(1)) * _UNITS[match.group(2)])


def host_order(host: str) -> tuple[int, int, str]:
    """Addresses in numeric order (``10.0.0.2`` before ``10.0.0.10``), then names."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return (7, 0, host)
    return (address.version, int(address), "")


def _utc(moment: datetime | None = None) -> datetime:
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Exclusions:
    """Machines that must never be cut off: addresses, networks (``10.0.0.0/24``, never expanded), ``a-b``
    ranges and names, from the command line or files (``#`` comments)."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self.hosts: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for token in tokens:
            self.add(token)

    def add(self, token: str) -> None:
        from .discovery.targets import TargetError, expand_targets
        from .store import normalize_host

        token = token.strip()
        if not token:
            return
        if "/" in token:
            try:
                self.networks.append(ipaddress.ip_network(token, strict=False))
            except ValueError as error:
                raise TargetError(token, f"not a network: {error}") from error
            return
        self.hosts.update(normalize_host(host) for host in expand_targets(token, limit=65536))

    @classmethod
    def from_files(cls, paths: Iterable[str]) -> Exclusions:
        from .discovery.targets import read_target_file

        return cls(token for path in paths for token, _where in read_target_file(path))

    def __contains__(self, host: object) -> bool:
        from .store import normalize_host

        if not isinstance(host, str):
            return False
        key = normalize_host(host)
        if key in self.hosts:
            return True
        try:
            address = ipaddress.ip_address(key)
        except ValueError:
            return False
        return any(address.version == network.version and address in network for network in self.networks)


@dataclass(frozen=True)
class Quarantine:
    """One host's quarantine record (the latest; earlier ones live in the activity log)."""

    host: str
    state: str
    """``pending`` (waiting for its grace period), ``active``, ``failed`` (could not be applied: see
    ``last_error``), ``released``, ``cancelled`` (released before it was due)."""
    filters: str
    filters_sha256: str
    managers: tuple[str, ...]
    safety_timeout: int
    reason: str | None
    requested_by: str
    requested_at: str
    due_at: str
    applied_at: str | None
    applied_by: str | None
    refreshed_at: str | None
    released_at: str | None
    released_by: str | None
    last_error: str | None
    last_category: str | None
    job_id: int | None

    @property
    def lifted_by_amt(self) -> bool:
        """Active, but AMT's safety timeout has passed since it was last (re)applied: the filters are gone."""
        if self.state != ACTIVE or not self.safety_timeout:
            return False
        since = datetime.fromisoformat(self.refreshed_at or self.applied_at or self.requested_at)
        return _utc() >= since + timedelta(seconds=self.safety_timeout)

    @property
    def shown_state(self) -> str:
        return "expired" if self.lifted_by_amt else self.state

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "state": self.shown_state, "filters": self.filters,
                "filters_sha256": self.filters_sha256, "managers": list(self.managers),
                "safety_timeout": self.safety_timeout, "reason": self.reason, "requested_by": self.requested_by,
                "requested_at": self.requested_at, "due_at": self.due_at, "applied_at": self.applied_at,
                "applied_by": self.applied_by, "refreshed_at": self.refreshed_at, "released_at": self.released_at,
                "released_by": self.released_by, "last_error": self.last_error, "last_category": self.last_category,
                "job": self.job_id}


_COLUMNS = ("host", "state", "filters", "filters_sha256", "managers", "safety_timeout", "reason", "requested_by",
            "requested_at", "due_at", "applied_at", "applied_by", "refreshed_at", "released_at", "released_by",
            "last_error", "last_category", "job_id")


def _quarantine(row: Any) -> Quarantine:
    values = {name: row[name] for name in _COLUMNS}
    values["managers"] = tuple(json.loads(values["managers"]))
    return Quarantine(**values)


def status(store: Store, hosts: Iterable[str] | None = None, *, include_closed: bool = False) -> list[Quarantine]:
    """The quarantine records (open ones unless ``include_closed``), by host."""
    from .store import normalize_host

    rows = sorted(store.query("SELECT * FROM quarantine"), key=lambda row: host_order(row["host"]))
    wanted = None if hosts is None else {normalize_host(h) for h in hosts}
    records = [_quarantine(row) for row in rows]
    return [r for r in records if (wanted is None or r.host in wanted)
            and (include_closed or r.state in (PENDING, ACTIVE, FAILED))]


@dataclass(frozen=True)
class Requested:
    """What :func:`request` did with the targets."""

    scheduled: list[str]
    """Hosts recorded as pending (due now, or after the grace period)."""
    excluded: list[str]
    """Targets on the exclusion list, or a manager themselves: never touched."""
    refused: dict[str, str]
    """Hosts the lockout check refused before anything was written: host -> why."""
    due_at: str


def _plan_for(host: str, filter_set: Any, managers: Sequence[str], timeout: int) -> list[str]:
    """The lockout check of one host: the reasons to refuse (none: safe)."""
    from .defense.plan import prepare

    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = []
    return prepare(filter_set, managers, timeout=timeout, host_addresses=addresses).refusal()


def request(store: Store, targets: str | Iterable[str], *, filters: str, managers: Sequence[str],
            exclusions: Exclusions | None = None, grace: int = 0, safety_timeout: int = DEFAULT_SAFETY_TIMEOUT,
            reason: str | None = None, options: FleetOptions | None = None, operator: str | None = None,
            now: datetime | None = None) -> Requested:
    """Record quarantines for ``targets`` (see the module docstring); nothing is sent to any machine here.

    Raises :class:`~amtkit.defense.model.DefenseError` for an unusable filter file or manager and
    :class:`~amtkit.exceptions.LockoutError` when the set would cut every host off (nothing recorded).
    """
    from .defense.engine import parse_manager_spec
    from .fleet.engine import FleetOptions
    from .fleet.targets import resolve_targets
    from .fleet.tasks import filter_set_of, read_filters

    if not managers:
        raise exc.UsageError("a quarantine needs the management server that must stay reachable (--manager)")
    xml, source = read_filters(filters)
    filter_set = filter_set_of(xml, source)
    manager_addresses = {str(parse_manager_spec(m).address) for m in managers}
    exclusions = exclusions or Exclusions()
    hosts = resolve_targets(targets, store=store)
    excluded = [h for h in hosts if h in exclusions or h in manager_addresses]
    candidates = [h for h in hosts if h not in excluded]
    findings = {host: _plan_for(host, filter_set, managers, safety_timeout) for host in candidates}
    refused = {host: "; ".join(found) for host, found in findings.items() if found}
    if candidates and len(refused) == len(candidates):
        blocked = findings[candidates[0]]
        raise exc.LockoutError("refusing to quarantine any host: the filter set would cut them off from their "
                               "manager:\n" + "\n".join(f"  {line}" for line in blocked), blocked=blocked)
    moment = _utc(now)
    due = _stamp(moment + timedelta(seconds=grace))
    operator = operator or current_operator()
    scheduled = [h for h in candidates if h not in refused]
    digest = hashlib.sha256(xml.encode()).hexdigest()
    connection = json.dumps((options or FleetOptions()).to_dict())
    with store.transaction() as db:
        for host in scheduled:
            db.execute(
                "INSERT OR REPLACE INTO quarantine (host, state, filters, filters_xml, filters_sha256, managers, "
                "safety_timeout, reason, requested_by, requested_at, due_at, connection) "
                "VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (host, source, xml, digest, json.dumps(list(managers)), safety_timeout, reason, operator,
                 _stamp(moment), due, connection))
        for host, why in refused.items():
            db.execute(
                "INSERT OR REPLACE INTO quarantine (host, state, filters, filters_xml, filters_sha256, managers, "
                "safety_timeout, reason, requested_by, requested_at, due_at, connection, last_error, last_category) "
                "VALUES (?, 'failed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'lockout')",
                (host, source, xml, digest, json.dumps(list(managers)), safety_timeout, reason, operator,
                 _stamp(moment), due, connection, f"lockout check refused: {why}"))
    return Requested(scheduled, excluded, refused, due)


def _due(store: Store, moment: datetime, hosts: Iterable[str] | None) -> list[Any]:
    """Pending quarantines due by ``moment``, and active ones whose AMT timer needs restarting."""
    rows = sorted(store.query("SELECT * FROM quarantine WHERE state IN ('pending', 'active')"),
                  key=lambda row: host_order(row["host"]))
    wanted = None if hosts is None else set(hosts)
    due = []
    for row in rows:
        if wanted is not None and row["host"] not in wanted:
            continue
        if row["state"] == PENDING:
            if datetime.fromisoformat(row["due_at"]) <= moment:
                due.append(row)
        elif row["safety_timeout"]:
            since = datetime.fromisoformat(row["refreshed_at"] or row["applied_at"])
            if moment >= since + timedelta(seconds=row["safety_timeout"] / 2):
                due.append(row)
    return due


def run_due(store: Store, *, login: Login, options: FleetOptions | None = None, progress: Progress | None = None,
            hosts: Iterable[str] | None = None, now: datetime | None = None) -> list[FleetReport]:
    """Apply every quarantine that is due, and restart AMT's timer of active ones past half their safety
    timeout; one fleet job per distinct filter set, managers and timeout. Returns the jobs' reports.

    ``options`` replace the connection options recorded with each request (port, TLS, deadline ...).
    """
    from .fleet.engine import FleetOptions, run
    from .fleet.tasks import defense_apply

    moment = _utc(now)
    groups: dict[tuple[str, str, int, str], list[Any]] = {}
    for row in _due(store, moment, hosts):
        key = (row["filters_sha256"], row["managers"], row["safety_timeout"], row["connection"])
        groups.setdefault(key, []).append(row)
    reports = []
    for (_digest, managers, timeout, connection), rows in groups.items():
        first = rows[0]
        task = defense_apply(first["filters"], manager=json.loads(managers), timeout=timeout or None,
                             filters_xml=first["filters_xml"])
        job_options = options or FleetOptions.from_dict(json.loads(connection))
        report = run(task, [row["host"] for row in rows], login=login, options=job_options, store=store,
                     progress=progress)
        _record_applied(store, report, {row["host"]: row["state"] for row in rows})
        reports.append(report)
    return reports


def _record_applied(store: Store, report: FleetReport, before: Mapping[str, str]) -> None:
    operator = current_operator()
    stamp = _stamp(_utc())
    with store.transaction() as db:
        for result in report.results:
            if result.ok:
                if before[result.host] == PENDING:
                    db.execute("UPDATE quarantine SET state = 'active', applied_at = ?, applied_by = ?, "
                               "refreshed_at = NULL, last_error = NULL, last_category = NULL, job_id = ? "
                               "WHERE host = ?", (stamp, operator, report.job_id, result.host))
                else:
                    db.execute("UPDATE quarantine SET refreshed_at = ?, job_id = ? WHERE host = ?",
                               (stamp, report.job_id, result.host))
            elif result.category in ("cancelled", "in-doubt"):
                continue  # still due: the next run takes it up
            elif before[result.host] == PENDING:
                db.execute("UPDATE quarantine SET state = 'failed', last_error = ?, last_category = ?, job_id = ? "
                           "WHERE host = ?", (result.message, result.category, report.job_id, result.host))
            else:  # refreshing failed: still active on the device until AMT's timer runs out
                db.execute("UPDATE quarantine SET last_error = ?, last_category = ?, job_id = ? WHERE host = ?",
                           (f"refresh failed: {result.message}", result.category, report.job_id, result.host))


def check_devices(store: Store, records: Sequence[Quarantine], *, login: Login, options: FleetOptions | None = None,
                  progress: Progress | None = None) -> dict[str, str]:
    """Read each machine's System Defense state (a fleet job) and say, per host, whether amtkit's policy is
    ``in force``, ``not in force``, or why it could not be read (``unknown: timeout ...``)."""
    from .fleet.engine import FleetOptions, run
    from .fleet.tasks import defense_show

    if not records:
        return {}
    if options is None:
        recorded = store.query("SELECT connection FROM quarantine WHERE host = ?", (records[0].host,))
        options = FleetOptions.from_dict(json.loads(recorded[0]["connection"])) if recorded else FleetOptions()
    report = run(defense_show(), [r.host for r in records], login=login, options=options, store=store,
                 progress=progress)
    found = {}
    for result in report.results:
        if not result.ok:
            found[result.host] = f"unknown: {result.category}: {result.message}"
            continue
        active = (result.data or {}).get("active")
        found[result.host] = "in force" if active and active.get("ours") else "not in force"
    return found


def release(store: Store, targets: str | Iterable[str], *, login: Login, options: FleetOptions | None = None,
            progress: Progress | None = None, operator: str | None = None) -> tuple[FleetReport | None, list[str]]:
    """Lift the quarantine of ``targets``: pending ones are cancelled without contacting the machine; the
    others get amtkit's policy removed (:meth:`~amtkit.defense.client.DefenseControl.remove`; a machine
    without it is fine). Returns the removal job's report (``None`` if nothing needed contacting) and the
    hosts cancelled before they were due."""
    from .fleet.engine import FleetOptions, run
    from .fleet.targets import resolve_targets
    from .fleet.tasks import defense_remove

    hosts = resolve_targets(targets, store=store)
    records = {q.host: q for q in status(store, hosts)}
    operator = operator or current_operator()
    stamp = _stamp(_utc())
    cancelled = [h for h in hosts if h in records and records[h].state == PENDING]
    with store.transaction() as db:
        for host in cancelled:
            db.execute("UPDATE quarantine SET state = 'cancelled', released_at = ?, released_by = ? WHERE host = ?",
                       (stamp, operator, host))
    contact = [h for h in hosts if h not in cancelled]
    if not contact:
        return None, cancelled
    if options is None:
        recorded = store.query("SELECT connection FROM quarantine WHERE host = ?", (contact[0],))
        options = FleetOptions.from_dict(json.loads(recorded[0]["connection"])) if recorded else FleetOptions()
    report = run(defense_remove(), contact, login=login, options=options, store=store, progress=progress)
    with store.transaction() as db:
        for result in report.results:
            if result.ok:
                db.execute("UPDATE quarantine SET state = 'released', released_at = ?, released_by = ?, job_id = ? "
                           "WHERE host = ? AND state IN ('active', 'failed')",
                           (stamp, operator, report.job_id, result.host))
    return report, cancelled
