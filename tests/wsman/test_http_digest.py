"""HTTP digest as AMT speaks it: RFC 2617 arithmetic, every challenge style, header round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.http.digest import (
    Challenge,
    Credentials,
    DigestError,
    Signer,
    authorization_header,
    compute_response,
    format_challenge,
    parse_auth_params,
    parse_authorization,
    parse_challenge,
)

# The test vector of the corpus file HTTP.POST.wsman.digest.request.http (answering the AMT 11.8 401).
VECTOR_REALM = "Digest:A4070000000000000000000000000000"
VECTOR_NONCE = "wlbEK1EtAAAAAAAAWW5aUHFp+mQQ1j63"
VECTOR_CNONCE = "a1b2c3d4e5f60718"
VECTOR_RESPONSE = "2160ebc1b8cb3d43662776bab0877113"
AMT_CHALLENGE = f'Digest realm="{VECTOR_REALM}", nonce="{VECTOR_NONCE}",stale="false",qop="auth"'


def test_rfc2617_vector_from_the_recorded_request() -> None:
    credentials = Credentials("admin", "P@ssw0rd")
    assert compute_response(credentials.ha1(VECTOR_REALM), VECTOR_NONCE, "00000001", VECTOR_CNONCE, "auth",
                            "POST", "/wsman") == VECTOR_RESPONSE


def test_authorization_header_for_the_vector_carries_the_expected_response() -> None:
    header = authorization_header(Credentials("admin", "P@ssw0rd"), parse_challenge(AMT_CHALLENGE),
                                  method="POST", uri="/wsman", nc=1, cnonce=VECTOR_CNONCE)
    assert f'response="{VECTOR_RESPONSE}"' in header
    assert "qop=auth" in header and "nc=00000001" in header and f'cnonce="{VECTOR_CNONCE}"' in header


def test_recorded_request_authorization_verifies_with_the_documented_password(wire, httpkit) -> None:
    raw = wire.read("HTTP.POST.wsman.digest.request.http")
    header = next(line.split(b": ", 1)[1].decode() for line in raw.split(b"\r\n")
                  if line.lower().startswith(b"authorization:"))
    authorization = parse_authorization(header)
    assert (authorization.username, authorization.cnonce, authorization.nc) == ("admin", VECTOR_CNONCE, "00000001")
    assert authorization.expected_response(Credentials("admin", "P@ssw0rd").ha1(authorization.realm),
                                           "POST") == VECTOR_RESPONSE == authorization.response


def test_one_signer_answers_request_after_request_under_the_recorded_challenge() -> None:
    signer = Signer(Credentials("admin", "P@ssw0rd"), parse_challenge(AMT_CHALLENGE))
    first = parse_authorization(signer.sign("POST", "/wsman", 1, VECTOR_CNONCE))
    assert first.response == VECTOR_RESPONSE and first.nc == "00000001"
    for nc in (2, 3, 0xFFFFFFFF):
        answer = parse_authorization(signer.sign("POST", "/wsman", nc))
        assert answer.nc == f"{nc:08x}" and answer.cnonce
        assert answer.expected_response(Credentials("admin", "P@ssw0rd").ha1(VECTOR_REALM), "POST") == answer.response
    assert parse_authorization(signer.sign("GET", "/index.htm", 4)).uri == "/index.htm"


def test_each_signed_request_gets_a_client_nonce_of_its_own() -> None:
    signer = Signer(Credentials("admin", "P@ssw0rd"), parse_challenge(AMT_CHALLENGE))
    assert len({parse_authorization(signer.sign("POST", "/wsman", nc)).cnonce for nc in range(1, 50)}) == 49


def test_rfc2069_form_without_qop_hashes_nonce_and_ha2_only() -> None:
    ha1 = Credentials("admin", "P@ssw0rd").ha1(VECTOR_REALM)
    assert compute_response(ha1, "n", "", "", None, "POST", "/wsman") != compute_response(
        ha1, "n", "00000001", "c", "auth", "POST", "/wsman")


def test_amt_challenge_bytes_are_reproduced_exactly() -> None:
    assert format_challenge(VECTOR_REALM, VECTOR_NONCE) == AMT_CHALLENGE
    assert format_challenge(VECTOR_REALM, VECTOR_NONCE, stale=True).endswith(',stale="true",qop="auth"')


def test_every_recorded_amt_401_challenge_parses(wire) -> None:
    for name in ("HTTP.401.Unauthorized.amt11.8.50.3425.http", "HTTP.401.Unauthorized.amt15.0.23.1706.http",
                 "HTTP.401.Unauthorized.amt15.0.23.1706.2.http",
                 "HTTP.401.Unauthorized.amt15.0.23.1706.3.headers.http"):
        challenge = parse_challenge(wire.http(name).header("WWW-Authenticate") or "")
        assert challenge.realm.startswith("Digest:") and len(challenge.realm) == 39
        assert len(challenge.nonce) == 32
        assert challenge.qop == ("auth",) and not challenge.stale


CHALLENGE_STYLES = {
    "AMT 11.8-15.0": (AMT_CHALLENGE, ("auth",), False),
    "AMT 14+ auth-int list": ('Digest realm="r", nonce="n", qop="auth-int, auth"', ("auth-int", "auth"), False),
    "unquoted values": ("Digest realm=r, nonce=n, qop=auth, stale=true", ("auth",), True),
    "no spaces": ('Digest realm="r",nonce="n",qop="auth",stale="FALSE"', ("auth",), False),
    "extra spaces": ('Digest  realm = "r" ,  nonce="n" , qop="auth"', ("auth",), False),
    "algorithm and opaque": ('Digest realm="r", nonce="n", algorithm=MD5, opaque="o", qop="auth"', ("auth",), False),
    "lower-case scheme": ('digest realm="r", nonce="n", qop="auth"', ("auth",), False),
    "RFC 2069 without qop": ('Digest realm="r", nonce="n"', (), False),
}


@pytest.mark.parametrize("style", sorted(CHALLENGE_STYLES))
def test_challenge_styles_parse(style: str) -> None:
    header, qop, stale = CHALLENGE_STYLES[style]
    challenge = parse_challenge(header)
    assert (challenge.qop, challenge.stale) == (qop, stale)
    assert challenge.nonce in ("n", VECTOR_NONCE)
    assert challenge.supports_auth_qop


def test_quoted_realm_may_contain_commas_and_escaped_quotes() -> None:
    challenge = parse_challenge(r'Digest realm="a, \"b\"", nonce="n"')
    assert challenge.realm == 'a, "b"'


def test_auth_int_only_challenge_is_parsed_but_cannot_be_answered() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth-int"')
    assert not challenge.supports_auth_qop
    with pytest.raises(DigestError):
        authorization_header(Credentials("u", "p"), challenge, method="POST", uri="/wsman", nc=1)


@pytest.mark.parametrize("header", [
    'Basic realm="router"',
    'Digest nonce="n"',
    'Digest realm="r"',
    'Digest realm="r", nonce="n", algorithm=SHA-256',
    'Digest realm="r", nonce="n", garbage',
    "",
])
def test_unusable_challenges_raise_digest_error(header: str) -> None:
    with pytest.raises(DigestError):
        parse_challenge(header)


def test_opaque_is_echoed_in_the_authorization() -> None:
    challenge = Challenge(realm="r", nonce="n", opaque="xyz")
    header = authorization_header(Credentials("u", "p"), challenge, method="POST", uri="/wsman", nc=3)
    assert parse_auth_params(header.partition(" ")[2])["opaque"] == "xyz"


def test_authorization_without_qop_for_rfc2069_challenges_when_allowed() -> None:
    header = authorization_header(Credentials("u", "p"), Challenge(realm="r", nonce="n", qop=()),
                                  method="POST", uri="/wsman", nc=1, allow_no_qop=True)
    parsed = parse_authorization(header)
    assert (parsed.qop, parsed.nc, parsed.cnonce) == (None, None, None)
    assert parsed.expected_response(Credentials("u", "p").ha1("r"), "POST") == parsed.response


def test_credentials_repr_hides_the_password() -> None:
    assert "s3cret" not in repr(Credentials("admin", "s3cret"))


# User names AMT accepts: printable ASCII without the characters it forbids (" : , < > &) and no backslash.
user_names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='":,<>&\\'),
                     min_size=1, max_size=32)
passwords = st.text(st.characters(blacklist_categories=("Cs",)), max_size=32)
realms = st.from_regex(r"Digest:[0-9A-F]{32}", fullmatch=True)
nonces = st.from_regex(r"[A-Za-z0-9+/]{32}", fullmatch=True)
uris = st.sampled_from(["/wsman", "/RedirectionService", "/index.htm?x=1"])


@settings(max_examples=100, deadline=None)
@given(user_names, passwords, realms, nonces, uris, st.integers(min_value=1, max_value=0xFFFFFFFF),
       st.booleans(), st.one_of(st.none(), nonces))
def test_authorization_header_round_trips_through_the_server_parser(
    username: str, password: str, realm: str, nonce: str, uri: str, nc: int, with_qop: bool, opaque: str | None
) -> None:
    credentials = Credentials(username, password)
    challenge = Challenge(realm=realm, nonce=nonce, qop=("auth",) if with_qop else (), opaque=opaque)
    parsed = parse_authorization(authorization_header(credentials, challenge, method="POST", uri=uri, nc=nc,
                                                      allow_no_qop=not with_qop))
    assert (parsed.username, parsed.realm, parsed.nonce, parsed.uri) == (username, realm, nonce, uri)
    if with_qop:
        assert (parsed.qop, parsed.nc) == ("auth", f"{nc:08x}")
    assert parsed.expected_response(credentials.ha1(realm), "POST") == parsed.response


@settings(max_examples=100, deadline=None)
@given(realms, nonces, st.booleans())
def test_amt_challenge_round_trips(realm: str, nonce: str, stale: bool) -> None:
    challenge = parse_challenge(format_challenge(realm, nonce, stale=stale))
    assert (challenge.realm, challenge.nonce, challenge.stale, challenge.qop) == (realm, nonce, stale, ("auth",))


@pytest.mark.parametrize("header", [
    'Digest username="admin",realm="r",nonce="n",uri="/wsman",qop=auth,response="AB",nc=00000001,cnonce="c"',
    'Digest username="admin", realm="r", nonce="n", uri="/wsman", response="ab", qop="auth", nc="00000001", '
    'cnonce="c"',
    'Digest username="admin",realm="r",nonce="n",uri="/wsman",algorithm=MD5,response="ab",qop="auth",'
    'nc=00000001,cnonce="c"',
])
def test_authorization_styles_of_real_clients_parse(header: str) -> None:
    parsed = parse_authorization(header)
    assert (parsed.username, parsed.qop, parsed.nc, parsed.cnonce, parsed.response) == (
        "admin", "auth", "00000001", "c", "ab")


@pytest.mark.parametrize("header", ['Basic YWRtaW46eA==', 'Digest realm="r", nonce="n", uri="/", response="x"'])
def test_unusable_authorization_raises_digest_error(header: str) -> None:
    with pytest.raises(DigestError):
        parse_authorization(header)
