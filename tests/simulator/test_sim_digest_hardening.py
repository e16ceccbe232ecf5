"""Digest on the simulator's side, against hostile clients: the downgrade and replay a man in the
middle can try, answers for another request target or algorithm, malformed answers (a 401, never a
dropped connection), many concurrent clients, and a failure path that costs the same for every user.

Expectations are written from RFC 2617/7616 and AMT's recorded behaviour, not from amtkit's code.
"""

from __future__ import annotations

import hashlib
import random
import socket
import threading

import pytest

from amtsim.backends import accounts as accounts_module
from amtsim.backends.accounts import Accounts, Verdict

GENERAL_GET = (
    b'<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    b'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Header>'
    b"<a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action><a:To>/wsman</a:To>"
    b"<w:ResourceURI>http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings</w:ResourceURI>"
    b"<a:MessageID>1</a:MessageID><a:ReplyTo><a:Address>"
    b"http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
    b"<w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body></Body></Envelope>"
)
# RequestPowerStateChange PowerState=8 (Off-Soft), the bytes go-wsman-messages sends (corpus file
# CIM_PowerManagementService.RequestPowerStateChange.request.xml, constructed-library:
# device-management-toolkit/go-wsman-messages wsmantesting/constants.go @b455ed389365).
POWER_OFF = (
    b'<?xml version="1.0" encoding="utf-8"?><Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    b'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns="http://www.w3.org/2003/05/soap-envelope">'
    b"<Header><a:Action>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService/"
    b"RequestPowerStateChange</a:Action><a:To>/wsman</a:To><w:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/"
    b"cim-schema/2/CIM_PowerManagementService</w:ResourceURI><a:MessageID>0</a:MessageID><a:ReplyTo><a:Address>"
    b"http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><w:OperationTimeout>"
    b"PT60S</w:OperationTimeout></Header><Body><h:RequestPowerStateChange_INPUT xmlns:h=\"http://schemas.dmtf.org/"
    b'wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"><h:PowerState>8</h:PowerState><h:ManagedElement>'
    b'<Address xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2004/08/'
    b'addressing</Address><ReferenceParameters xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
    b'<ResourceURI xmlns="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">http://schemas.dmtf.org/wbem/wscim/1/'
    b'cim-schema/2/CIM_ComputerSystem</ResourceURI><SelectorSet xmlns="http://schemas.dmtf.org/wbem/wsman/1/'
    b'wsman.xsd"><Selector Name="CreationClassName">CIM_ComputerSystem</Selector><Selector Name="Name">'
    b"ManagedSystem</Selector></SelectorSet></ReferenceParameters></h:ManagedElement>"
    b"</h:RequestPowerStateChange_INPUT></Body></Envelope>"
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def rfc2069_authorization(user: str, password: str, realm: str, nonce: str, uri: str = "/wsman") -> str:
    """The answer a client gives a challenge whose qop was stripped: no cnonce, no nc, body unsigned."""
    response = md5(f"{md5(f'{user}:{realm}:{password}')}:{nonce}:{md5('POST:' + uri)}")
    return f'Digest username="{user}",realm="{realm}",nonce="{nonce}",uri="{uri}",response="{response}"'


def power_state(device) -> int:  # type: ignore[no-untyped-def]
    with device.device.lock:
        return int(device.device.power.state)


# --- the downgrade a man in the middle tries ------------------------------------------------------


def test_an_answer_without_qop_is_refused_and_its_replay_cannot_power_the_host_off(raw_device, httpkit) -> None:
    info = raw_device.info
    assert power_state(info) == 2  # On
    challenge = raw_device.challenge()
    stripped = rfc2069_authorization(info.username, info.password, challenge["realm"], challenge["nonce"])
    assert raw_device.post(GENERAL_GET, authorization=stripped).status == 401
    for _ in range(3):  # the captured header, replayed with a power-off body
        assert raw_device.post(POWER_OFF, authorization=stripped).status == 401
    assert power_state(info) == 2
    # The same body signed properly (qop=auth) does power the host off: the refusal above was the digest's.
    assert raw_device.post(POWER_OFF, authorization=raw_device.sign(challenge, nc=1)).status == 200
    assert power_state(info) == 8  # Off-Soft


def test_a_replayed_nonce_count_is_refused(raw_device) -> None:
    challenge = raw_device.challenge()
    header = raw_device.sign(challenge, nc=1)
    assert raw_device.post(GENERAL_GET, authorization=header).status == 200
    assert raw_device.post(POWER_OFF, authorization=header).status == 401
    assert power_state(raw_device.info) == 2


def test_a_signature_for_another_request_target_is_refused(raw_device, httpkit) -> None:
    challenge = raw_device.challenge()
    info = raw_device.info
    other = httpkit.digest_authorization(info.username, info.password, challenge["realm"], challenge["nonce"],
                                         uri="/index.htm")
    assert raw_device.post(GENERAL_GET, authorization=other).status == 401
    same = httpkit.digest_authorization(info.username, info.password, challenge["realm"], challenge["nonce"],
                                        uri="/wsman", nc=2)
    assert raw_device.post(GENERAL_GET, authorization=same).status == 200


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5-sess", "SHA-512-256", "x"])
def test_an_answer_naming_another_algorithm_gets_a_new_challenge(raw_device, algorithm: str) -> None:
    header = raw_device.sign(raw_device.challenge()).replace("qop=auth", f"algorithm={algorithm},qop=auth")
    reply = raw_device.post(GENERAL_GET, authorization=header)
    assert reply.status == 401 and "nonce=" in (reply.header("WWW-Authenticate") or "")


def test_algorithm_md5_named_explicitly_is_accepted(raw_device) -> None:
    header = raw_device.sign(raw_device.challenge()).replace("qop=auth", "algorithm=MD5,qop=auth")
    assert raw_device.post(GENERAL_GET, authorization=header).status == 200


# --- malformed answers get a 401, on both ports ---------------------------------------------------


MALFORMED = {
    "non-ASCII response": 'Digest username="admin",realm="{realm}",nonce="{nonce}",uri="/wsman",'
                          'response="\u00e9\u00e9\u00e9\u00e9",qop=auth,nc=00000001,cnonce="c"',
    "response of the wrong shape": 'Digest username="admin",realm="{realm}",nonce="{nonce}",uri="/wsman",'
                                   'response="zz",qop=auth,nc=00000001,cnonce="c"',
    "nc not hexadecimal": 'Digest username="admin",realm="{realm}",nonce="{nonce}",uri="/wsman",'
                          'response="00",qop=auth,nc=-1,cnonce="c"',
    "qop without cnonce": 'Digest username="admin",realm="{realm}",nonce="{nonce}",uri="/wsman",'
                          'response="00",qop=auth,nc=00000001',
    "non-ASCII user": 'Digest username="\u00e4dmin",realm="{realm}",nonce="{nonce}",uri="/wsman",'
                      'response="00",qop=auth,nc=00000001,cnonce="c"',
    "nonce not base64": 'Digest username="admin",realm="{realm}",nonce="\u00ff\u00ff",uri="/wsman",'
                        'response="00",qop=auth,nc=00000001,cnonce="c"',
    "unterminated quote": 'Digest username="admin,realm="{realm}',
    "only the scheme": "Digest",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_authorization_gets_a_401_on_the_wsman_port(raw_device, httpkit, case: str) -> None:
    challenge = raw_device.challenge()
    header = MALFORMED[case].replace("{realm}", challenge["realm"]).replace("{nonce}", challenge["nonce"])
    request = httpkit.http_post(GENERAL_GET).replace(b"POST /wsman HTTP/1.1\r\n",
                                                     b"POST /wsman HTTP/1.1\r\nAuthorization: "
                                                     + header.encode("utf-8") + b"\r\n")
    reply = raw_device.connection().exchange(request)
    assert reply.status == 401
    assert (reply.header("WWW-Authenticate") or "").startswith("Digest realm=")


def _length_prefixed(*fields: bytes) -> bytes:
    return b"".join(bytes([len(field)]) + field for field in fields)


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        piece = sock.recv(count - len(data))
        if not piece:
            raise ConnectionError(f"closed after {len(data)} of {count} bytes")
        data += piece
    return data


def _authenticate_session(sock: socket.socket, auth_type: int, data: bytes) -> tuple[int, int, bytes]:
    """Send AuthenticateSession (0x13) and read its reply (0x14): (status, auth type, data).

    Layout from MeshCommander/amtterm: 0x13 00 00 00, type, LE32 length, data; the reply:
    0x14, status, 00 00, type, LE32 length, data.
    """
    sock.sendall(b"\x13\x00\x00\x00" + bytes([auth_type]) + len(data).to_bytes(4, "little") + data)
    head = _read_exactly(sock, 9)
    assert head[0] == 0x14, head
    return head[1], head[4], _read_exactly(sock, int.from_bytes(head[5:9], "little"))


@pytest.fixture
def redirection(amt_simulator):  # type: ignore[no-untyped-def]
    from amtsim import DeviceConfig, Timing

    device = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=None, redirection_port=0,
                                                   timing=Timing(power_transition=0, power_off_phase=0)))
    yield device
    amt_simulator.remove_device(device)


