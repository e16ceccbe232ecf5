"""amtkit.hashes (MD5 and SHA-256 from CPython's built-in modules) against the standards' own test vectors."""

from __future__ import annotations

from amtkit.hashes import md5_hex, sha256_hex


def test_md5_of_abc_is_rfc_1321s() -> None:
    assert md5_hex(b"abc") == "900150983cd24fb0d6963f7d28e17f72"  # RFC 1321 appendix A.5


def test_md5_of_nothing_is_rfc_1321s() -> None:
    assert md5_hex(b"") == "d41d8cd98f00b204e9800998ecf8427e"  # RFC 1321 appendix A.5


def test_sha256_of_abc_is_fips_180s() -> None:
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 B.1


def test_sha256_of_two_blocks_is_fips_180s() -> None:
    message = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    assert sha256_hex(message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"  # FIPS 180-2 B.2
