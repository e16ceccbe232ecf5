"""``diagnose()`` stops at the right rung for each failure, against simulated devices on 127.53.0.x."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from amtkit.codes import ControlMode, ProvisioningState
from amtkit.config import TLSConfig
from amtkit.diagnose import Diagnosis, Outcome, Rung, diagnose
from amtkit.discovery import ProbeSettings
from amtkit.exceptions import EXIT_CODES
from amtkit.http.digest import Credentials
from amtkit.profiles import ProfileSet
from amtkit.store import Store
from amtsim import DeviceConfig, SimulatedDevice, Simulator
from amtsim.backends.inventory import redirection_of
from amtsim.config import Faults
from amtsim.control import DeviceControl

GOOD = Credentials("admin", "P@ssw0rd")
_octets = itertools.count(1)


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def settings() -> ProbeSettings:
    return ProbeSettings(rmcp_port=free_port(socket.SOCK_DGRAM), http_port=free_port(socket.SOCK_STREAM),
                         https_port=free_port(socket.SOCK_STREAM), rmcp_timeout=0.2, rmcp_retries=0)


AddDevice = Callable[..., SimulatedDevice]


@pytest.fixture
def add_device(amt_simulator: Simulator, settings: ProbeSettings) -> Iterator[AddDevice]:
    """A device on a fresh 127.53.0.x address sharing the module's ports, removed after the test."""
    made: list[SimulatedDevice] = []

    def add(*, tls: bool = True, **config: object) -> SimulatedDevice:
        device = amt_simulator.add_device(DeviceConfig(
            address=f"127.53.0.{next(_octets)}", http_port=settings.http_port,
            tls_port=settings.https_port if tls else None, rmcp_port=settings.rmcp_port, **config))  # type: ignore[arg-type]
        made.append(device)
        return device

    yield add
    for device in made:
        amt_simulator.remove_device(device)


def run(device: SimulatedDevice | str, settings: ProbeSettings, **options: object) -> Diagnosis:
    host = device if isinstance(device, str) else device.address
    options.setdefault("credentials", GOOD)
    return diagnose(host, settings=settings, timeout=5.0, **options)  # type: ignore[arg-type]


def stopped_at(result: Diagnosis) -> Rung | None:
    return None if result.failed is None else result.failed.rung


def test_healthy_device_passes_every_rung(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(), settings, feature="power")
    assert result.ok and result.exit_code == 0
    assert [s.outcome for s in result.steps] == [Outcome.PASSED] * 3 + [Outcome.SKIPPED] + [Outcome.PASSED] * 4


def test_rungs_after_the_failure_are_not_reached(settings: ProbeSettings) -> None:
    result = run("no-such-host.invalid", settings)
    assert [s.rung for s in result.steps] == list(Rung)
    assert all(s.outcome is Outcome.SKIPPED and s.finding == "not reached" for s in result.steps[1:])


def test_name_that_does_not_resolve_stops_at_reachable(settings: ProbeSettings) -> None:
    result = run("no-such-host.invalid", settings)
    assert stopped_at(result) is Rung.REACHABLE and result.category == "unreachable"
    assert result.exit_code == EXIT_CODES["unreachable"] and "does not resolve" in result.steps[0].finding


def test_silent_address_stops_at_reachable(settings: ProbeSettings) -> None:
    from dataclasses import replace

    result = run("127.53.1.1", replace(settings, http=False))
    assert stopped_at(result) is Rung.REACHABLE and "nothing answers" in result.steps[0].finding


def test_host_with_amt_disabled_stops_at_amt_ports(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(faults=Faults(amt_disabled=True)), settings)
    assert stopped_at(result) is Rung.AMT_PORTS and result.category == "not-detected"
    assert "MEBx" in result.failed.action  # type: ignore[union-attr]


def test_web_server_that_is_not_amt_stops_at_amt_ports(settings: ProbeSettings) -> None:
    class Page(BaseHTTPRequestHandler):
        server_version = "Apache/2.4"

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.53.2.1", settings.http_port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run("127.53.2.1", settings)
    finally:
        server.shutdown()
        server.server_close()
    assert stopped_at(result) is Rung.AMT_PORTS and result.category == "not-detected"
    assert "Apache" in result.failed.finding  # type: ignore[union-attr]


def test_unverifiable_certificate_stops_at_tls_with_the_reason(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(), settings, tls=TLSConfig())
    assert stopped_at(result) is Rung.TLS and result.category == "tls"
    assert "verification" in result.failed.finding  # type: ignore[union-attr]


def test_wrong_pin_stops_at_tls_with_pin_mismatch(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(), settings, tls=TLSConfig(pin_sha256="00" * 32))
    assert stopped_at(result) is Rung.TLS and "pin-mismatch" in result.failed.finding  # type: ignore[union-attr]


def test_right_pin_passes_tls(add_device: AddDevice, settings: ProbeSettings, amt_simulator: Simulator) -> None:
    result = run(add_device(), settings, tls=TLSConfig(pin_sha256=amt_simulator.certificate.sha256))
    assert result.ok and result.step(Rung.TLS).outcome is Outcome.PASSED


def test_tls_asked_of_a_device_without_tls_stops_at_tls(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(tls=False), settings, tls=TLSConfig(insecure=True))
    assert stopped_at(result) is Rung.TLS and "not set up" in result.failed.finding  # type: ignore[union-attr]