def _start_ider_session(device) -> socket.socket:  # type: ignore[no-untyped-def]
    sock = socket.create_connection((device.config.address, device.config.redirection_port), timeout=5)
    # StartRedirectionSession "IDER" (0x10 00 00 00 'IDER'); the reply 0x11 carries status 0 first.
    sock.sendall(b"\x10\x00\x00\x00IDER")
    reply = _read_exactly(sock, 13)
    assert reply[0] == 0x11 and reply[1] == 0, reply
    return sock


@pytest.mark.parametrize("response", ["\u00e9" * 16, "\u202e" + "0" * 31, "zz", ""])
def test_a_malformed_digest_answer_on_the_redirection_port_is_refused_not_dropped(redirection, response: str) -> None:
    sock = _start_ider_session(redirection)
    try:
        username, uri = b"admin", b"/RedirectionService"
        status, _, data = _authenticate_session(sock, 4, _length_prefixed(username, b"", b"", uri, b"", b"", b"", b""))
        assert status == 1  # challenge follows: [len]realm [len]nonce [len]qop
        realm = data[1:1 + data[0]]
        rest = data[1 + data[0]:]
        nonce = rest[1:1 + rest[0]]
        answer = _length_prefixed(username, realm, nonce, uri, b"c0ffee", b"00000002", response.encode("utf-8"),
                                  b"auth")
        status, _, _ = _authenticate_session(sock, 4, answer)
        assert status == 2  # authentication failed, said in a reply before the close
    finally:
        sock.close()


