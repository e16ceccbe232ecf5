"""Real consoles against the simulator (opt-in: each test is skipped when its console is absent).

* the ``amt`` package (``amtctrl``) and ``napalm-amt`` from PyPI: ``pip install amt napalm-amt``;
* MeshCentral's AMT WS-Man stack (MeshCommander's lineage) under node, driven by
  ``meshcentral_wsman.js`` the way MeshCentral's ``amtmanager.js`` drives it: install with
  ``npm install --prefix ~/.cache/amtkit/meshcentral meshcentral`` or point ``AMTKIT_MESHCENTRAL`` at it;
* the requests Intel's ``@device-management-toolkit/wsman-messages`` builds for every class it names
  (``wsman_messages.js``), sent with amtkit's digest transport: ``npm install --prefix
  ~/.cache/amtkit/wsman-messages @device-management-toolkit/wsman-messages`` or ``AMTKIT_WSMAN_MESSAGES``.

Expectations are the consoles' own readings of what AMT answers (power state 2 is on, 8 soft off...).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from amtkit.client import Client
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.wsman import responses as rs
from amtsim import Timing

HERE = Path(__file__).parent
NODE = shutil.which("node")


def _npm_package(variable: str, default: str, marker: str) -> Path | None:
    configured = os.environ.get(variable)
    base = Path(configured).expanduser() if configured else Path.home() / ".cache" / "amtkit" / default
    for candidate in (base, base / "node_modules", base / "node_modules" / default):
        if (candidate / marker).exists():
            return candidate
    return None


MESHCENTRAL = _npm_package("AMTKIT_MESHCENTRAL", "meshcentral", "amt/amt-wsman-comm.js")
WSMAN_MESSAGES = _npm_package("AMTKIT_WSMAN_MESSAGES", "wsman-messages",
                              "@device-management-toolkit/wsman-messages/index.js")


# --- the amt package ----------------------------------------------------------------------------------------


@pytest.fixture
def amtctrl(make_device):  # type: ignore[no-untyped-def]
    """The ``amt`` package's client on a device; it always dials 16992, so its URI is pointed at the device."""
    amt_client = pytest.importorskip("amt.client")

    def make(**config: Any) -> tuple[Any, AMTDeviceInfo]:
        info = make_device(**config)
        client = amt_client.Client(info.host, info.password, username=info.username)
        client.uri = f"http://{info.host}:{info.port}/wsman"
        return client, info
    return make


def test_amt_package_reads_power_and_switches_it_off_then_on_back_to_back(amtctrl) -> None:  # type: ignore[no-untyped-def]
    client, info = amtctrl(timing=Timing(power_transition=0.3, power_off_phase=0))
    assert client.power_status() == "2"
    assert client.power_off() == 0
    assert client.power_on() == 0  # waits for the off to complete, as on AMT; no 4099
    assert [int(a) for a in info.control.power_history()] == [8, 2]


def test_amt_package_vnc_commands_enable_kvm_on_port_5900(amtctrl) -> None:  # type: ignore[no-untyped-def]
    client, info = amtctrl()
    client.enable_vnc()
    status = client.vnc_status()
    assert "<g:Is5900PortEnabled>true</g:Is5900PortEnabled>" in status
    assert "<g:OptInPolicy>false</g:OptInPolicy>" in status
    with Client(info.host, **info.client_kwargs()) as amtkit:  # type: ignore[arg-type]
        assert amtkit.get("CIM_KVMRedirectionSAP")["EnabledState"] in (2, 6)


def test_amt_package_pxe_next_boot_is_taken(amtctrl) -> None:  # type: ignore[no-untyped-def]
    client, info = amtctrl()
    client.pxe_next_boot()
    assert info.control.pending_boot_source() == "Intel(r) AMT: Force PXE Boot"


# --- napalm-amt ---------------------------------------------------------------------------------------------


@pytest.fixture
def napalm(make_device):  # type: ignore[no-untyped-def]
    driver_module = pytest.importorskip("napalm_amt.driver")
    drivers = []

    def make(**config: Any) -> tuple[Any, AMTDeviceInfo]:
        info = make_device(**config)
        driver = driver_module.AmtDriver(info.host, info.username, info.password, timeout=30,
                                         optional_args={"port": info.port})
        driver.open()
        drivers.append(driver)
        return driver, info
    yield make
    for driver in drivers:
        driver.close()


def test_napalm_amt_inventory_has_the_cpu_model_and_the_drives(napalm) -> None:  # type: ignore[no-untyped-def]
    driver, _ = napalm(cpu_model="Intel(R) Core(TM) i5-12500 CPU @ 3.00GHz", drives_gb=[256, 1000])
    inventory = driver.get_hardware_inventory()
    assert [cpu["model"] for cpu in inventory["cpus"]] == ["Intel(R) Core(TM) i5-12500 CPU @ 3.00GHz"]
    assert [drive["size_bytes"] for drive in inventory["drives"]] == [256_000_000_000, 1_000_000_000_000]
    assert len(inventory["memory"]) == 2 and inventory["system_uuid"]


def test_napalm_amt_facts_power_and_protocols(napalm) -> None:  # type: ignore[no-untyped-def]
    driver, info = napalm(tls=True)
    facts = driver.get_facts()
    assert facts["os_version"].startswith("16.1.25") and facts["serial_number"]
    assert driver.get_power_state()["state"] == "On"  # napalm-device-types spelling
    protocols = driver.get_management_protocols()
    assert protocols["https"]["enabled"] is True and protocols["kvm"]["enabled"] is True
    driver.set_power_state("ForceOff")
    assert [int(a) for a in info.control.power_history()] == [8]


# --- MeshCentral's AMT stack under node -------------------------------------------------------------------------

