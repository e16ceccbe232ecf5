"""Which hosts a fleet job runs on: addresses, names, ranges, CIDR networks, files, discovery results and
the store, in one list (first occurrence kept, input order).

Tokens, besides those of :mod:`amtkit.discovery.targets` (``10.0.0.7``, ``10.0.0.0/24``,
``10.0.0.1-20``, ``@hosts.txt``)::

    @discovered.json      the AMT machines of a saved ``amtkit discover --json`` result
    store:amt             the machines the store's discovery records say are Intel AMT
    store:all             every host the store has a discovery record of
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..discovery.targets import DEFAULT_LIMIT, TargetError, expand_targets

if TYPE_CHECKING:
    from ..discovery.probe import HostRecord
    from ..store import Store

__all__ = ["resolve_targets", "hosts_of_records"]

_SEPARATORS = re.compile(r"[\s,]+")
_STORE_PREFIX = "store:"


def hosts_of_records(records: Iterable[HostRecord], *, amt_only: bool = True) -> list[str]:
    """The hosts of discovery records (:func:`amtkit.discovery.discover`), only the AMT ones by default."""
    return [record.host for record in records if record.is_amt or not amt_only]


def _discovery_file(path: str) -> list[str] | None:
    """The AMT hosts of a saved ``amtkit discover --json`` result, or ``None`` if the file is not one."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # expand_targets reports the file with its own words
    if not text.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(text)
        records = document["records"]
        return [str(r["host"]) for r in records if r.get("classification") == "amt_present"]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise TargetError(f"@{path}", "a JSON file must be a saved `amtkit discover --json` result") from error


def _store_hosts(token: str, store: Store | None) -> list[str]:
    from ..discovery.probe import Classification

    kind = token[len(_STORE_PREFIX):]
    if store is None:
        raise TargetError(token, "no store to read hosts from")
    if kind == "amt":
        return store.hosts(Classification.AMT_PRESENT)
    if kind == "all":
        return store.hosts()
    raise TargetError(token, "the store gives 'store:amt' (discovered AMT machines) or 'store:all'")


def resolve_targets(targets: str | Iterable[str], *, store: Store | None = None,
                    limit: int | None = DEFAULT_LIMIT) -> list[str]:
    """Expand target tokens into hosts, duplicates removed, input order kept.

    Raises :class:`~amtkit.discovery.targets.TargetError` naming the first bad token.
    """
    items = [targets] if isinstance(targets, str) else list(targets)
    hosts: dict[str, None] = {}
    for item in items:
        for token in filter(None, _SEPARATORS.split(item)):
            if token.startswith(_STORE_PREFIX):
                found = _store_hosts(token, store)
            elif token.startswith("@") and (discovered := _discovery_file(token[1:])) is not None:
                found = discovered
            else:
                found = expand_targets(token, limit=limit)
            for host in found:
                hosts.setdefault(host, None)
            if limit is not None and len(hosts) > limit:
                raise TargetError(token, f"the target count passes the limit of {limit}")
    return list(hosts)
