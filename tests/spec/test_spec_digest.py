"""HTTP digest as RFC 2617 specifies it, checked against the RFC's own worked example.

RFC 2617 section 3.5: user ``Mufasa``, password ``Circle Of Life``, realm ``testrealm@host.com``,
nonce ``dcd98b7102dd2f0e8b11d0f600bfb0c093``, ``GET /dir/index.html``, ``qop=auth``, ``nc=00000001``,
``cnonce=0a4f113b``: the request-digest is ``6629fae49393a05397450978507c4ef1``. The numbers are the
RFC's, not computed here.
"""

from __future__ import annotations

import pytest

from amtkit.http.digest import (
    Challenge,
    Credentials,
    DigestDowngradeError,
    authorization_header,
    compute_response,
    parse_authorization,
)

MUFASA = Credentials("Mufasa", "Circle Of Life")
REALM = "testrealm@host.com"
NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
RFC_RESPONSE = "6629fae49393a05397450978507c4ef1"


def test_the_request_digest_of_rfc_2617s_example() -> None:
    ha1 = MUFASA.ha1(REALM)
    assert compute_response(ha1, NONCE, "00000001", "0a4f113b", "auth", "GET", "/dir/index.html") == RFC_RESPONSE


def test_the_authorization_header_carries_the_rfcs_fields() -> None:
    header = authorization_header(MUFASA, Challenge(realm=REALM, nonce=NONCE, qop=("auth",)), method="GET",
                                  uri="/dir/index.html", nc=1, cnonce="0a4f113b")
    parsed = parse_authorization(header)
    assert (parsed.username, parsed.realm, parsed.nonce, parsed.uri, parsed.qop, parsed.nc, parsed.cnonce,
            parsed.response) == ("Mufasa", REALM, NONCE, "/dir/index.html", "auth", "00000001", "0a4f113b",
                                 RFC_RESPONSE)


def test_the_nonce_count_is_eight_hex_digits() -> None:
    header = authorization_header(MUFASA, Challenge(realm=REALM, nonce=NONCE), method="POST", uri="/wsman",
                                  nc=26, cnonce="0a4f113b")
    assert parse_authorization(header).nc == "0000001a"


def test_a_challenge_without_qop_is_not_answered_unless_asked_to() -> None:
    downgraded = Challenge(realm=REALM, nonce=NONCE, qop=())
    with pytest.raises(DigestDowngradeError):
        authorization_header(MUFASA, downgraded, method="GET", uri="/dir/index.html", nc=1, cnonce="0a4f113b")
    # RFC 2069 form, on request: MD5(HA1:nonce:HA2), nothing else signed. The value is the one the
    # Wikipedia article "Digest access authentication" publishes for this request without qop.
    header = authorization_header(MUFASA, downgraded, method="GET", uri="/dir/index.html", nc=1,
                                  cnonce="0a4f113b", allow_no_qop=True)
    parsed = parse_authorization(header)
    assert parsed.qop is None and parsed.nc is None and parsed.response == "670fd8c2df070c60b045671b8b24ff02"
