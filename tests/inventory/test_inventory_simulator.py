"""``client.inventory`` against simulated devices: the scenario's values come back as typed records."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator

import pytest

from amtkit.client import Client
from amtkit.codes import ControlMode, ProvisioningState
from amtkit.exceptions import AuthenticationError
from amtkit.inventory import INVENTORY_CLASSES, FeatureState, Inventory
from amtkit.wsman.names import Cls
from amtsim import SimulatedDevice
from amtsim.backends.inventory import inventory_of, redirection_of
from amtsim.control import DeviceControl

SCENARIO = {
    "hostname": "desk-042", "domain": "corp.example", "amt_version": "15.0.23", "build_number": "1706",
    "sku": "16392", "guid": "5c3d9a1e-7b2f-4c11-9e0a-0123456789ab", "mac_address": "a4-bb-6d-10-20-30",
    "ip_address": "10.20.30.42", "subnet_mask": "255.255.254.0", "default_gateway": "10.20.30.1",
    "primary_dns": "10.20.0.53", "dhcp_enabled": False, "manufacturer": "Contoso", "model": "Office 7000",
    "serial_number": "CZC1234XYZ", "bios_vendor": "Contoso BIOS", "bios_version": "1.17.0",
    "bios_release_date": "2024-02-29", "cpu_count": 2, "cpu_speed_mhz": 2100, "cpu_max_speed_mhz": 5000,
    "memory_gib": [16, 16, 8],
}


NewDevice = Callable[..., SimulatedDevice]
ClientFor = Callable[[SimulatedDevice], Client]


@pytest.fixture
def client_for() -> Iterator[ClientFor]:
    clients: list[Client] = []

    def open_client(device: SimulatedDevice) -> Client:
        config = device.config
        client = Client(config.address, port=config.http_port, username=config.username, password=config.password,
                        timeout=5.0)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


@pytest.fixture
def device(new_device: NewDevice) -> SimulatedDevice:
    return new_device(**SCENARIO)


@pytest.fixture
def inventory(device: SimulatedDevice, client_for: ClientFor) -> Inventory:
    return client_for(device).inventory.collect()


def test_versions_come_from_software_identity(inventory: Inventory) -> None:
    versions = inventory.versions
    assert (versions.amt, versions.build_number, versions.sku) == ("15.0.23", "1706", "16392")
    assert versions.all["VendorID"] == "8086"


def test_general_settings_give_host_name_and_domain(inventory: Inventory) -> None:
    assert inventory.general.fqdn == "desk-042.corp.example"


def test_network_settings_give_mac_ip_dhcp_and_link(inventory: Inventory) -> None:
    (port,) = inventory.network
    assert (port.mac_address, port.ip_address, port.subnet_mask) == ("a4-bb-6d-10-20-30", "10.20.30.42",
                                                                     "255.255.254.0")
    assert (port.default_gateway, port.primary_dns) == ("10.20.30.1", "10.20.0.53")
    assert port.dhcp_enabled is False and port.link_up is True and not port.wireless


def test_chassis_and_platform_guid(inventory: Inventory) -> None:
    chassis = inventory.hardware.chassis
    assert chassis is not None and (chassis.manufacturer, chassis.model, chassis.serial_number) == (
        "Contoso", "Office 7000", "CZC1234XYZ")
    assert inventory.hardware.platform_guid == "5C3D9A1E7B2F4C119E0A0123456789AB"


def test_bios_vendor_version_and_release_date(inventory: Inventory) -> None:
    bios = inventory.hardware.bios
    assert bios is not None and (bios.vendor, bios.version) == ("Contoso BIOS", "1.17.0")
    assert bios.release_date == datetime.datetime(2024, 2, 29, tzinfo=datetime.timezone.utc)


def test_processors_and_memory_modules(inventory: Inventory) -> None:
    hardware = inventory.hardware
    assert [(p.device_id, p.current_mhz, p.max_mhz) for p in hardware.processors] == [
        ("CPU 0", 2100, 5000), ("CPU 1", 2100, 5000)]
    assert [m.capacity_bytes for m in hardware.memory] == [16 << 30, 16 << 30, 8 << 30]
    assert hardware.total_memory_bytes == 40 << 30
    assert len({m.bank_label for m in hardware.memory}) == 3


def test_setup_gives_provisioning_state_and_control_mode(inventory: Inventory) -> None:
    assert inventory.setup.provisioning_state is ProvisioningState.POST
    assert inventory.setup.control_mode is ControlMode.ADMIN


def test_features_of_an_admin_mode_device_with_everything_on(inventory: Inventory) -> None:
    features = inventory.features
    assert (features.ider, features.sol, features.kvm, features.system_defense) == (FeatureState.ENABLED,) * 4
    assert features.redirection_listener is True and inventory.absent == ()


def test_each_class_is_read_in_one_optimized_enumerate(device: SimulatedDevice, client_for: ClientFor) -> None:
    client = client_for(device)
    client.get(Cls.AMT_GeneralSettings)  # first contact: the digest challenge is behind us
    before = DeviceControl(device).stats()["http_requests"]
    inventory = client.inventory.collect()
    assert DeviceControl(device).stats()["http_requests"] - before == len(INVENTORY_CLASSES) == inventory.round_trips


def test_kvm_absent_on_the_sku_is_reported_absent_not_raised(new_device: NewDevice, client_for: ClientFor) -> None:
    inventory = client_for(new_device(kvm_supported=False)).inventory.collect()
    assert inventory.features.kvm is FeatureState.ABSENT and inventory.absent == (Cls.CIM_KVMRedirectionSAP,)


def test_class_answered_with_destination_unreachable_reads_as_no_instances(device: SimulatedDevice, client_for: ClientFor) -> None:
    assert client_for(device).inventory.instances("CIM_NoSuchDevice") == []  # a class the simulator does not know


def test_redirection_switched_off_reads_disabled(device: SimulatedDevice, client_for: ClientFor) -> None:
    with device.lock:
        state = redirection_of(device)
        state.ider_enabled = False
        state.kvm_enabled = False
    features = client_for(device).inventory.features()
    assert (features.ider, features.sol, features.kvm) == (FeatureState.DISABLED, FeatureState.ENABLED,
                                                          FeatureState.DISABLED)


def test_system_defense_is_absent_in_client_control_mode(new_device: NewDevice, client_for: ClientFor) -> None:
    inventory = client_for(new_device(control_mode=ControlMode.CLIENT)).inventory.collect()
    assert inventory.setup.control_mode is ControlMode.CLIENT
    assert inventory.features.system_defense is FeatureState.ABSENT


def test_backend_changes_show_in_the_next_read(device: SimulatedDevice, client_for: ClientFor) -> None:
    with device.lock:
        inventory_of(device).network.link_up = False
    (port,) = client_for(device).inventory.network()
    assert port.link_up is False


def test_unprovisioned_device_refuses_inventory(new_device: NewDevice, client_for: ClientFor) -> None:
    device = new_device(provisioning_state=ProvisioningState.PRE)
    with pytest.raises(AuthenticationError):
        client_for(device).inventory.collect()


def test_inventory_as_dict_is_json_ready(inventory: Inventory) -> None:
    data = json.loads(json.dumps(inventory.as_dict()))
    assert data["setup"] == {"provisioning_state": "post", "control_mode": "acm"}  # as discover spells them
    assert data["features"]["kvm"] == "enabled" and data["hardware"]["total_memory_bytes"] == 40 << 30
    assert data["hardware"]["bios"]["release_date"].startswith("2024-02-29")
