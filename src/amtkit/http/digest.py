"""HTTP digest authentication as Intel AMT speaks it (RFC 2617, MD5), sans-IO.

Both sides use this module: the client to sign requests, the simulator to check them.
So there is exactly one implementation of the digest arithmetic and of the header
grammar in the project.

What AMT does on the wire (see docs/concepts.md):

* the challenge is ``Digest realm="Digest:<32 hex>", nonce="<32 b64>",stale="false",qop="auth"``
  (one space after the realm's comma, none before ``stale`` and ``qop``; no ``algorithm``);
* AMT 14+ offers ``qop="auth-int, auth"``: we always pick ``auth`` (the body is not hashed);
* a client may keep using one nonce with an incrementing ``nc`` so that a steady stream of
  calls costs one HTTP round trip each; AMT answers ``stale=true`` when the nonce expired.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

__all__ = [
    "Challenge",
    "Credentials",
    "DigestError",
    "authorization_header",
    "compute_response",
    "format_challenge",
    "parse_auth_params",
    "parse_authorization",
    "parse_challenge",
]


class DigestError(ValueError):
    """A digest header that cannot be understood."""


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
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


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
    algorithm = params.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise DigestError(f"unsupported digest algorithm {algorithm!r}")
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        qop=qop,
        stale=params.get("stale", "false").lower() == "true",
        opaque=params.get("opaque"),
        algorithm="MD5",
    )


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
) -> str:
    """Build the ``Authorization`` value for request number ``nc`` under ``challenge``."""
    cnonce = cnonce or new_cnonce()
    qop = "auth" if challenge.qop else None
    if challenge.qop and not challenge.supports_auth_qop:
        raise DigestError(f"server offers only qop {','.join(challenge.qop)}; amtkit supports auth")
    nc_text = f"{nc:08x}"
    response = compute_response(credentials.ha1(challenge.realm), challenge.nonce, nc_text, cnonce, qop, method, uri)
    parts = [
        f'Digest username="{credentials.username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return ",".join(parts)


@dataclass(frozen=True)
class Authorization:
    """A parsed ``Authorization: Digest ...`` header (server side)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    qop: str | None
    nc: str | None
    cnonce: str | None

    def expected_response(self, ha1: str, method: str) -> str:
        return compute_response(ha1, self.nonce, self.nc or "", self.cnonce or "", self.qop, method, self.uri)


def parse_authorization(header: str) -> Authorization:
    """Parse an ``Authorization`` value from any of the client styles seen against AMT."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not digest authorization: {scheme!r}")
    params = parse_auth_params(rest)
    try:
        return Authorization(
            username=params["username"],
            realm=params["realm"],
            nonce=params["nonce"],
            uri=params["uri"],
            response=params["response"].lower(),
            qop=params.get("qop"),
            nc=params.get("nc"),
            cnonce=params.get("cnonce"),
        )
    except KeyError as missing:
        raise DigestError(f"digest authorization without {missing.args[0]}") from None
