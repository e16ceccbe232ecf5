"""amtkit.Client's WS-Man operations against a simulated device over loopback."""

from __future__ import annotations

import pytest

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.codes import PowerAction
from amtkit.wsman import names
from amtkit.wsman.values import CimInstance, EndpointReference


@pytest.fixture
def client(amt_device, connect) -> Client:  # type: ignore[no-untyped-def]
    return connect(amt_device)


def test_identify_reports_the_devices_amt_version(client: Client, amt_device) -> None:
    result = client.identify()
    assert result.product_vendor == "Intel(r)"
    assert result.amt_version == amt_device.device.config.major_minor
    assert "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest" in result.security_profiles  # DSP0226


def test_identify_needs_no_credentials(amt_device, connect) -> None:
    assert connect(amt_device, password=None).identify().amt_version


def test_get_of_a_singleton_needs_no_selectors(client: Client, amt_device) -> None:
    settings = client.get(names.Cls.AMT_GeneralSettings)
    assert settings.class_name == "AMT_GeneralSettings"
    assert settings["DigestRealm"] == amt_device.device.config.realm
    assert settings["InstanceID"] == "Intel(r) AMT: General Settings"


def test_get_with_selectors_picks_one_of_several_instances(client: Client) -> None:
    host = client.get(names.Cls.CIM_ComputerSystem, names.MANAGED_SYSTEM_SELECTORS)
    amt = client.get(names.Cls.CIM_ComputerSystem, names.AMT_SUBSYSTEM_SELECTORS)
    assert (host["Name"], amt["Name"]) == ("ManagedSystem", "Intel(r) AMT")


def test_get_values_are_typed_by_the_schema(client: Client) -> None:
    power = client.get(names.Cls.CIM_AssociatedPowerManagementService)
    assert power["PowerState"] == 2
    assert isinstance(power["AvailableRequestedPowerStates"], list)
    assert isinstance(power["UserOfService"], EndpointReference)
    assert power["UserOfService"].selectors == {"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"}


def test_get_with_wrong_selectors_is_an_invalid_selectors_fault(client: Client) -> None:
    with pytest.raises(exc.WSManFault) as caught:
        client.get(names.Cls.CIM_ComputerSystem, {"Name": "NoSuchSystem"})
    assert caught.value.subcode == "InvalidSelectors"


def test_get_of_an_unknown_class_is_destination_unreachable(client: Client) -> None:
    with pytest.raises(exc.DestinationUnreachableFault):
        client.get("AMT_SpineNoSuchClass")


def test_put_of_the_whole_object_is_stored(client: Client) -> None:
    settings = client.get(names.Cls.AMT_GeneralSettings)
    settings.properties["HostName"] = "lab-pc-17"
    stored = client.put(settings)
    assert stored["HostName"] == "lab-pc-17"
    assert client.get(names.Cls.AMT_GeneralSettings)["HostName"] == "lab-pc-17"


def test_put_of_a_partial_object_is_an_invalid_representation_fault(client: Client) -> None:
    partial = CimInstance(names.Cls.AMT_GeneralSettings,
                          {"InstanceID": names.GENERAL_SETTINGS_INSTANCE_ID, "HostName": "x"})
    with pytest.raises(exc.WSManFault) as caught:
        client.put(partial)
    assert caught.value.subcode == "InvalidRepresentation"
    assert "whole object" in caught.value.detail
    assert client.get(names.Cls.AMT_GeneralSettings)["HostName"] != "x"


def test_put_changing_a_read_only_property_is_refused(client: Client) -> None:
    settings = client.get(names.Cls.AMT_GeneralSettings)
    settings.properties["DigestRealm"] = "Digest:00000000000000000000000000000000"
    with pytest.raises(exc.WSManFault, match="read-only"):
        client.put(settings)


def test_enumerate_pulls_several_pages_with_small_max_elements(client: Client, amt_device) -> None:
    before = amt_device.control.stats()["wsman_requests"]
    identities = client.enumerate(names.Cls.CIM_SoftwareIdentity, max_elements=2)
    ids = [item["InstanceID"] for item in identities]
    assert len(ids) == 11 and len(set(ids)) == 11
    assert {"AMT", "Flash", "Build Number", "Sku"} <= set(ids)
    # 11 items in pages of 2: the Enumerate carries 2, then 5 Pulls.
    assert amt_device.control.stats()["wsman_requests"] - before == 6


