"""MD5 (HTTP digest, :mod:`amtkit.http.digest`) and SHA-256 (the activity log's chain) without hashlib.

Importing hashlib loads OpenSSL's libcrypto: about 3 ms of every CLI call, each of which hashes
(its digest login and its activity record), more than all of amtkit's HTTP code. CPython has its
own implementations of both as built-in modules (``_md5``; ``_sha256``, named ``_sha2`` from 3.12)
that give the same digests; the standard library's ``random`` takes its SHA-512 the same way. A
Python built without them falls back to hashlib.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["md5_hex", "sha256_hex"]


def _constructor(name: str, builtin_module: str) -> Callable[..., Any]:
    import importlib

    try:
        return getattr(importlib.import_module(builtin_module), name)  # type: ignore[no-any-return]
    except ImportError:
        pass
    import hashlib

    return getattr(hashlib, name)  # type: ignore[no-any-return]


_md5 = _constructor("md5", "_md5")
# Named for the version, not tried in turn: a module not found is searched for along the whole path.
_sha256 = _constructor("sha256", "_sha2" if sys.version_info >= (3, 12) else "_sha256")


def md5_hex(data: bytes) -> str:
    """The MD5 of ``data`` in lowercase hex (digest authentication's only algorithm on AMT)."""
    return str(_md5(data, usedforsecurity=False).hexdigest())


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` in lowercase hex."""
    return str(_sha256(data).hexdigest())
