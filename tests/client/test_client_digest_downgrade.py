"""The client refuses a digest challenge that was downgraded on the way: no ``qop`` (a man in the
middle stripped it from AMT's ``qop="auth"``) or another algorithm than MD5. A caller that really
talks to a qop-less server opts in with ``allow_digest_without_qop=True``.

The 401s are AMT's recorded challenge (HTTP.401.Unauthorized.amt15.0.23.1706.http, RPS capture)
with the part an attacker would change edited, replayed by pytest-httpserver.
"""

from __future__ import annotations

import hashlib

import pytest
from werkzeug import Response

from amtkit import exceptions as exc
from amtkit.client import Client

REALM = "Digest:727734D63A1FC0423736E48DA554E462"
NONCE = "B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA"
SERVER = "Intel(R) Active Management Technology 15.0.23.1706"
STRIPPED = f'Digest realm="{REALM}", nonce="{NONCE}",stale="false"'
GENERAL_SETTINGS = "AMT_GeneralSettings"
REPLY = (b'<a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope"><a:Header/><a:Body>'
         b'<g:AMT_GeneralSettings xmlns:g="http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings">'
         b"<g:HostName>h</g:HostName></g:AMT_GeneralSettings></a:Body></a:Envelope>")


def challenge_reply(challenge: str) -> Response:
    return Response(b"", status=401, headers={"WWW-Authenticate": challenge, "Server": SERVER})


def client_for(httpserver, **kwargs: object) -> Client:  # type: ignore[no-untyped-def]
    return Client(httpserver.host, port=httpserver.port, password="P@ssw0rd", retries=0, timeout=5.0,
                  **kwargs)  # type: ignore[arg-type]


def test_a_challenge_stripped_of_qop_is_refused_without_signing_anything(httpserver) -> None:
    httpserver.expect_ordered_request("/wsman", method="POST").respond_with_response(challenge_reply(STRIPPED))
    with client_for(httpserver) as client, pytest.raises(exc.AuthenticationError) as caught:
        client.get(GENERAL_SETTINGS)
    assert "without qop" in caught.value.message
    assert "use TLS (--tls)" in caught.value.hint and "docs/errors.md" in caught.value.hint  # no Python call in a CLI hint
    assert caught.value.to_dict()["category"] == "auth-failed"
    assert [request.headers.get("Authorization") for request, _ in httpserver.log] == [None]


def test_the_opt_in_answers_a_challenge_without_qop_in_the_rfc2069_form(httpserver) -> None:
    httpserver.expect_ordered_request("/wsman", method="POST").respond_with_response(challenge_reply(STRIPPED))
    httpserver.expect_ordered_request("/wsman", method="POST").respond_with_response(
        Response(REPLY, status=200, headers={"Server": SERVER, "Content-Type": "application/soap+xml"}))
    with client_for(httpserver, allow_digest_without_qop=True) as client:
        client.get(GENERAL_SETTINGS)
    signed = httpserver.log[1][0].headers["Authorization"]
    ha1 = hashlib.md5(f"admin:{REALM}:P@ssw0rd".encode(), usedforsecurity=False).hexdigest()
    ha2 = hashlib.md5(b"POST:/wsman", usedforsecurity=False).hexdigest()
    expected = hashlib.md5(f"{ha1}:{NONCE}:{ha2}".encode(), usedforsecurity=False).hexdigest()
    assert f'response="{expected}"' in signed and "qop" not in signed and "nc=" not in signed


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5-sess", "SHA-512-256"])
def test_a_challenge_for_another_algorithm_is_a_clear_authentication_error(httpserver, algorithm: str) -> None:
    challenge = f'Digest realm="{REALM}", nonce="{NONCE}",stale="false",qop="auth",algorithm={algorithm}'
    httpserver.expect_ordered_request("/wsman", method="POST").respond_with_response(challenge_reply(challenge))
    with client_for(httpserver) as client, pytest.raises(exc.AuthenticationError, match=algorithm):
        client.get(GENERAL_SETTINGS)
    assert len(httpserver.log) == 1


def test_the_real_simulator_still_authenticates_by_default(amt_device, connect) -> None:
    assert connect(amt_device).get(GENERAL_SETTINGS) is not None
