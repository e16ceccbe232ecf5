"""HTTP digest authentication as Intel AMT speaks it (RFC 2617, MD5), sans-IO.

Both sides use this module: the client to sign requests, the simulator to check them
(its ``Authorization`` parser in :mod:`amtkit.http.digest_server`, resolved from here too).
So there is exactly one implementation of the digest arithmetic and of the header
grammar in the project.

What AMT does on the wire (see docs/concepts.md):

* the challenge is ``Digest realm="Digest:<32 hex>", nonce="<32 b64>",stale="false",qop="auth"``
  (one space after the realm's comma, none before ``stale`` and ``qop``; no ``algorithm``);
* AMT 14+ offers ``qop="auth-int, auth"``: we always pick ``auth`` (the body is not hashed);
* a client may keep using one nonce with an incrementing ``nc`` so that a steady stream of
  calls costs one HTTP round trip each; AMT answers ``stale=true`` when the nonce expired.

What this module refuses, on both sides:

* answering a challenge without ``qop`` (the RFC 2069 form, which signs neither a client nonce
  nor a count, so a captured header can be replayed with another body) unless the caller opts
  in: every AMT since 2.x offers ``qop="auth"``, so a challenge without it is a downgrade by
  whoever sits in between (:class:`DigestDowngradeError`);
* any ``algorithm`` but MD5, which is all AMT speaks (:class:`DigestAlgorithmError`);
* an ``Authorization`` whose fields are malformed (a non-hex ``response``, an ``nc`` that is
  not 8 hex digits, ``qop`` without ``cnonce``): :class:`DigestError`, never another exception.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..hashes import md5_hex

if TYPE_CHECKING:
    from .digest_server import Authorization, parse_authorization

__all__ = [
    "Authorization",
    "Challenge",
    "Credentials",
    "DigestAlgorithmError",
    "DigestDowngradeError",
    "DigestError",
    "authorization_header",
    "compute_response",
    "format_challenge",
    "parse_auth_params",
    "parse_authorization",
    "parse_challenge",
    "responses_match",
    "Signer",
]


class DigestError(ValueError):
    """A digest header that cannot be understood."""


class DigestAlgorithmError(DigestError):
    """A challenge or answer naming a digest algorithm other than MD5 (the only one AMT uses)."""

    def __init__(self, algorithm: str) -> None:
        super().__init__(f"digest algorithm {algorithm!r} is not supported (Intel AMT uses MD5)")
        self.algorithm = algorithm


class DigestDowngradeError(DigestError):
    """A challenge without ``qop``: answering it would sign a header anyone can replay."""


MD5 = "MD5"
"""The digest algorithm AMT uses, and the only one accepted here (an absent ``algorithm`` means MD5)."""


# auth-param = token "=" ( token | quoted-string ); commas with optional white space between.
_PARAM = re.compile(r'\s*([A-Za-z0-9_\-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*(?:,|$)')


def parse_auth_params(text: str) -> dict[str, str]:
    """Parse ``a="b", c=d,e="f"`` into a dict with lower-case keys; quoted or not, spaces or not."""
    params: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            raise DigestError(f"cannot parse digest parameters near {text[pos:pos + 30]!r}")
        key = match.group(1).lower()
        value = match.group(3) if match.group(3) is not None else match.group(2)
        params[key] = value.replace('\\"', '"') if match.group(3) is not None else value
        pos = match.end()
    return params


def _md5(text: str) -> str:
    return md5_hex(text.encode("utf-8"))


@dataclass(frozen=True)
class Credentials:
    """A digest user and password. ``repr`` never shows the password."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"

    def ha1(self, realm: str) -> str:
        return _md5(f"{self.username}:{realm}:{self.password}")


@dataclass(frozen=True)
class Challenge:
    """A ``WWW-Authenticate: Digest ...`` challenge."""

    realm: str
    nonce: str
    qop: tuple[str, ...] = ("auth",)
    stale: bool = False
    opaque: str | None = None
    algorithm: str = "MD5"

    @property
    def supports_auth_qop(self) -> bool:
        return not self.qop or "auth" in self.qop


