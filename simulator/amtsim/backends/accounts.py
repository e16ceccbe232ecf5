"""Digest accounts of a device: users, nonces, nonce-count replay, anti-hammering.

The arithmetic is :mod:`amtkit.http.digest` (the same code the client signs with); this module
holds the server-side state AMT keeps:

* nonces are self-validating: each carries its serial number and issue time under an HMAC
  with a secret of the device, so any number of clients can hold live nonces at once and
  nothing is stored per challenge (an unauthenticated flood of 401s costs no memory);
* nonces live for ``nonce_lifetime`` seconds; a correct answer on an expired nonce gets
  ``stale=true`` so the client re-signs without asking the user again;
* each nonce that has been answered remembers the ``nc`` values it has seen in a sliding window
  (:class:`_NonceCounts`): a replayed ``nc`` is refused, an out-of-order one within the window
  (two connections of one client) is accepted. At most ``MAX_NONCE_RECORDS`` nonces are
  remembered; the oldest-issued record goes first, and any nonce issued at or before a forgotten
  one is answered ``stale=true`` (never accepted again, so forgetting cannot open a replay);
* the answer must carry ``qop=auth`` (the device offers it, so an answer without it is a
  downgrade) and sign the request target it came with;
* user look-ups cost the same whether the user exists or not (an unknown user is checked
  against a decoy key), so timing does not tell which accounts exist;
* anti-hammering: after ``lockout_threshold`` consecutive failures of a user, the account is
  locked for ``lockout_seconds``, during which even the right password is refused.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import heapq
import hmac
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from amtkit.http.digest import Authorization, Credentials, DigestError, parse_authorization, responses_match

MAX_NONCE_RECORDS = 16384
"""Answered nonces whose nc window is remembered (a few hundred bytes each)."""
NC_WINDOW = 64
"""How far below the highest ``nc`` seen an out-of-order ``nc`` is still accepted (once)."""

_NONCE_LAYOUT = struct.Struct(">II")  # serial, issue time in centiseconds since the device's epoch
_NONCE_MAC_BYTES = 16  # 8 + 16 bytes = 24 bytes = 32 base64 characters, the length of AMT's nonces


class Verdict(enum.Enum):
    OK = "ok"
    CHALLENGE = "challenge"
    """No or unusable credentials: send a fresh challenge."""
    STALE = "stale"
    """Right credentials on an expired nonce: challenge with ``stale=true``."""
    DENIED = "denied"
    """Wrong credentials, a replayed nc, or a locked account."""


@dataclass
class _NonceCounts:
    """The ``nc`` values seen on one nonce: the highest, and a bitmap of the window below it."""

    highest: int = 0
    window: int = 0
    """Bit ``i`` set: ``highest - i`` has been seen."""
    answered_once: bool = False
    """Redirection answers use a nonce once; a second answer is refused."""

    def accept(self, nc: int) -> Verdict:
        if nc > self.highest:
            shift = nc - self.highest
            self.window = ((self.window << shift) | 1) & ((1 << NC_WINDOW) - 1) if shift < NC_WINDOW else 1
            self.highest = nc
            return Verdict.OK
        offset = self.highest - nc
        if offset >= NC_WINDOW:
            return Verdict.STALE  # too far out of order to tell: the client re-signs on a new nonce
        if self.window & (1 << offset):
            return Verdict.DENIED  # replay of a request already answered
        self.window |= 1 << offset
        return Verdict.OK


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
        self._secret = os.urandom(32)
        self._decoy_ha1 = Credentials(os.urandom(8).hex(), os.urandom(8).hex()).ha1(realm)
        self._epoch = clock()
        self._serial = 0
        self._counts: dict[int, _NonceCounts] = {}
        self._record_order: list[int] = []  # heap of the serials in _counts: the oldest is forgotten first
        self._forgotten_upto = 0
        """Every nonce with a serial up to this one may have been answered and forgotten: stale."""
        self._failures: dict[str, _Failures] = {}
        self.on_failure: Callable[[str, bool], None] | None = None
        """Called with the user and whether the account is now locked, for every failed login of an
        existing account (the event and audit logs record them)."""

    def set_password(self, user: str, password: str) -> None:
        self._ha1[user] = Credentials(user, password).ha1(self.realm)

    def set_ha1(self, user: str, ha1: str) -> None:
        """Set a user's digest key as AMT's account methods carry it: ``MD5(user:realm:password)`` in hex."""
        self._ha1[user] = ha1.lower()

    def remove_user(self, user: str) -> None:
        self._ha1.pop(user, None)

    def credential_token(self, user: str) -> str:
        """Changes whenever ``user``'s account changes (password set, account gone): what a cached
        digest session on a TLS connection is checked against."""
        return self._ha1.get(user, "")

    @property
    def users(self) -> list[str]:
        return sorted(self._ha1)

    # -- nonces ----------------------------------------------------------------------------------
    def new_nonce(self) -> str:
        """32 characters of the base64 alphabet, like AMT's; nothing is stored."""
        self._serial = (self._serial + 1) & 0xFFFFFFFF
        issued = max(0, int((self.clock() - self._epoch) * 100)) & 0xFFFFFFFF
        body = _NONCE_LAYOUT.pack(self._serial, issued)
        return base64.b64encode(body + self._mac(body)).decode()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:_NONCE_MAC_BYTES]

    def _open_nonce(self, nonce: str) -> tuple[int, float] | None:
        """``(serial, age in seconds)`` of a nonce this device issued, ``None`` for any other text."""
        try:
            raw = base64.b64decode(nonce.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error, ValueError):
            return None
        if len(raw) != _NONCE_LAYOUT.size + _NONCE_MAC_BYTES:
            return None
        body, mac = raw[:_NONCE_LAYOUT.size], raw[_NONCE_LAYOUT.size:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        serial, issued = _NONCE_LAYOUT.unpack(body)
        return serial, self.clock() - self._epoch - issued / 100

    def _counts_of(self, serial: int) -> _NonceCounts | None:
        """The nc record of an answered nonce, a new one for a first answer, ``None`` if forgotten."""
        counts = self._counts.get(serial)
        if counts is not None:
            return counts
        if serial <= self._forgotten_upto:
            return None
        while len(self._counts) >= MAX_NONCE_RECORDS:
            oldest = heapq.heappop(self._record_order)
            del self._counts[oldest]
            self._forgotten_upto = max(self._forgotten_upto, oldest)
        counts = self._counts[serial] = _NonceCounts()
        heapq.heappush(self._record_order, serial)
        return counts

    @property
    def nonce_records(self) -> int:
        """How many answered nonces are remembered (bounded by :data:`MAX_NONCE_RECORDS`)."""
        return len(self._counts)

    # -- users -----------------------------------------------------------------------------------
    def is_locked(self, user: str) -> bool:
        record = self._failures.get(user)
        return record is not None and record.locked_until > self.clock()

    def _fail(self, user: str) -> Verdict:
        if user not in self._ha1:
            return Verdict.DENIED  # no record for names that are no account: they cannot fill memory
        record = self._failures.setdefault(user, _Failures())
        now = self.clock()
        if record.locked_until and record.locked_until <= now:
            record.count, record.locked_until = 0, 0.0
        record.count += 1
        if record.count >= self.lockout_threshold:
            record.locked_until = now + self.lockout_seconds
        if self.on_failure is not None:
            self.on_failure(user, record.count >= self.lockout_threshold)
        return Verdict.DENIED

    def _proves_password(self, username: str, response: str, expected: Callable[[str], str]) -> bool:
        """Whether ``response`` proves the user's password; the same work whether the user exists or not."""
        ha1 = self._ha1.get(username)
        matches = responses_match(expected(self._decoy_ha1 if ha1 is None else ha1), response)
        return matches and ha1 is not None

    # -- verification ----------------------------------------------------------------------------
    def verify_password(self, username: str, password: str) -> Verdict:
        """Check a user name and password sent in clear (redirection basic authentication, which
        firmware before AMT 12 accepts). Failures count towards the same lockout as digest."""
        ha1 = Credentials(username, password).ha1(self.realm)
        proven = self._proves_password(username, ha1, lambda stored: stored)
        if self.is_locked(username):
            return Verdict.DENIED
        if not proven:
            return self._fail(username)
        self._failures.pop(username, None)
        return Verdict.OK

    def verify_answer(self, username: str, realm: str, nonce: str, response: str,
                      expected: Callable[[str], str]) -> Verdict:
        """Check a digest answer that came outside HTTP (the redirection port, 16994).

        ``expected(ha1)`` computes the right response for the user's HA1. The realm must be the
        device's and the nonce one it issued (and still alive); a nonce answers once.
        Failures count towards the same anti-hammering lockout as WS-Man logins.
        """
        proven = self._proves_password(username, response, expected)
        if realm != self.realm or self.is_locked(username):
            return Verdict.DENIED
        if not proven:
            return self._fail(username)
        opened = self._open_nonce(nonce)
        if opened is None:
            return Verdict.DENIED
        serial, age = opened
        if age > self.nonce_lifetime:
            return Verdict.STALE
        counts = self._counts_of(serial)
        if counts is None or counts.answered_once:
            return Verdict.DENIED
        counts.answered_once = True
        self._failures.pop(username, None)
        return Verdict.OK

    def verify(self, header: str | None, method: str, target: str) -> tuple[Verdict, str | None]:
        """Check an ``Authorization`` header of a request for ``target``; the verdict and the user when known."""
        if not header:
            return Verdict.CHALLENGE, None
        try:
            auth = parse_authorization(header)
        except DigestError:
            return Verdict.CHALLENGE, None
        if auth.realm != self.realm or auth.uri != target or auth.qop != "auth":
            # Another realm, a signature for another request target, or a downgraded answer without
            # qop (which signs no client nonce and no count, so it could be replayed with any body).
            return Verdict.CHALLENGE, auth.username
        return self._check(auth, method), auth.username

    def _check(self, auth: Authorization, method: str) -> Verdict:
        proven = self._proves_password(auth.username, auth.response,
                                       lambda ha1: auth.expected_response(ha1, method))
        if self.is_locked(auth.username):
            return Verdict.DENIED
        if not proven:
            return self._fail(auth.username)
        opened = self._open_nonce(auth.nonce)
        if opened is None:
            return Verdict.CHALLENGE  # a nonce we never issued: start over
        serial, age = opened
        if age > self.nonce_lifetime:
            return Verdict.STALE
        counts = self._counts_of(serial)
        nc = auth.nonce_count
        if counts is None or nc is None:
            return Verdict.STALE  # its nc record was forgotten: a fresh nonce, never a replay
        verdict = counts.accept(nc)
        if verdict is Verdict.OK:
            self._failures.pop(auth.username, None)
        return verdict
