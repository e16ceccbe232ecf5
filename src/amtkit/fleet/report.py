"""What a fleet job found: one :class:`HostResult` per host, a :class:`FleetReport` over all of them.

Per host: the outcome, the error category (the diagnosis classes of :mod:`amtkit.exceptions`:
``unreachable``, ``timeout``, ``not-detected``, ``auth-failed``, ``not-provisioned``,
``power-state-unknown``, ``busy`` ...), AMT's return code when the device gave one, how many
attempts were made, how long the host took, and the task's result data. The report adds summary
counts and exports as JSON and CSV.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import exceptions as exc

__all__ = ["CSV_FIELDS", "EXIT_ALL_FAILED", "EXIT_SOME_FAILED", "FleetReport", "HostFailed", "HostResult", "Outcome"]

EXIT_SOME_FAILED = 20
"""CLI exit code of a fleet job in which some hosts succeeded and some did not."""
EXIT_ALL_FAILED = 21
"""CLI exit code of a fleet job in which no host succeeded."""


class Outcome(str, enum.Enum):
    OK = "ok"
    """The task ran to its end on the host."""
    FAILED = "failed"
    """The task failed on the host; ``category`` says why."""
    CANCELLED = "cancelled"
    """Not run (or abandoned before it did anything that counts): the job was cancelled. Resume runs it."""
    IN_DOUBT = "in-doubt"
    """A task that changes things was in flight when the job was stopped: it may or may not have
    happened. Resume leaves it alone unless asked to run it again."""


class HostFailed(Exception):
    """Raised by a task whose host failed with a result worth keeping (``amtkit diagnose``: the ladder up to
    the broken rung): the host fails with ``error``'s category, message, hint and return code, and its
    ``data`` is kept in the report. Never retried: the task reports what it found."""

    def __init__(self, error: exc.AMTError, data: Any) -> None:
        super().__init__(error.message)
        self.error = error
        self.data = data


@dataclass(frozen=True)
class HostResult:
    host: str
    outcome: Outcome
    category: str | None = None
    """The error category (``None`` when the task succeeded)."""
    message: str | None = None
    hint: str | None = None
    return_code: int | None = None
    """AMT's return code when the device gave one (a method's ReturnValue, a fault's AMT-STATUS)."""
    attempts: int = 0
    duration: float = 0.0
    """Seconds spent on the host, retries and waits included."""
    data: Any = None
    """The task's result, JSON-ready (dicts, lists, strings, numbers)."""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @classmethod
    def failure(cls, host: str, error: exc.AMTError, *, attempts: int, duration: float, data: Any = None) -> HostResult:
        return cls(host, Outcome.FAILED, error.category, error.message, error.hint or None, return_code_of(error),
                   attempts, duration, data)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "outcome": self.outcome.value, "category": self.category,
                "message": self.message, "hint": self.hint, "return_code": self.return_code,
                "attempts": self.attempts, "duration": round(self.duration, 4), "data": self.data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HostResult:
        return cls(host=data["host"], outcome=Outcome(data["outcome"]), category=data.get("category"),
                   message=data.get("message"), hint=data.get("hint"), return_code=data.get("return_code"),
                   attempts=int(data.get("attempts") or 0), duration=float(data.get("duration") or 0.0),
                   data=data.get("data"))

    def verdict(self) -> tuple[str, str | None, int | None, Any]:
        """What was found, without how long it took: equal for equal findings (local vs distributed runs)."""
        return (self.host, self.category or self.outcome.value, self.return_code, self.data)


def return_code_of(error: exc.AMTError) -> int | None:
    if isinstance(error, exc.AMTReturnError):
        return error.return_value
    if isinstance(error, exc.WSManFault):
        return error.amt_status
    return None


CSV_FIELDS = ("host", "outcome", "category", "return_code", "attempts", "duration", "message", "hint", "data")


@dataclass
class FleetReport:
    """Every host's result, in target order, and the job around them."""

    task: str
    results: list[HostResult]
    job_id: int | None = None
    elapsed: float = 0.0
    cancelled: bool = False
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[HostResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def result(self, host: str) -> HostResult:
        return next(r for r in self.results if r.host == host)

    @property
    def ok(self) -> bool:
        """Whether every host succeeded."""
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def failed(self) -> list[HostResult]:
        return [r for r in self.results if not r.ok]

    def summary(self) -> dict[str, Any]:
        outcomes = Counter(r.outcome.value for r in self.results)
        categories = Counter(r.category for r in self.results if r.category)
        return {"total": len(self.results), **{o.value: outcomes.get(o.value, 0) for o in Outcome},
                "categories": dict(sorted(categories.items()))}

    @property
    def exit_code(self) -> int:
        """0: every host succeeded; 20: some did not; 21: none did; 130: the job was cancelled."""
        if self.ok:
            return 0
        if self.cancelled:
            return exc.EXIT_CODES["cancelled"]
        return EXIT_ALL_FAILED if not any(r.ok for r in self.results) else EXIT_SOME_FAILED

    def verdicts(self) -> list[tuple[str, str | None, int | None, Any]]:
        """Per host what was found (no timings): two runs of a job over the same fleet compare equal."""
        return [r.verdict() for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "job": self.job_id, "task": self.task, "parameters": dict(self.parameters),
                "cancelled": self.cancelled, "elapsed": round(self.elapsed, 3), "summary": self.summary(),
                "exit_code": self.exit_code, "results": [r.to_dict() for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def to_csv(self) -> str:
        """One row per host; ``data`` as compact JSON."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for result in self.results:
            row = result.to_dict()
            row["data"] = "" if result.data is None else json.dumps(result.data, separators=(",", ":"), default=str)
            writer.writerow({key: "" if row[key] is None else row[key] for key in CSV_FIELDS})
        return out.getvalue()
