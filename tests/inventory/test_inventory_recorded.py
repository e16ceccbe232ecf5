"""The inventory records read from AMT answers recorded on real machines (vendored in ``tests/data/amt-wire``)."""

from __future__ import annotations

import pytest

from amtkit.codes import ControlMode, ProvisioningState
from amtkit.inventory import INVENTORY_CLASSES, FeatureState, Inventory, build_inventory
from amtkit.wsman.responses import parse_response


@pytest.fixture(scope="module")
def recorded(wire) -> Inventory:  # type: ignore[no-untyped-def]
    fetched = {}
    for class_name in INVENTORY_CLASSES:
        page = parse_response(wire.read(f"{class_name}.Pull.response.xml")).enumeration()
        fetched[class_name] = [item.instance for item in page.items if item.instance is not None]
    return build_inventory("recorded", fetched)


def test_recorded_versions(recorded: Inventory) -> None:
    assert (recorded.versions.amt, recorded.versions.build_number, recorded.versions.sku) == ("8.1.71", "3608",
                                                                                              "24584")


def test_recorded_wired_and_wireless_interfaces(recorded: Inventory) -> None:
    wired, wireless = recorded.network
    assert wired.mac_address == "00-be-43-d8-22-a4" and wired.dhcp_enabled and wired.link_up and not wired.wireless
    assert wireless.wireless and wireless.link_up is False


def test_recorded_chassis_bios_and_guid(recorded: Inventory) -> None:
    hardware = recorded.hardware
    assert hardware.chassis is not None and hardware.chassis.model == "NUC9V7QNX"
    assert hardware.bios is not None and hardware.bios.release_date is not None
    assert hardware.platform_guid is not None and len(hardware.platform_guid) == 32


def test_recorded_memory_modules_add_up(recorded: Inventory) -> None:
    assert recorded.hardware.total_memory_bytes == 2 * 4294967296


def test_recorded_setup_and_features(recorded: Inventory) -> None:
    assert recorded.setup.provisioning_state is ProvisioningState.POST
    assert recorded.setup.control_mode is ControlMode.ADMIN
    assert recorded.features.ider is FeatureState.ENABLED and recorded.features.sol is FeatureState.ENABLED


def test_empty_host_name_reads_as_none(recorded: Inventory) -> None:
    assert recorded.general.hostname is None and recorded.general.fqdn is None
