"""Digest accounts of a device: users, nonces, nonce-count replay, anti-hammering.

The arithmetic is :mod:`amtkit.http.digest` (the same code the client signs with); this module
holds the server-side state AMT keeps:

* nonces live for ``nonce_lifetime`` seconds; a correct answer on an expired nonce gets
  ``stale=true`` so the client re-signs without asking the user again;
* each nonce remembers the ``nc`` values it has seen: a replayed ``nc`` is refused, while an
  out-of-order one (two connections of one client) is accepted;
* an old nonce that is still alive is accepted, so a client retrying with it works;
* anti-hammering: after ``lockout_threshold`` consecutive failures of a user, the account is
  locked for ``lockout_seconds``, during which even the right password is refused.
"""

from __future__ import annotations

import base64
import enum
import hmac
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from amtkit.http.digest import Credentials, DigestError, parse_authorization

MAX_NONCES = 256
MAX_NC_REMEMBERED = 4096


class Verdict(enum.Enum):
    OK = "ok"
    CHALLENGE = "challenge"
    """No or unusable credentials: send a fresh challenge."""
    STALE = "stale"
    """Right credentials on an expired nonce: challenge with ``stale=true``."""
    DENIED = "denied"
    """Wrong credentials, a replayed nc, or a locked account."""


@dataclass
class _Nonce:
    issued: float
    seen_nc: set[str] = field(default_factory=set)


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class Accounts:
    def __init__(
        self,
        realm: str,
        users: dict[str, str],
        *,
        nonce_lifetime: float = 300.0,
        lockout_threshold: int = 5,
        lockout_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.realm = realm
        self._ha1 = {user: Credentials(user, password).ha1(realm) for user, password in users.items()}
        self.nonce_lifetime = nonce_lifetime
        self.lockout_threshold = lockout_threshold
        self.lockout_seconds = lockout_seconds
        self.clock = clock
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()
        self._failures: dict[str, _Failures] = {}

    def set_password(self, user: str, password: str) -> None:
        self._ha1[user] = Credentials(user, password).ha1(self.realm)

    @property
    def users(self) -> list[str]:
        return sorted(self._ha1)

    def new_nonce(self) -> str:
        """32 characters of the base64 alphabet, like AMT's."""
        nonce = base64.b64encode(os.urandom(24)).decode()
        self._nonces[nonce] = _Nonce(self.clock())
        while len(self._nonces) > MAX_NONCES:
            self._nonces.popitem(last=False)
        return nonce

    def is_locked(self, user: str) -> bool:
        record = self._failures.get(user)
        return record is not None and record.locked_until > self.clock()

    def _fail(self, user: str) -> Verdict:
        record = self._failures.setdefault(user, _Failures())
        now = self.clock()
        if record.locked_until and record.locked_until <= now:
            record.count, record.locked_until = 0, 0.0
        record.count += 1
        if record.count >= self.lockout_threshold:
            record.locked_until = now + self.lockout_seconds
        return Verdict.DENIED

    def verify_answer(self, username: str, realm: str, nonce: str, response: str,
                      expected: Callable[[str], str]) -> Verdict:
        """Check a digest answer that came outside HTTP (the redirection port, 16994).

        ``expected(ha1)`` computes the right response for the user's HA1. The realm must be the
        device's and the nonce one it issued (and still alive); a nonce answers once, then is gone.
        Failures count towards the same anti-hammering lockout as WS-Man logins.
        """
        ha1 = self._ha1.get(username)
        if ha1 is None or realm != self.realm or self.is_locked(username):
            return Verdict.DENIED
        if not hmac.compare_digest(expected(ha1), response.lower()):
            return self._fail(username)
        issued = self._nonces.pop(nonce, None)
        if issued is None:
            return Verdict.DENIED
        if self.clock() - issued.issued > self.nonce_lifetime:
            return Verdict.STALE
        self._failures.pop(username, None)
        return Verdict.OK

    def verify(self, header: str | None, method: str) -> tuple[Verdict, str | None]:
        """Check an ``Authorization`` header; returns the verdict and the user when known."""
        if not header:
            return Verdict.CHALLENGE, None
        try:
            auth = parse_authorization(header)
        except DigestError:
            return Verdict.CHALLENGE, None
        ha1 = self._ha1.get(auth.username)
        if auth.realm != self.realm:
            return Verdict.CHALLENGE, auth.username
        if ha1 is None:
            return Verdict.DENIED, auth.username
        if self.is_locked(auth.username):
            return Verdict.DENIED, auth.username
        if not hmac.compare_digest(auth.expected_response(ha1, method), auth.response):
            return self._fail(auth.username), auth.username
        nonce = self._nonces.get(auth.nonce)
        if nonce is None:
            return Verdict.CHALLENGE, auth.username  # a nonce we never issued (or forgot): start over
        if self.clock() - nonce.issued > self.nonce_lifetime:
            return Verdict.STALE, auth.username
        nc_key = auth.nc or ""
        if auth.qop is not None:
            if nc_key in nonce.seen_nc:
                return Verdict.DENIED, auth.username  # replay of a request already answered
            if len(nonce.seen_nc) >= MAX_NC_REMEMBERED:
                return Verdict.STALE, auth.username
            nonce.seen_nc.add(nc_key)
        self._failures.pop(auth.username, None)
        return Verdict.OK, auth.username