# --- the nonce store under many clients -----------------------------------------------------------


def _answer(accounts: Accounts, nonce: str, nc: int, *, user: str = "admin", password: str = "P@ssw0rd",
            uri: str = "/wsman") -> str:
    ha1 = md5(f"{user}:{accounts.realm}:{password}")
    nc_text = f"{nc:08x}"
    response = md5(f"{ha1}:{nonce}:{nc_text}:cafe:auth:{md5('POST:' + uri)}")
    return (f'Digest username="{user}",realm="{accounts.realm}",nonce="{nonce}",uri="{uri}",'
            f'response="{response}",qop=auth,nc={nc_text},cnonce="cafe"')


def new_accounts(**kwargs: object) -> tuple[Accounts, list[float]]:
    now = [1000.0]
    accounts = Accounts("Digest:0123456789ABCDEF0123456789ABCDEF", {"admin": "P@ssw0rd"},
                        clock=lambda: now[0], **kwargs)  # type: ignore[arg-type]
    return accounts, now


def test_thousands_of_outstanding_nonces_are_all_honoured_in_any_order() -> None:
    accounts, _ = new_accounts()
    nonces = [accounts.new_nonce() for _ in range(5000)]
    random.Random(9).shuffle(nonces)
    verdicts = {accounts.verify(_answer(accounts, nonce, 1), "POST", "/wsman")[0] for nonce in nonces}
    assert verdicts == {Verdict.OK}