needs_meshcentral = pytest.mark.skipif(NODE is None or MESHCENTRAL is None,
                                       reason="needs node and the meshcentral npm package (module docstring)")


def meshcentral(info: AMTDeviceInfo, step: str) -> dict[str, Any]:
    assert NODE is not None and MESHCENTRAL is not None
    result = subprocess.run([NODE, str(HERE / "meshcentral_wsman.js"), str(MESHCENTRAL), info.host, str(info.port),
                             info.username, info.password, step], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@needs_meshcentral
def test_meshcentral_reads_the_power_state_through_service_available_to_element(make_device) -> None:  # type: ignore[no-untyped-def]
    from amtkit.codes import PowerState

    on = meshcentral(make_device(), "power")
    assert (on["status"], on["PowerState"], on["OSPowerSavingState"]) == (200, 2, 2)
    off = meshcentral(make_device(power_state=PowerState.OFF_SOFT), "power")
    assert (off["PowerState"], off["available"]) == (8, 2)


@needs_meshcentral
def test_meshcentral_hardware_inventory_gets_every_class_it_asks_for(make_device) -> None:  # type: ignore[no-untyped-def]
    result = meshcentral(make_device(), "hardware")
    responses = result["responses"]
    assert result["status"] == 200
    assert {name: r["status"] for name, r in responses.items()} == {name: 200 for name in responses}
    assert responses["CIM_Chip"]["items"][0]["Version"] == "Intel(R) Core(TM) i7-13700 CPU @ 2.10GHz"
    assert responses["CIM_MediaAccessDevice"]["count"] == 1
    assert responses["CIM_PhysicalPackage"]["items"][0]["Tag"] == "CIM_Card"


@needs_meshcentral
def test_meshcentral_settings_and_tls_sync_classes_all_answer(make_device) -> None:  # type: ignore[no-untyped-def]
    result = meshcentral(make_device(), "settings")
    failed = {name: r["status"] for name, r in result["responses"].items() if r["status"] != 200}
    assert failed == {}
    assert result["responses"]["AMT_PublicKeyCertificate"]["count"] == 0  # known, none yet
    assert result["responses"]["AMT_TLSSettingData"]["count"] == 2


@needs_meshcentral
def test_meshcentral_power_off_then_on_at_once_both_succeed(make_device) -> None:  # type: ignore[no-untyped-def]
    info = make_device(timing=Timing(power_transition=0.3, power_off_phase=0))
    result = meshcentral(info, "off-on")
    assert [r["ReturnValue"] for r in result["results"]] == [0, 0]
    assert [int(a) for a in info.control.power_history()] == [8, 2]


@needs_meshcentral
def test_meshcentral_user_consent_and_time(make_device) -> None:  # type: ignore[no-untyped-def]
    info = make_device()
    assert meshcentral(info, "consent")["ReturnValue"] == 0
    assert info.control.consent_code() is not None
    assert meshcentral(info, "time")["ReturnValue"] == 0


# --- Intel's wsman-messages ------------------------------------------------------------------------------------

needs_wsman_messages = pytest.mark.skipif(NODE is None or WSMAN_MESSAGES is None,
                                          reason="needs node and @device-management-toolkit/wsman-messages")


def wsman_messages(*args: str) -> Any:
    assert NODE is not None and WSMAN_MESSAGES is not None
    result = subprocess.run([NODE, str(HERE / "wsman_messages.js"), str(WSMAN_MESSAGES), *args],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


OWNED_ELSEWHERE = {"AMT_AuditLog", "AMT_MessageLog"}


@needs_wsman_messages
def test_every_enumerate_and_pull_intels_library_builds_is_answered(amt_device) -> None:  # type: ignore[no-untyped-def]
    built = wsman_messages()
    unanswered = {}
    with Client(amt_device.host, **amt_device.client_kwargs()) as client:  # type: ignore[arg-type]
        for class_name, messages in sorted(built.items()):
            if class_name in OWNED_ELSEWHERE or "enumerate" not in messages:
                continue
            reply = rs.parse_response(client.transport.post(messages["enumerate"].encode(), idempotent=True).body)
            if reply.fault is not None:
                unanswered[class_name] = reply.fault.subcode
                continue
            context = reply.enumeration().context
            pull = wsman_messages("pull", class_name, str(context))
            page = rs.parse_response(client.transport.post(pull.encode(), idempotent=True).body)
            if page.fault is not None:
                unanswered[class_name] = page.fault.subcode
    assert unanswered == {}
    assert len(built) > 50


@needs_wsman_messages
def test_every_get_intels_library_builds_answers_the_object_or_says_the_machine_lacks_it(amt_device) -> None:  # type: ignore[no-untyped-def]
    built = wsman_messages()
    verdicts = {}
    with Client(amt_device.host, **amt_device.client_kwargs()) as client:  # type: ignore[arg-type]
        for class_name, messages in sorted(built.items()):
            if class_name in OWNED_ELSEWHERE or "get" not in messages:
                continue
            reply = rs.parse_response(client.transport.post(messages["get"].encode(), idempotent=True).body)
            verdicts[class_name] = reply.fault.subcode if reply.fault else reply.instance().class_name
    faults = {name: verdict for name, verdict in verdicts.items() if not verdict.startswith(("AMT_", "CIM_", "IPS_"))}
    # Get without selectors: DestinationUnreachable where the machine has no such object (as AMT answers),
    # InvalidSelectors where it has several.
    assert set(faults.values()) <= {"DestinationUnreachable", "InvalidSelectors"}
    for name in ("IPS_KVMRedirectionSettingData", "IPS_OptInService", "AMT_TimeSynchronizationService",
                 "CIM_ServiceAvailableToElement"):
        assert verdicts[name] not in ("DestinationUnreachable", "InvalidSelectors"), name
