"""HTTP digest, the server side (the simulator, the event listener): :func:`parse_authorization`.

Part of :mod:`amtkit.http.digest` (the one implementation of the digest arithmetic and grammar, whose
refusals apply here), kept apart so that a client, which only answers challenges, does not load it;
``amtkit.http.digest.parse_authorization`` and :class:`Authorization` still resolve here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .digest import DigestError, _check_algorithm, compute_response, parse_auth_params

__all__ = ["Authorization", "parse_authorization"]


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

    @property
    def nonce_count(self) -> int | None:
        """``nc`` as a number (validated as 8 hex digits when parsed), ``None`` without qop."""
        return int(self.nc, 16) if self.nc is not None else None

    def expected_response(self, ha1: str, method: str) -> str:
        return compute_response(ha1, self.nonce, self.nc or "", self.cnonce or "", self.qop, method, self.uri)


# What the server accepts in each field of an answer; anything else is malformed, never an exception.
_HEX_RESPONSE = re.compile(r"[0-9a-fA-F]{1,64}")
_NONCE_COUNT = re.compile(r"[0-9a-fA-F]{8}")


def parse_authorization(header: str) -> Authorization:
    """Parse an ``Authorization`` value from any of the client styles seen against AMT.

    Raises :class:`DigestError` for anything malformed (:class:`DigestAlgorithmError` for an
    algorithm other than MD5), whatever the bytes: the server answers that with a 401.
    """
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"not digest authorization: {scheme[:20]!r}")
    params = parse_auth_params(rest)
    try:
        username, realm, nonce, uri, response = (params[key] for key in ("username", "realm", "nonce", "uri",
                                                                          "response"))
    except KeyError as missing:
        raise DigestError(f"digest authorization without {missing.args[0]}") from missing
    _check_algorithm(params)
    if _HEX_RESPONSE.fullmatch(response) is None:
        raise DigestError("digest response is not hexadecimal")
    qop, nc, cnonce = params.get("qop"), params.get("nc"), params.get("cnonce")
    if qop is not None:
        if nc is None or _NONCE_COUNT.fullmatch(nc) is None:
            raise DigestError("digest answer with qop needs nc as 8 hex digits")
        if not cnonce:
            raise DigestError("digest answer with qop needs a cnonce")
    return Authorization(username=username, realm=realm, nonce=nonce, uri=uri, response=response.lower(),
                         qop=qop, nc=nc, cnonce=cnonce)