def test_nonces_look_like_amts_and_are_not_forgeable() -> None:
    accounts, _ = new_accounts()
    nonce = accounts.new_nonce()
    assert len(nonce) == 32 and set(nonce) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    forged = ("A" if nonce[5] != "A" else "B").join((nonce[:5], nonce[6:]))
    assert accounts.verify(_answer(accounts, forged, 1), "POST", "/wsman")[0] is Verdict.CHALLENGE
    other_device, _ = new_accounts()
    assert other_device.verify(_answer(other_device, nonce, 1), "POST", "/wsman")[0] is Verdict.CHALLENGE


def test_out_of_order_counts_are_accepted_once_and_replays_refused() -> None:
    accounts, _ = new_accounts()
    nonce = accounts.new_nonce()

    def verdict(nc: int) -> Verdict:
        return accounts.verify(_answer(accounts, nonce, nc), "POST", "/wsman")[0]

    assert [verdict(nc) for nc in (1, 3, 2, 2, 3, 10, 9, 1)] == [
        Verdict.OK, Verdict.OK, Verdict.OK, Verdict.DENIED, Verdict.DENIED, Verdict.OK, Verdict.OK, Verdict.DENIED]
    assert verdict(1000) is Verdict.OK
    assert verdict(11) is Verdict.STALE  # far below the newest count: re-sign on a fresh nonce, never accepted


def test_an_expired_nonce_is_stale_with_the_right_password_and_denied_with_a_wrong_one() -> None:
    accounts, now = new_accounts(nonce_lifetime=300.0)
    nonce = accounts.new_nonce()
    now[0] += 301
    assert accounts.verify(_answer(accounts, nonce, 1), "POST", "/wsman")[0] is Verdict.STALE
    assert accounts.verify(_answer(accounts, nonce, 2, password="wrong"), "POST", "/wsman")[0] is Verdict.DENIED


def test_forgotten_nonce_records_never_allow_a_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_module, "MAX_NONCE_RECORDS", 4)
    accounts, _ = new_accounts()
    first = accounts.new_nonce()
    assert accounts.verify(_answer(accounts, first, 1), "POST", "/wsman")[0] is Verdict.OK
    for _ in range(6):  # newer answered nonces push the first one's record out
        assert accounts.verify(_answer(accounts, accounts.new_nonce(), 1), "POST", "/wsman")[0] is Verdict.OK
    assert accounts.nonce_records <= 4
    assert accounts.verify(_answer(accounts, first, 1), "POST", "/wsman")[0] is Verdict.STALE
    assert accounts.verify(_answer(accounts, first, 2), "POST", "/wsman")[0] is Verdict.STALE


def test_an_unauthenticated_flood_of_challenges_stores_nothing() -> None:
    accounts, _ = new_accounts()
    for _ in range(10000):
        accounts.new_nonce()
    assert accounts.nonce_records == 0


def test_many_concurrent_clients_with_the_right_password_all_authenticate(make_device, connect) -> None:
    device = make_device()
    failures: list[BaseException] = []
    barrier = threading.Barrier(64)

    def work() -> None:
        client = connect(device)
        try:
            barrier.wait()
            for _ in range(3):
                client.get("AMT_GeneralSettings")
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert device.control.stats()["auth_failures"] == 0


# --- the failure path costs the same for every user ----------------------------------------------


def test_an_unknown_user_is_checked_with_the_same_work_as_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts, _ = new_accounts()
    comparisons: list[tuple[str, str]] = []
    real = accounts_module.responses_match

    def counting(expected: str, given: str) -> bool:
        comparisons.append((expected, given))
        return real(expected, given)

    monkeypatch.setattr(accounts_module, "responses_match", counting)
    nonce = accounts.new_nonce()
    assert accounts.verify(_answer(accounts, nonce, 1, password="wrong"), "POST", "/wsman")[0] is Verdict.DENIED
    assert accounts.verify(_answer(accounts, nonce, 2, user="nobody"), "POST", "/wsman")[0] is Verdict.DENIED
    known, unknown = comparisons
    assert len(known[0]) == len(unknown[0]) == 32  # one full MD5 response compared in both cases


def test_failures_of_unknown_users_are_not_recorded() -> None:
    accounts, _ = new_accounts(lockout_threshold=3)
    for index in range(1000):
        accounts.verify(_answer(accounts, accounts.new_nonce(), 1, user=f"u{index}"), "POST", "/wsman")
    assert accounts._failures == {}