def test_enumerate_in_one_page_when_max_elements_is_large(client: Client, amt_device) -> None:
    before = amt_device.control.stats()["wsman_requests"]
    assert len(client.enumerate(names.Cls.CIM_SoftwareIdentity, max_elements=100)) == 11
    assert amt_device.control.stats()["wsman_requests"] - before == 1


def test_unoptimized_enumerate_then_pull(client: Client) -> None:
    items = client.enumerate_items(names.Cls.CIM_ComputerSystem, optimize=False, max_elements=1)
    assert [item.instance["Name"] for item in items if item.instance] == ["ManagedSystem", "Intel(r) AMT"]


def test_enumerate_eprs_returns_references_with_key_selectors(client: Client) -> None:
    references = client.enumerate_eprs(names.Cls.CIM_ComputerSystem)
    assert [ref.selectors for ref in references] == [{"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"},
                                                     {"CreationClassName": "CIM_ComputerSystem", "Name": "Intel(r) AMT"}]
    assert all(ref.resource_uri == "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem"
               for ref in references)


def test_enumerate_object_and_epr_mode_gives_both(client: Client) -> None:
    items = client.enumerate_items(names.Cls.CIM_ComputerSystem, mode=names.ENUM_MODE_OBJECT_AND_EPR,
                                   max_elements=1)
    assert len(items) == 2
    for item in items:
        assert item.instance is not None and item.epr is not None
        assert item.epr.selectors["Name"] == item.instance["Name"]


def test_a_reference_from_enumeration_addresses_a_get(client: Client) -> None:
    reference = client.enumerate_eprs(names.Cls.CIM_ComputerSystem)[1]
    assert client.get(reference.resource_uri, dict(reference.selectors))["Name"] == "Intel(r) AMT"


def test_invoke_returns_the_method_output(client: Client, amt_device) -> None:
    output = client.invoke(names.Cls.CIM_PowerManagementService, "RequestPowerStateChange",
                           {"PowerState": 11,  # Diagnostic Interrupt (NMI), DSP1027
                            "ManagedElement": EndpointReference(names.resource_uri(names.Cls.CIM_ComputerSystem),
                                                                names.MANAGED_SYSTEM_SELECTORS)},
                           names.POWER_SERVICE_SELECTORS)
    assert output.return_value == 0
    assert amt_device.control.power_history() == [PowerAction.NMI] == [11]


def test_invoke_with_nonzero_return_value_raises_amt_return_error(client: Client) -> None:
    with pytest.raises(exc.AMTReturnError) as caught:
        client.invoke(names.Cls.CIM_PowerManagementService, "RequestPowerStateChange", {"PowerState": 99})
    assert caught.value.return_value != 0
    assert caught.value.method == "RequestPowerStateChange"


def test_invoke_without_check_returns_the_nonzero_value(client: Client) -> None:
    output = client.invoke(names.Cls.CIM_PowerManagementService, "RequestPowerStateChange", {"PowerState": 99},
                           check=False)
    assert output.return_value != 0


def test_invoke_of_an_unknown_method_is_action_not_supported(client: Client) -> None:
    with pytest.raises(exc.WSManFault) as caught:
        client.invoke(names.Cls.CIM_PowerManagementService, "SelfDestruct")
    assert caught.value.subcode == "ActionNotSupported"


def test_internal_error_injected_by_class_is_a_fault_with_amt_status(client: Client, amt_device) -> None:
    amt_device.control.inject(internal_error_classes=[names.Cls.AMT_GeneralSettings])
    with pytest.raises(exc.WSManFault) as caught:
        client.get(names.Cls.AMT_GeneralSettings)
    assert (caught.value.subcode, caught.value.amt_status) == ("InternalError", 1)


def test_operation_timeout_below_30_seconds_is_refused_locally(amt_device) -> None:
    with pytest.raises(exc.LocalProtocolError, match="30 s"):
        Client(amt_device.host, port=amt_device.port, password=amt_device.password, operation_timeout=10)
    assert amt_device.control.stats()["http_requests"] == 0


def test_a_value_xml_cannot_carry_is_refused_locally(client: Client, amt_device) -> None:
    settings = client.get(names.Cls.AMT_GeneralSettings)
    settings.properties["HostName"] = "bad\x00name"
    requests_before = amt_device.control.stats()["http_requests"]
    with pytest.raises(exc.LocalProtocolError):
        client.put(settings)
    assert amt_device.control.stats()["http_requests"] == requests_before


def test_client_repr_names_host_port_and_user_but_not_the_password(client: Client, amt_device) -> None:
    text = repr(client)
    assert amt_device.host in text and str(amt_device.port) in text and "admin" in text
    assert amt_device.password not in text
