"""Expand target specifications into a bounded list of hosts.

Accepted tokens (in a string they may be separated by commas and/or white space)::

    10.0.0.7                      one address (IPv4 or IPv6)
    amt-01.example.com            one host name (resolved later, by the prober)
    127.0.0.0/22                  a network: its usable hosts (no network/broadcast address below /31);
                                  host bits may be set (10.1.2.3/24 means 10.1.2.0/24)
    127.0.0.1-127.0.0.20          an inclusive range of addresses of one family
    127.0.1.1-20                  short form: the end replaces the last IPv4 octet
    @hosts.txt                    a file: one or more tokens per line, '#' starts a comment

The result keeps the first occurrence of each host, in input order. Expansion is bounded: more than
``limit`` hosts (default :data:`DEFAULT_LIMIT`) is refused before any list is built, so a typo such as
``10.0.0.0/8`` fails fast instead of exhausting memory. Every error names the offending token.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from amtkit.exceptions import AMTError

__all__ = ["DEFAULT_LIMIT", "TargetError", "expand_targets", "read_target_file"]

DEFAULT_LIMIT = 65536
"""Most hosts :func:`expand_targets` yields unless the caller passes a larger ``limit``."""

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_SEPARATORS = re.compile(r"[\s,]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


class TargetError(AMTError, ValueError):
    """A target token that cannot be expanded; ``token`` is the token, ``source`` a file:line if any."""

    category = "usage"

    def __init__(self, token: str, reason: str, source: str | None = None) -> None:
        where = f" ({source})" if source else ""
        super().__init__(f"bad target {token!r}{where}: {reason}")
        self.token = token
        self.reason = reason
        self.source = source


def _split(text: str) -> list[str]:
    return [token for token in _SEPARATORS.split(text) if token]


def _address(text: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_hostname(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    if len(text) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return not labels[-1].isdigit()  # "10.0.0.300" is a bad address, not a host name


class _Span:
    """A contiguous run of addresses ``first..first+count-1``, or a single host name."""

    def __init__(self, first: _IPAddress | str, count: int = 1) -> None:
        self.first = first
        self.count = count

    def __iter__(self) -> Iterator[str]:
        if isinstance(self.first, str):
            yield self.first
            return
        start = int(self.first)
        factory = ipaddress.IPv4Address if self.first.version == 4 else ipaddress.IPv6Address
        for offset in range(self.count):
            yield str(factory(start + offset))


def _parse_token(token: str, source: str | None) -> _Span:
    if "/" in token:
        try:
            network = ipaddress.ip_network(token, strict=False)
        except ValueError as exc:
            raise TargetError(token, f"not a network in CIDR notation ({exc})", source) from exc
        if network.num_addresses <= 2 or network.prefixlen >= network.max_prefixlen - 1:
            return _Span(network.network_address, network.num_addresses)
        # Below /31 (IPv4) or /127 (IPv6): skip the network (and IPv4 broadcast) address, like hosts().
        last = 1 if network.version == 4 else 0
        return _Span(network.network_address + 1, network.num_addresses - 1 - last)
    if "-" in token:
        head, _, tail = token.partition("-")
        start = _address(head)
        if start is not None:
            end = _address(tail)
            if end is None and start.version == 4 and tail.isdigit() and int(tail) <= 255:
                end = ipaddress.IPv4Address(int(start) & 0xFFFFFF00 | int(tail))
            if end is None or end.version != start.version:
                raise TargetError(
                    token, "range end must be an address of the same family or, for IPv4, a last octet 0-255",
                    source,
                )
            if int(end) < int(start):
                raise TargetError(token, f"range end {end} is below its start {start}", source)
            return _Span(start, int(end) - int(start) + 1)
    address = _address(token)
    if address is not None:
        return _Span(address)
    if _is_hostname(token):
        return _Span(token.rstrip(".").lower())
    raise TargetError(token, "not an address, network, range or host name", source)


def read_target_file(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read the tokens of a target file; return ``(token, "file:line")`` pairs.

    Blank lines and everything after ``#`` are ignored. A file may not include another (``@``).
    Raises :class:`TargetError` if the file cannot be read or includes another file.
    """
    name = os.fspath(path)
    try:
        text = Path(name).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"@{name}", f"cannot read target file: {exc}") from exc
    tokens: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{name}:{number}"
        for token in _split(line.partition("#")[0]):
            if token.startswith("@"):
                raise TargetError(token, "a target file cannot include another file", where)
            tokens.append((token, where))
    return tokens


def _tokens(targets: str | Iterable[str]) -> Iterator[tuple[str, str | None]]:
    items = [targets] if isinstance(targets, str) else targets
    for item in items:
        for token in _split(item):
            if token.startswith("@"):
                if len(token) == 1:
                    raise TargetError(token, "'@' must be followed by a file name")
                yield from read_target_file(token[1:])
            else:
                yield token, None


def expand_targets(targets: str | Iterable[str], *, limit: int | None = DEFAULT_LIMIT) -> list[str]:
    """Expand target tokens into hosts (addresses as strings, host names lower-cased), duplicates removed.

    ``targets`` is one string of tokens or an iterable of such strings; see the module docstring for
    the syntax. ``limit`` caps the number of hosts before de-duplication (``None``: no cap).
    Raises :class:`TargetError` naming the first bad token, or the token that crosses ``limit``.
    """
    spans: list[_Span] = []
    total = 0
    for token, source in _tokens(targets):
        span = _parse_token(token, source)
        total += span.count
        if limit is not None and total > limit:
            raise TargetError(
                token,
                f"expanding it brings the target count to {total}, over the limit of {limit} hosts per run; "
                "split the targets into smaller networks or ranges",
                source,
            )
        spans.append(span)
    seen: dict[str, None] = {}
    for span in spans:
        for host in span:
            seen.setdefault(host, None)
    return list(seen)