def parse_challenge(header: str) -> Challenge:
    """Parse a ``WWW-Authenticate`` value. Raises :class:`DigestError` if it is not digest."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not a digest challenge: {scheme!r}")
    params = parse_auth_params(rest)
    if "realm" not in params or "nonce" not in params:
        raise DigestError("digest challenge without realm or nonce")
    qop = tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip())
    _check_algorithm(params)
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        qop=qop,
        stale=params.get("stale", "false").lower() == "true",
        opaque=params.get("opaque"),
        algorithm="MD5",
    )


def _check_algorithm(params: dict[str, str]) -> None:
    algorithm = params.get("algorithm", MD5)
    if algorithm.upper() != MD5:
        raise DigestAlgorithmError(algorithm)


def format_challenge(realm: str, nonce: str, *, stale: bool = False) -> str:
    """The challenge byte for byte as AMT 11.8-15.0 sends it."""
    return f'Digest realm="{realm}", nonce="{nonce}",stale="{"true" if stale else "false"}",qop="auth"'


def compute_response(
    ha1: str, nonce: str, nc: str, cnonce: str, qop: str | None, method: str, uri: str
) -> str:
    """RFC 2617 request-digest; ``qop=None`` is the RFC 2069 form old clients use."""
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def responses_match(expected: str, given: str) -> bool:
    """Constant-time comparison of a digest response with the expected one, for any text ``given``.

    Compares bytes: ``hmac.compare_digest`` raises ``TypeError`` on non-ASCII ``str``.
    """
    import hmac  # the server side only: hmac imports hashlib, which a client need not load (amtkit.hashes)

    return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("utf-8", "replace"))


def new_cnonce() -> str:
    return os.urandom(8).hex()


def authorization_header(
    credentials: Credentials,
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    nc: int,
    cnonce: str | None = None,
    allow_no_qop: bool = False,
) -> str:
    """Build the ``Authorization`` value for request number ``nc`` under ``challenge``.

    A challenge without ``qop`` raises :class:`DigestDowngradeError` unless ``allow_no_qop``:
    the RFC 2069 answer it calls for carries no client nonce and no count, so it can be replayed
    (with any body) for as long as the server keeps the nonce.
    """
    return Signer(credentials, challenge, allow_no_qop=allow_no_qop).sign(method, uri, nc, cnonce)


class Signer:
    """Signs requests under one challenge, as a client does for every request after the first 401.

    What stays the same from one request to the next (HA1, the hash of each method and URI, the
    header's fixed parameters) is computed once; a request then costs one MD5 and its client nonce.
    Refuses a challenge without ``qop`` unless ``allow_no_qop`` (see :func:`authorization_header`).
    """

    def __init__(self, credentials: Credentials, challenge: Challenge, *, allow_no_qop: bool = False) -> None:
        if not challenge.qop and not allow_no_qop:
            raise DigestDowngradeError("the challenge offers no qop: answering it would sign a replayable header")
        if challenge.qop and not challenge.supports_auth_qop:
            raise DigestError(f"server offers only qop {','.join(challenge.qop)}; amtkit supports auth")
        self.credentials = credentials
        self.challenge = challenge
        self._with_qop = bool(challenge.qop)  # the header always says qop=auth: the only one AMT offers
        self._ha1 = credentials.ha1(challenge.realm)
        self._head = f'Digest username="{credentials.username}",realm="{challenge.realm}",nonce="{challenge.nonce}",'
        self._tail = f',opaque="{challenge.opaque}"' if challenge.opaque is not None else ""
        self._per_uri: dict[tuple[str, str], tuple[str, str]] = {}

    def sign(self, method: str, uri: str, nc: int, cnonce: str | None = None) -> str:
        """The ``Authorization`` value for request number ``nc`` (a fresh client nonce unless given)."""
        fixed = self._per_uri.get((method, uri))
        if fixed is None:
            fixed = self._per_uri[(method, uri)] = (_md5(f"{method}:{uri}"), f'uri="{uri}",response="')
            if len(self._per_uri) > 64:  # a caller cycling through paths: keep the table small
                self._per_uri.clear()
        ha2, uri_part = fixed
        head = self._head
        if not self._with_qop:
            response = _md5(f"{self._ha1}:{self.challenge.nonce}:{ha2}")
            return f'{head}{uri_part}{response}"{self._tail}'
        cnonce = cnonce or new_cnonce()
        nc_text = f"{nc:08x}"
        response = _md5(f"{self._ha1}:{self.challenge.nonce}:{nc_text}:{cnonce}:auth:{ha2}")
        return f'{head}{uri_part}{response}",qop=auth,nc={nc_text},cnonce="{cnonce}"{self._tail}'


_SERVER_SIDE = frozenset({"Authorization", "parse_authorization"})


def __getattr__(name: str) -> Any:
    """Reading an ``Authorization`` header (the server side) lives in :mod:`amtkit.http.digest_server`,
    loaded when first asked for here: a client only answers challenges, and that dataclass and its
    patterns cost about 0.6 ms of each CLI call."""
    if name in _SERVER_SIDE:
        from . import digest_server

        return getattr(digest_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