def test_wrong_password_stops_at_credentials(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(), settings, credentials=Credentials("admin", "wrong"))
    assert stopped_at(result) is Rung.CREDENTIALS and result.category == "auth-failed"


def test_no_credentials_at_all_stops_at_credentials(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(), settings, credentials=None)
    assert stopped_at(result) is Rung.CREDENTIALS and "no credentials" in result.failed.finding  # type: ignore[union-attr]


def profile_file(tmp_path: Path, **passwords: str) -> ProfileSet:
    lines = [f'order = [{", ".join(repr(n) for n in passwords)}]']
    for name, password in passwords.items():
        lines += [f"[profiles.{name}]", 'username = "admin"', f'password = "{password}"']
    path = tmp_path / "profiles.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return ProfileSet.load(path)


def test_no_working_profile_stops_at_credentials_naming_the_profiles_tried(
        add_device: AddDevice, settings: ProbeSettings, tmp_path: Path) -> None:
    profiles = profile_file(tmp_path, lab="nope", corp="wrong")
    result = run(add_device(), settings, credentials=None, profiles=profiles)
    assert stopped_at(result) is Rung.CREDENTIALS and result.category == "auth-failed"
    assert "tried: lab, corp" in result.failed.finding  # type: ignore[union-attr]


def test_working_profile_is_named_and_remembered(add_device: AddDevice, settings: ProbeSettings,
                                                 tmp_path: Path) -> None:
    device = add_device()
    profiles = profile_file(tmp_path, lab="nope", corp="P@ssw0rd")
    with Store.open(tmp_path / "amtkit.db") as store:
        result = run(device, settings, credentials=None, profiles=profiles, store=store)
        remembered = store.profile_for(device.address)
    assert result.ok and result.profile == "corp" and remembered == "corp"
    assert "profile 'corp'" in result.step(Rung.CREDENTIALS).finding


def test_remembered_profile_is_tried_first(add_device: AddDevice, settings: ProbeSettings, tmp_path: Path) -> None:
    device = add_device()
    profiles = profile_file(tmp_path, lab="nope", corp="P@ssw0rd")
    with Store.open(tmp_path / "amtkit.db") as store:
        store.remember_profile(device.address, "corp")
        run(device, settings, credentials=None, profiles=profiles, store=store)
    assert device.stats.auth_failures == 0


def test_unprovisioned_device_stops_at_provisioned_without_trying_logins(
        add_device: AddDevice, settings: ProbeSettings) -> None:
    device = add_device(provisioning_state=ProvisioningState.PRE, control_mode=ControlMode.NONE)
    result = run(device, settings)
    assert stopped_at(result) is Rung.PROVISIONED and result.category == "not-provisioned"
    assert result.step(Rung.CREDENTIALS).outcome is Outcome.SKIPPED and device.stats.auth_failures == 0


def test_unknown_power_state_stops_at_power_state(add_device: AddDevice, settings: ProbeSettings) -> None:
    device = add_device()
    DeviceControl(device).inject(power_state_unknown=True)
    result = run(device, settings)
    assert stopped_at(result) is Rung.POWER_STATE and result.category == "power-state-unknown"
    assert result.exit_code == EXIT_CODES["power-state-unknown"]


def test_system_defense_in_client_control_mode_stops_at_feature(add_device: AddDevice,
                                                                settings: ProbeSettings) -> None:
    result = run(add_device(control_mode=ControlMode.CLIENT), settings, feature="defense")
    assert stopped_at(result) is Rung.FEATURE and result.category == "not-available"
    assert "ACM" in result.failed.action  # type: ignore[union-attr]


def test_system_defense_in_admin_control_mode_passes(add_device: AddDevice, settings: ProbeSettings) -> None:
    assert run(add_device(), settings, feature="defense").ok


def test_disabled_ider_stops_at_feature(add_device: AddDevice, settings: ProbeSettings) -> None:
    device = add_device()
    with device.lock:
        redirection_of(device).ider_enabled = False
    result = run(device, settings, feature="ider")
    assert stopped_at(result) is Rung.FEATURE and "disabled" in result.failed.finding  # type: ignore[union-attr]


def test_kvm_on_a_sku_without_it_stops_at_feature(add_device: AddDevice, settings: ProbeSettings) -> None:
    result = run(add_device(kvm_supported=False), settings, feature="kvm")
    assert stopped_at(result) is Rung.FEATURE and "does not offer KVM" in result.failed.finding  # type: ignore[union-attr]


def test_ider_in_client_control_mode_warns_about_user_consent(add_device: AddDevice,
                                                             settings: ProbeSettings) -> None:
    result = run(add_device(control_mode=ControlMode.CLIENT), settings, feature="ider")
    assert result.ok and result.step(Rung.FEATURE).outcome is Outcome.WARNING
    assert "consent" in result.step(Rung.FEATURE).action


def test_diagnosis_as_dict_names_the_rung_and_category(add_device: AddDevice, settings: ProbeSettings) -> None:
    data = run(add_device(), settings, credentials=Credentials("admin", "wrong")).as_dict()
    assert data["ok"] is False and data["stopped_at"] == "credentials" and data["category"] == "auth-failed"
    assert [step["rung"] for step in data["steps"]] == [r.value for r in Rung]
    assert data["discovery"]["classification"] == "amt_present"
