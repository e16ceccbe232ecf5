"""What only the requests transport offers: the user's own Session (proxies, mounted adapters, auth),
Negotiate through requests-gssapi, and clean errors when the optional packages are missing."""

from __future__ import annotations

import sys

import pytest
import requests
from werkzeug import Response

import amtkit
from amtkit import exceptions as exc
from amtkit.wsman import names


class CountingAdapter(requests.adapters.HTTPAdapter):
    """A mounted adapter, as users mount them for their networks; counts what it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.sent.append(request.url)
        return super().send(request, *args, **kwargs)


class RecordingAuth(requests.auth.AuthBase):
    """A caller's auth object: adds a header and records every request it signs."""

    def __init__(self) -> None:
        self.signed: list[str] = []

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.signed.append(request.path_url)
        request.headers["Authorization"] = "Token lab"
        return request


def test_a_users_session_with_a_mounted_adapter_carries_every_request(amt_device) -> None:
    session = requests.Session()
    adapter = CountingAdapter()
    session.mount(f"http://{amt_device.host}:{amt_device.port}/", adapter)
    with amtkit.Client(amt_device.host, port=amt_device.port, username=amt_device.username,
                       password=amt_device.password, transport=session) as client:
        client.get(names.Cls.AMT_GeneralSettings)
        client.get(names.Cls.AMT_GeneralSettings)
    assert len(adapter.sent) == 3  # the challenge, then two signed requests on one nonce
    assert session.adapters  # the user's session is not closed with the client
    session.close()


def test_the_sessions_proxy_is_used(httpserver, wire) -> None:
    httpserver.expect_request("/wsman", method="POST").respond_with_response(
        Response(wire.read("Identify.response.xml"), headers=[("Content-Type", "application/soap+xml")]))
    session = requests.Session()
    session.proxies = {"http": httpserver.url_for("/")}
    # Nothing listens on the device address: only the proxy can have answered.
    with amtkit.Client("127.0.0.77", port=16992, password="x", transport=session, retries=0) as client:
        assert client.identify().product_vendor
    assert httpserver.log and httpserver.log[0][0].url.endswith("/wsman")


def test_a_given_auth_object_signs_every_request(httpserver, wire) -> None:
    httpserver.expect_request("/wsman", method="POST", headers={"Authorization": "Token lab"}).respond_with_response(
        Response(wire.read("Identify.response.xml"), headers=[("Content-Type", "application/soap+xml")]))
    auth = RecordingAuth()
    with amtkit.Client(httpserver.host, port=httpserver.port, transport="requests", auth=auth) as client:
        client.transport.post(b"<x/>", idempotent=True)
    assert auth.signed == ["/wsman"]


def test_auth_without_the_requests_transport_is_a_usage_error() -> None:
    with pytest.raises(exc.UsageError, match="transport='requests'"):
        amtkit.Client("127.0.0.1", password="x", auth="negotiate")


def test_an_unknown_transport_is_a_usage_error() -> None:
    with pytest.raises(exc.UsageError, match="builtin"):
        amtkit.Client("127.0.0.1", password="x", transport="curl")


def test_negotiate_without_requests_gssapi_names_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "requests_gssapi", None)  # import fails as if not installed
    with pytest.raises(exc.FeatureUnavailableError, match="requests-gssapi") as caught:
        amtkit.Client("127.0.0.1", transport="requests", auth="negotiate")
    assert "amtkit[kerberos]" in (caught.value.hint or "")


def test_the_requests_transport_without_requests_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "requests", None)
    with pytest.raises(exc.FeatureUnavailableError, match="requests") as caught:
        amtkit.Client("127.0.0.1", password="x", transport="requests")
    assert "amtkit[legacy]" in (caught.value.hint or "")


def test_legacy_soap_without_zeep_names_the_extra(monkeypatch, amt_device) -> None:
    monkeypatch.setitem(sys.modules, "zeep", None)
    client = amtkit.Client(amt_device.host, port=amt_device.port, password=amt_device.password, generation="eoi")
    with pytest.raises(exc.FeatureUnavailableError, match="zeep") as caught:
        client.power.state()
    assert "amtkit[legacy]" in (caught.value.hint or "")


def test_negotiate_uses_requests_gssapi_spnego_auth() -> None:
    gssapi = pytest.importorskip("requests_gssapi", reason="requests-gssapi is optional (amtkit[kerberos])")
    with amtkit.Client("127.0.0.1", transport="requests", auth="negotiate") as client:
        assert isinstance(client.transport.session.auth, gssapi.HTTPSPNEGOAuth)  # type: ignore[union-attr]


def test_calls_reuse_one_kept_alive_connection(amt_device) -> None:
    with amtkit.Client(amt_device.host, port=amt_device.port, username=amt_device.username,
                       password=amt_device.password, transport="requests") as client:
        client.get(names.Cls.AMT_GeneralSettings)  # the 401 closes its connection, the retry opens one
        before = amt_device.control.stats()["connections"]
        for _ in range(5):
            client.get(names.Cls.AMT_GeneralSettings)
        assert amt_device.control.stats()["connections"] == before
